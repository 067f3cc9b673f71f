"""dedup.client and dedup.integrations against the real registry over real HTTP (live_server).

The client itself never imports Django; these tests need it only to run the server. The one
boundary faked is waiting: each Client gets a `sleep` that records how long it was asked to wait
(and, for the rate limit, ends the key's minute as waiting would have).

alice registers works with an `author` key; carol builds datasets with a `filter` key.
"""

from __future__ import annotations

import json

import pytest

from dedup.client import Client, RegistryError
from tests.registry.apikeys import builders
from tests.registry.works.builders import PYTHON_FILE, make_zip
from tests.registry.works.conftest import PROSE

UNRELATED = (
    "Mix the flour with the butter until it looks like breadcrumbs, then add cold water a spoon at "
    "a time. Rest the dough for half an hour before rolling it out on a floured board."
)


class Sleeps(list):
    """A fake `sleep`: records each wait; `then` runs what the passing time would have done."""

    def __init__(self, then=None):
        super().__init__()
        self.then = then

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        if self.then is not None:
            self.then()


@pytest.fixture(autouse=True)
def _fresh_matcher_cache():
    from registry import engine

    engine.reset_matcher_cache()
    yield
    engine.reset_matcher_cache()


@pytest.fixture
def alice_key(alice):
    return builders.api_key(user=alice, scope="author", name="alice's laptop")[1]


@pytest.fixture
def carol_key(carol):
    return builders.api_key(user=carol, scope="filter", name="crawler")[1]


@pytest.fixture
def alice_client(live_server, alice_key):
    return Client(live_server.url, alice_key, timeout=30, sleep=Sleeps())


@pytest.fixture
def carol_client(live_server, carol_key):
    return Client(live_server.url, carol_key, timeout=60, sleep=Sleeps())


def spy_on_requests(client: Client) -> list[tuple[str, str, bytes | None]]:
    """Record (method, url, body) of every request the client sends, then send it for real."""
    sent = []
    send = client._send

    def recording(method, url, body, headers):
        sent.append((method, url, body))
        return send(method, url, body, headers)

    client._send = recording
    return sent


# --- authors ----------------------------------------------------------------------------------


def test_alice_registers_reads_sets_preferences_and_deletes_through_the_client(alice_client):
    work = alice_client.register_text(
        PROSE, title="The ledger", licence="MIT", preferences={"train-ai": "no"}
    )
    assert (work["title"], work["licence"]) == ("The ledger", "MIT")
    assert [w["id"] for w in alice_client.works()] == [work["id"]]
    assert alice_client.works(include_documents=True)[0]["documents"][0]["state"] == "ready"
    assert alice_client.work(work["id"], include_text=True)["documents"][0]["text"] == PROSE

    changed = alice_client.set_preferences({"search": "no"}, work["id"], note="no indexing")
    assert [(s["key"], s["value"]) for s in changed["recorded"]] == [("search", "no")]
    assert alice_client.preferences(work["id"])["values"]["train-ai"] == "no"
    alice_client.set_preferences({"attribution": "yes"})  # her default
    assert alice_client.preferences()["values"]["attribution"] == "yes"

    alice_client.delete_work(work["id"])
    assert alice_client.works() == []
    with pytest.raises(RegistryError) as info:
        alice_client.work(work["id"])
    assert (info.value.code, info.value.status) == ("not_found", 404)


def test_alice_uploads_an_archive_and_sees_what_was_skipped(alice_client, tmp_path):
    archive = tmp_path / "repo.zip"
    archive.write_bytes(make_zip({"repo/stats.py": PYTHON_FILE, "repo/logo.png": b"\x89PNG\x00\x01"}))
    work = alice_client.register_file(archive, title="Repo", locations=["github.com/alice/repo"])
    assert work["source"] == "archive"
    assert work["import_report"]["skipped"] == [{"path": "repo/logo.png", "reason": "binary file"}]


def test_api_errors_are_raised_as_registry_errors_with_their_code(alice_client, carol_client, tmp_path):
    with pytest.raises(RegistryError) as info:
        alice_client.register_text(PROSE, title="x", licence="Foo-1.0")
    assert (info.value.code, info.value.status) == ("invalid_licence", 400)
    assert info.value.body["errors"]["licence"][0].startswith("Unknown SPDX licence identifier: Foo-1.0.")

    evil = tmp_path / "evil.zip"
    evil.write_bytes(make_zip({"../evil.py": PYTHON_FILE}))
    with pytest.raises(RegistryError) as info:
        alice_client.register_file(evil, title="x")
    assert (info.value.code, info.value.body["reason"]) == ("archive_rejected", "path_traversal")

    with pytest.raises(RegistryError) as info:
        carol_client.works()
    assert (info.value.code, info.value.status) == ("insufficient_scope", 403)
    assert carol_client.sleep == []  # a 4xx other than 429 is never retried


# --- registering by fingerprints: the text stays on the machine -------------------------------


def test_register_fingerprints_uploads_no_text_and_the_work_is_ready(alice, alice_client, tmp_path):
    from registry.works.models import Document

    folder = tmp_path / "project"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "stats.py").write_bytes(PYTHON_FILE)
    (folder / "README.md").write_text(PROSE)
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    sent = spy_on_requests(alice_client)
    built = []

    work = alice_client.register_fingerprints(
        folder,
        title="Private project",
        licence="MIT",
        on_payload=built.append,
        preferences={"train-ai": "no"},
    )

    assert (work["state"], work["storage"]) == ("ready", "fingerprints")
    assert work["import_report"]["skipped"] == [{"path": "logo.png", "reason": "binary"}]
    docs = Document.objects.filter(work__owner=alice).order_by("path")
    assert [(d.path, d.language, d.state) for d in docs] == [
        ("README.md", "", "ready"),
        ("src/stats.py", "python", "ready"),
    ]
    assert all(d.text is None and d.pending_text is None for d in docs)
    # What went over the wire: one GET for the parameters, one POST of the body the client built.
    assert [(method, url.rsplit("/api/v1/", 1)[1]) for method, url, _ in sent] == [
        ("GET", "works/fingerprints"),
        ("POST", "works/fingerprints"),
    ]
    [body] = built
    assert sent[1][2] == body
    payload = json.loads(body)
    assert sorted(payload) == ["documents", "kind", "licence", "preferences", "skipped", "title"]
    assert [sorted(d) for d in payload["documents"]] == [
        ["fingerprint", "language", "path", "size_bytes"]
    ] * 2
    for line in [*PYTHON_FILE.decode().splitlines(), *PROSE.splitlines()]:
        if len(line.strip()) > 8:
            assert line.strip().encode() not in body, f"source text leaked: {line!r}"


def test_the_cli_registers_a_folder_with_the_key_from_the_environment(
    alice, live_server, alice_key, tmp_path, monkeypatch, capsys
):
    from dedup.cli import main
    from registry.works.models import Work

    (tmp_path / "stats.py").write_bytes(PYTHON_FILE)
    monkeypatch.setenv("MY_REGISTRY_KEY", alice_key)
    status = main(["register", str(tmp_path), "--server", live_server.url, "--key-env", "MY_REGISTRY_KEY",
                   "--title", "Stats", "--licence", "MIT", "--pref", "train-genai=no"])  # fmt: skip
    out = capsys.readouterr()
    assert status == 0, out.err
    work = Work.objects.get(owner=alice)
    assert f"registered 'Stats' as {work.public_id}: 1 documents, state ready" in out.out
    assert alice_key not in out.out + out.err
    assert work.preference_statements.get().value == "no"


def test_the_cli_refuses_to_run_without_the_key_variable(tmp_path, monkeypatch, capsys):
    from dedup.cli import main

    monkeypatch.delenv("REGISTRY_API_KEY", raising=False)
    status = main(["register", str(tmp_path), "--server", "http://127.0.0.1:9", "--title", "x"])
    assert status == 2
    assert capsys.readouterr().err.startswith("error: the environment variable REGISTRY_API_KEY is not set")


# --- dataset builders: batching and retries ----------------------------------------------------


def test_filter_splits_2500_documents_into_3_requests_and_keeps_the_order(carol_client):
    sent = spy_on_requests(carol_client)
    results = carol_client.filter(
        [{"id": f"doc-{i}", "text": f"document number {i}"} for i in range(2500)], purpose="train-ai"
    )
    assert [len(json.loads(body)["documents"]) for _, _, body in sent] == [1000, 1000, 500]
    assert [r["id"] for r in results] == [f"doc-{i}" for i in range(2500)]
    assert {r["decision"] for r in results} == {"allow"}


def test_a_429_is_retried_after_the_servers_retry_after(live_server, carol):
    from django.core.cache import cache

    _key, full = builders.api_key(user=carol, scope="filter", name="slow", rate_limit_per_minute=2)
    sleeps = Sleeps(then=cache.clear)  # waiting out Retry-After ends the key's minute
    client = Client(live_server.url, full, max_retries=3, sleep=sleeps)
    client.me()
    client.me()
    assert client.me()["name"] == "slow"  # the third one was throttled, waited for, and retried
    [waited] = sleeps
    assert 1 <= waited <= 60


def test_a_retry_after_longer_than_max_wait_is_raised_at_once(live_server, carol):
    _key, full = builders.api_key(user=carol, scope="filter", name="slow", rate_limit_per_minute=2)
    client = Client(live_server.url, full, max_retries=3, max_wait=0.5, sleep=Sleeps())
    client.me()
    client.me()
    with pytest.raises(RegistryError) as info:
        client.me()
    assert (info.value.code, info.value.status) == ("rate_limited", 429)
    assert info.value.body["retry_after"] >= 1
    assert client.sleep == []


def test_connection_errors_are_retried_with_backoff_then_raised(db):
    client = Client("http://127.0.0.1:9", "rk_x", max_retries=3, backoff=0.25, sleep=Sleeps())
    with pytest.raises(RegistryError) as info:
        client.me()
    assert (info.value.code, info.value.status) == ("connection_error", None)
    assert client.sleep == [0.25, 0.5, 1.0]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried_and_other_errors_are_not(live_server, carol_key, status):
    # A proxy in front of the registry answers these; the scripted first answer stands in for it.
    from dedup.client import _Answer

    client = Client(live_server.url, carol_key, max_retries=2, backoff=0.1, sleep=Sleeps())
    send = client._send
    answers = iter([_Answer(status, {}, b"<html>bad gateway</html>")])
    client._send = lambda *a: next(answers, None) or send(*a)
    assert client.me()["scope"] == "filter"
    assert client.sleep == [0.1]


def test_a_write_is_not_retried_after_a_gateway_timeout(live_server, alice_key):
    from dedup.client import _Answer

    client = Client(live_server.url, alice_key, max_retries=2, sleep=Sleeps())
    client._send = lambda *a: _Answer(504, {}, b"")
    with pytest.raises(RegistryError) as info:
        client.register_text(PROSE, title="x")
    assert (info.value.code, info.value.status) == ("http_error", 504)
    assert client.sleep == []


# --- the datasets / pandas helper --------------------------------------------------------------


@pytest.fixture
def opted_out(alice_client):
    """alice's text, registered with "no" for generative AI training."""
    return alice_client.register_text(PROSE, title="The ledger", preferences={"train-genai": "no"})


def test_registry_filter_drops_opted_out_rows_from_a_hugging_face_dataset(carol_client, opted_out):
    datasets = pytest.importorskip("datasets")
    from dedup.integrations import registry_annotate, registry_filter

    dataset = datasets.Dataset.from_dict({"text": [PROSE, UNRELATED], "source": ["ledger", "recipe"]})
    keep = registry_filter(carol_client, purpose="train-genai", text_column="text")
    kept = dataset.filter(keep, batched=True, batch_size=1000)
    assert kept["source"] == ["recipe"]
    assert dataset.filter(keep)["source"] == ["recipe"]  # one example at a time works too

    annotated = dataset.map(registry_annotate(carol_client, "train-genai"), batched=True)
    assert annotated["registry_decision"] == ["exclude", "allow"]
    [reason] = json.loads(annotated["registry_reasons"][0])
    assert reason["work"]["title"] == "The ledger"


def test_registry_filter_masks_and_filters_a_pandas_dataframe(carol_client, opted_out):
    pd = pytest.importorskip("pandas")
    from dedup.integrations import filter_dataframe, registry_filter

    df = pd.DataFrame({"text": [UNRELATED, PROSE, UNRELATED]}, index=[10, 20, 30])
    keep = registry_filter(carol_client, purpose="train-genai")
    assert keep.mask(df).tolist() == [True, False, True]
    assert list(df[keep.mask(df)].index) == [10, 30]

    out = filter_dataframe(carol_client, df, "train-genai", add_columns=True)
    assert list(out.index) == [10, 30]
    assert out["registry_decision"].tolist() == ["allow", "allow"]
    # A purpose the author did not refuse keeps every row.
    assert len(filter_dataframe(carol_client, df, "search")) == 3
