"""dedup.policy: the decision rule shared by the filter API and the offline filter."""

from __future__ import annotations

import json

import pytest

from dedup.policy import ALLOW, ATTRIBUTE, EXCLUDE, PURPOSES, Evidence, WorkPolicy, decide


def work(work_id="w1", *, attribution_required=False, **values) -> WorkPolicy:
    values = {key.replace("_", "-"): value for key, value in values.items()}
    return WorkPolicy(
        work_id=work_id,
        title=f"Work {work_id}",
        owner_name="Alice Example",
        licence="MIT",
        attribution=f"{work_id} by Alice",
        values=values,
        reasons={key: f"Stated '{value}' for this work." for key, value in values.items()}
        | ({"attribution": "Attribution stated."} if attribution_required else {}),
        attribution_required=attribution_required,
        locations=("github.com/alice/proj",),
    )


EXACT = Evidence(kind="exact", estimated=1.0, verified=1.0, sample_lines=((1, 10),), matched_chars=300)
SNIPPET = Evidence(kind="snippet", estimated=0.4, verified=0.9, sample_lines=((20, 34),), matched_chars=200)
AT_REPO = Evidence.at_location("github.com/alice/proj")


@pytest.mark.parametrize(
    ("policy", "purpose", "expected"),
    [
        (work(train_genai="no"), "train-genai", EXCLUDE),
        (work(train_genai="no"), "train-ai", ALLOW),
        (work(train_ai="no", train_genai="no"), "train-genai", EXCLUDE),  # resolved upstream
        (work(train_genai="yes"), "train-genai", ALLOW),
        (work(train_genai="unset"), "train-genai", ALLOW),
        (work(), "search", ALLOW),
        (work(attribution_required=True), "search", ATTRIBUTE),
        (work(attribution_required=True, search="no"), "search", EXCLUDE),
        (work(attribution_required=True, search="yes"), "search", ATTRIBUTE),
    ],
)
def test_one_work_decides_by_its_value_then_attribution(policy, purpose, expected):
    verdict = decide(purpose, [(policy, EXACT)])
    assert verdict.decision == expected
    assert [r.decision for r in verdict.reasons] == [expected]


def test_no_hits_allow_with_no_reasons():
    verdict = decide("train-ai", [])
    assert (verdict.decision, verdict.reasons) == (ALLOW, ())
    assert verdict.to_dict() == {"decision": "allow", "reasons": []}


def test_the_most_restrictive_work_wins_and_is_listed_first():
    hits = [
        (work("a"), EXACT),
        (work("b", attribution_required=True), SNIPPET),
        (work("c", ai_use="no"), AT_REPO),
    ]
    verdict = decide("ai-use", hits)
    assert verdict.decision == EXCLUDE
    assert [(r.work.work_id, r.decision) for r in verdict.reasons] == [
        ("c", EXCLUDE),
        ("b", ATTRIBUTE),
        ("a", ALLOW),
    ]


def test_the_evidence_of_one_work_is_merged_strongest_first():
    policy = work(train_ai="no")
    verdict = decide("train-ai", [(policy, AT_REPO), (policy, SNIPPET), (policy, SNIPPET)])
    [reason] = verdict.reasons
    assert reason.evidence == (SNIPPET, AT_REPO)


def test_equally_strong_evidence_is_listed_in_one_order_whatever_order_it_came_in():
    policy = work(train_ai="no")
    early = Evidence(kind="snippet", estimated=0.5, verified=0.9, sample_lines=((3, 20),), matched_chars=200)
    late = Evidence(kind="snippet", estimated=0.5, verified=0.9, sample_lines=((40, 57),), matched_chars=200)
    elsewhere = [Evidence.at_location(f"github.com/alice/{name}") for name in ("b", "a")]

    one = decide("train-ai", [(policy, e) for e in (late, early, *elsewhere)])
    other = decide("train-ai", [(policy, e) for e in (*reversed(elsewhere), early, late)])

    assert one.reasons[0].evidence == other.reasons[0].evidence == (early, late, *reversed(elsewhere))


def test_evidence_equally_strong_on_the_same_lines_is_listed_higher_estimate_first():
    # two files of one work matched by the same lines of the caller's document, one of them
    # sharing more of the document's fingerprints
    policy = work(train_ai="no")
    closer = Evidence(
        kind="snippet", estimated=0.4466, verified=1.0, sample_lines=((5, 7),), matched_chars=456
    )
    farther = Evidence(
        kind="snippet", estimated=0.4369, verified=1.0, sample_lines=((5, 7),), matched_chars=456
    )

    for order in ((closer, farther), (farther, closer)):
        [reason] = decide("train-ai", [(policy, e) for e in order]).reasons
        assert reason.evidence == (closer, farther)


def test_a_reason_names_the_deciding_statement():
    [reason] = decide("train-ai", [(work(train_ai="no"), EXACT)]).reasons
    assert (reason.key, reason.value, reason.statement) == ("train-ai", "no", "Stated 'no' for this work.")
    [reason] = decide("search", [(work(attribution_required=True), EXACT)]).reasons
    assert (reason.key, reason.value, reason.statement) == ("attribution", "yes", "Attribution stated.")
    [reason] = decide("search", [(work(), EXACT)]).reasons
    assert (reason.key, reason.value, reason.statement) == ("search", "unset", "No preference stated.")


@pytest.mark.parametrize("purpose", ["train", "", "TRAIN-AI", None, "attribution"])
def test_an_unknown_purpose_is_a_value_error_listing_the_known_ones(purpose):
    with pytest.raises(ValueError, match="the purposes are: train-ai, train-genai, ai-use, search"):
        decide(purpose, [])


def test_a_snapshot_may_bring_its_own_purpose_list():
    assert decide("new-use", [(work(new_use="no"), EXACT)], purposes=("new-use",)).decision == EXCLUDE


def test_a_work_policy_round_trips_through_json():
    policy = work(train_ai="no", attribution_required=True)
    again = WorkPolicy.from_dict(json.loads(json.dumps(policy.to_dict())))
    assert again == policy


def test_from_dict_ignores_unknown_keys_and_needs_a_work_id():
    assert WorkPolicy.from_dict({"work_id": "w", "future": 1}).work_id == "w"
    with pytest.raises(ValueError, match="work_id"):
        WorkPolicy.from_dict({"title": "x"})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"work_id": ""}, "work_id"),
        ({"work_id": "w", "values": {"train-ai": "maybe"}}, "values"),
    ],
)
def test_a_bad_work_policy_is_a_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        WorkPolicy(**kwargs)


def test_evidence_serialises_without_text_and_with_its_scope():
    assert EXACT.to_dict() == {
        "type": "exact",
        "scope": "document",
        "estimated": 1.0,
        "verified": 1.0,
        "lines": [[1, 10]],
        "matched_chars": 300,
        "location": None,
    }
    assert SNIPPET.scope == "snippet" and AT_REPO.scope == "location"
    with pytest.raises(ValueError, match="kind"):
        Evidence(kind="fuzzy")


def test_evidence_comes_from_an_engine_match():
    from dedup.matcher import Match

    m = Match(doc_id=3, kind="near-duplicate", estimated=0.81, verified=0.78, sample_lines=((1, 40),),
              doc_lines=((1, 41),), matched_chars=900)  # fmt: skip
    ev = Evidence.from_match(m)
    assert (ev.kind, ev.estimated, ev.verified, ev.sample_lines, ev.matched_chars) == (
        "near-duplicate", 0.81, 0.78, ((1, 40),), 900
    )  # fmt: skip


def test_the_purposes_are_the_usage_categories():
    assert PURPOSES == ("train-ai", "train-genai", "ai-use", "search")
