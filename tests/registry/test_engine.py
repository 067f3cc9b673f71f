"""registry.engine: config from settings, fingerprints, and the process-level matcher cache."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from registry import engine
from registry.works.tasks import fingerprint_document
from tests.factories import DocumentFactory, WorkFactory

TEXTWRAP = (Path(sysconfig.get_paths()["stdlib"]) / "textwrap.py").read_text()
PROSE = (
    "Every programmer eventually keeps a garden of small tools, each shaped by the afternoon it was "
    "written in. Most of them are never shared: too particular, too rough at the edges, too obviously "
    "the work of someone thinking aloud. Yet the garden is where the craft is learned, because a tool "
    "written for oneself has no audience to perform for and shows plainly what its author understood."
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    engine.reset_matcher_cache()
    yield
    engine.reset_matcher_cache()


def ready_document(owner, text, kind, path):
    doc = DocumentFactory(work=WorkFactory(owner=owner, kind=kind), text=text, path=path, language="")
    if kind == "code":
        doc.language = engine.language_for_path(path) or ""
        doc.save(update_fields=["language"])
    assert fingerprint_document(doc.pk) == "ready"
    return doc


def test_the_engine_config_comes_from_settings_dedup(settings):
    settings.DEDUP = {**settings.DEDUP, "NUM_PERM": 64, "THRESHOLD": 0.8}
    config = engine.engine_config()
    assert (config.num_perm, config.threshold) == (64, 0.8)


def test_a_bad_setting_is_a_value_error_naming_the_field(settings):
    settings.DEDUP = {**settings.DEDUP, "NUM_PERM": 0}
    with pytest.raises(ValueError, match="num_perm"):
        engine.engine_config()


def test_a_fingerprint_round_trips_through_bytes():
    fp = engine.fingerprint_document_text(TEXTWRAP, "code", "python")
    again = engine.fingerprint_from_bytes(fp.to_bytes())
    assert again.exact_hash == fp.exact_hash and again.num_lines == fp.num_lines


def test_a_newly_fingerprinted_document_is_found_on_the_next_lookup(alice):
    assert engine.find_matches(PROSE) == []  # builds the (empty) cache
    doc = ready_document(alice, PROSE, "prose", "garden.txt")
    [hit] = engine.find_matches(PROSE)
    assert (hit.document_id, hit.work_id, hit.channel, hit.match.kind) == (
        doc.pk,
        doc.work_id,
        "prose",
        "exact",
    )


def test_a_deleted_document_is_no_longer_found(alice):
    doc = ready_document(alice, PROSE, "prose", "garden.txt")
    assert engine.find_matches(PROSE)
    doc.work.delete()
    assert engine.find_matches(PROSE) == []


def test_without_a_kind_a_snippet_is_read_both_as_code_and_as_prose(alice):
    code = ready_document(alice, TEXTWRAP, "code", "textwrap.py")
    prose = ready_document(alice, PROSE, "prose", "garden.txt")
    snippet = "\n".join(TEXTWRAP.splitlines()[300:340])
    assert [h.document_id for h in engine.find_matches(snippet)] == [code.pk]
    assert [h.document_id for h in engine.find_matches(PROSE)] == [prose.pk]
    assert engine.find_matches(snippet, kind="prose") == [] or all(
        h.channel == "prose" for h in engine.find_matches(snippet, kind="prose")
    )


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind must be one of code, prose"):
        engine.find_matches("x", kind="poetry")


def test_fingerprints_made_with_other_settings_are_left_out_not_crashed_on(alice, settings):
    ready_document(alice, PROSE, "prose", "garden.txt")
    settings.DEDUP = {**settings.DEDUP, "NUM_PERM": 64}
    assert engine.find_matches(PROSE) == []
