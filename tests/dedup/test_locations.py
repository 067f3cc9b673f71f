"""dedup.locations: the one normaliser of URLs, repositories and domains (server and offline)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dedup.locations import (
    InvalidLocation,
    LocationIndex,
    lookup_keys,
    normalise_location,
    parent_keys,
    path_of,
)


@pytest.mark.parametrize(
    ("raw", "kind", "normalised"),
    [
        ("example.org", "domain", "example.org"),
        ("https://www.Example.org/", "domain", "example.org"),
        ("http://example.org.", "domain", "example.org"),
        ("https://example.org/Blog/Post/", "url", "example.org/Blog/Post"),
        ("https://example.org/a?b=1#frag", "url", "example.org/a?b=1"),
        ("https://example.org:8443/a", "url", "example.org:8443/a"),
        ("https://github.com/alice/proj", "repository", "github.com/alice/proj"),
        ("https://github.com/alice/proj.git", "repository", "github.com/alice/proj"),
        ("git@github.com:alice/proj.git", "repository", "github.com/alice/proj"),
        ("https://git.example.org/team/tool.git", "repository", "git.example.org/team/tool"),
        ("https://github.com/alice/proj/blob/main/x.py", "url", "github.com/alice/proj/blob/main/x.py"),
        ("  localhost:8000/x  ", "url", "localhost:8000/x"),
        ("http://192.168.1.10/x", "url", "192.168.1.10/x"),
        ("https://bücher.example/", "domain", "xn--bcher-kva.example"),
    ],
)
def test_it_normalises_each_kind_of_location(raw, kind, normalised):
    assert normalise_location(raw) == (kind, normalised)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "http://exa mple",
        "https://exa mple.org/x",
        "ftp://example.org/x",
        "not-a-domain",
        "https://example.org:99999/x",
        "http://[::1",
        "https://-bad-.org",
        "https://example.123",
        "https://300.1.1.1/x",
        "https://example.org/\x00",
        "x" * 3000 + ".org",
    ],
)
def test_it_refuses_what_is_not_a_location_with_a_value_error(raw):
    with pytest.raises(InvalidLocation, match="is not a valid URL or domain"):
        normalise_location(raw)


def test_a_non_string_is_refused():
    with pytest.raises(InvalidLocation, match="must be text"):
        normalise_location(5)  # type: ignore[arg-type]


def test_lookup_keys_are_the_location_its_parents_and_its_host_most_specific_first():
    assert lookup_keys("https://github.com/alice/proj/blob/main/x.py?raw=1") == [
        "github.com/alice/proj/blob/main/x.py?raw=1",
        "github.com/alice/proj/blob/main/x.py",
        "github.com/alice/proj/blob/main",
        "github.com/alice/proj/blob",
        "github.com/alice/proj",
        "github.com/alice",
        "github.com",
    ]
    assert parent_keys("example.org") == ["example.org"]


@pytest.mark.parametrize(
    ("normalised", "path"),
    [("example.org", "/"), ("example.org/blog/post", "/blog/post"), ("example.org/a?b=1", "/a")],
)
def test_path_of_gives_the_path_robots_txt_uses(normalised, path):
    assert path_of(normalised) == path


def test_the_index_finds_every_work_registered_above_a_url():
    index = LocationIndex([("github.com/alice/proj", "w1"), ("github.com", "w2"), ("example.org", "w3")])
    assert index.match("https://github.com/alice/proj/blob/main/x.py") == [
        ("github.com/alice/proj", "w1"),
        ("github.com", "w2"),
    ]
    assert index.match("not a url") == [] and index.match(None) == [] and index.match("") == []


def test_it_does_not_import_django():
    code = "import sys, dedup.locations, dedup.policy; print('django' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
