"""The labelled set's rule for edited copies: an aligned token run with 150 identical characters."""

from __future__ import annotations

import pytest

from tests.bench import aligned, labelled

# A test method pasted into a sibling test file and given new names: every line is the same
# text except the names, so no verbatim run reaches 150 characters.
BOB_TESTS = """
import unittest


class SourceTests(unittest.TestCase):
    @unittest.skipIf(sys.flags.ignore_environment, 'ignore_environment flag was set')
    def test_sensitive(self):
        with os_helper.EnvironmentVarGuard() as env:
            env.unset('PYTHONCASEOK')
            self.caseok_env_changed(should_exist=False)
            sensitive, insensitive = self.sensitivity_test()
            self.assertIsNotNone(sensitive)
            self.assertIn(self.name, sensitive.get_filename(self.name))
"""

ALICE_PASTED = """
class ExtensionTests(unittest.TestCase):
    def find_spec(self):
        return self.finder.find_spec(self.bad_name)

    @unittest.skipIf(sys.flags.ignore_environment, 'ignore_environment flag was set')
    def test_case_sensitive(self):
        with os_helper.EnvironmentVarGuard() as env:
            env.unset('PYTHONCASEOK')
            self.caseok_env_changed(should_exist=False)
            spec = self.find_spec()
            self.assertIsNone(spec)
"""

# The same code as BOB_TESTS with a token put into every line: the two sides never advance
# together for long, so this is not one copied run (the engine's chaining may still join it).
ALICE_INTERLEAVED = """
class Other(unittest.TestCase):
    @unittest.skipIf(not sys.flags.ignore_environment, 'ignore_environment flag was set')
    async def test_sensitive(self):
        async with os_helper.EnvironmentVarGuard() as env:
            await env.unset('PYTHONCASEOK')
            await self.caseok_env_changed(should_exist=False)
            sensitive, insensitive = await self.sensitivity_test()
            await self.assertIsNotNone(sensitive)
            await self.assertIn(self.name, sensitive.get_filename(self.name))
"""


def _defines(prefix: str, n: int, start: int) -> str:
    return "".join(f"#define {prefix}_{name} {start + i}\n" for i, name in enumerate(labelled.WORDS[:n]))


def _related(query: str, registered: list[str], language: str = "python") -> int:
    runs = aligned.AlignedRuns([aligned.code_tokens(t, language) for t in registered])
    return runs.find(aligned.code_tokens(query, language))


def test_a_pasted_and_renamed_test_method_is_related_though_no_verbatim_run_reaches_150_chars():
    from tests.bench import overlap

    verbatim = overlap.SharedRuns([overlap.verbatim_view(BOB_TESTS)])

    assert verbatim.find(overlap.verbatim_view(ALICE_PASTED)) == -1
    assert _related(ALICE_PASTED, ["x = 1\n" * 20, BOB_TESTS]) == 1


def test_a_token_inserted_in_every_line_breaks_the_run():
    assert _related(ALICE_INTERLEAVED, [BOB_TESTS]) == -1


def test_two_lists_of_defines_align_but_share_too_little_text_to_be_a_copy():
    alice = _defines("NFULA_ATTR", 20, 0)
    bob = _defines("TC_ACT_FLAG", 20, 100)

    assert _related(alice, [bob], "c") == -1


def test_the_same_defines_with_other_values_are_a_copy():
    # names long enough that "#define NAME" is a seed (SEED_CHARS); see the module's blind spot
    alice = _defines("NETFILTER_ULOG_ATTRIBUTE", 20, 0)
    bob = _defines("NETFILTER_ULOG_ATTRIBUTE", 20, 100)

    assert _related(alice, [bob], "c") == 0


@pytest.mark.parametrize(("identical", "related"), [(149, False), (150, True), (151, True)])
def test_a_run_is_related_exactly_from_150_identical_characters(identical, related):
    # identical tokens of 10 characters, one renamed 1-character token between each pair
    n, rest = divmod(identical, 10)
    shared = [f"{'abcdefghij'[k % 10]}" * 10 for k in range(n)] + (["z" * rest] if rest else [])
    bob, alice = [], []
    for k, tok in enumerate(shared):
        bob += [tok, "b"]
        alice += [tok, "a" if k % 2 else "c"]
    bob = ["(", ")", *bob[:-1], "{", "}"]
    alice = ["[", "]", *alice[:-1], "<", ">"]

    found = aligned.AlignedRuns([bob], seed_chars=8).find(alice)

    assert found == (0 if related else -1)


@pytest.mark.parametrize(
    ("differing", "related"),
    [(1, True), (aligned.MAX_SUBSTITUTED, True), (aligned.MAX_SUBSTITUTED + 1, False)],
)
def test_a_run_bridges_at_most_two_differing_tokens_in_a_row(differing, related):
    left = ["x" * 40, "y" * 40]
    right = ["u" * 40, "v" * 40]
    bob = [*left, *(["b"] * differing), *right]
    alice = [*left, *(["a"] * differing), *right]

    assert aligned.AlignedRuns([bob]).find(alice) == (0 if related else -1)


@pytest.mark.parametrize(("renamed_chars", "related"), [(12, False), (8, True)])
def test_half_the_run_must_be_identical_text(renamed_chars, related):
    # 160 identical characters, each 10 followed by one renamed token: 12 characters long, every
    # stretch from identical text to identical text is mostly renamed (160 vs 180); 8 long, not
    bob, alice = [], []
    for k in range(16):
        bob += ["s" * 10, f"B{k:02d}".ljust(renamed_chars, "b")]
        alice += ["s" * 10, f"A{k:02d}".ljust(renamed_chars, "a")]

    assert aligned.AlignedRuns([bob], seed_chars=10).find(alice) == (0 if related else -1)


def test_a_triple_quote_of_the_other_kind_inside_a_docstring_does_not_end_it():
    text = '"""Fixer for raise.\n\nraise (E, E\'\'\'), V -> raise E(V)\nstill docstring\n"""\nx = 1\n'

    assert labelled.code_lines(text, "python") == [True, False, False, False, False, True]


def test_comments_beside_the_code_do_not_hide_a_copy():
    # Tk copied this block from Tcl and dropped the comments after the preprocessor lines
    tcl = """
#ifndef NO_FD_SET
#   define SELECT_MASK\tfd_set
#else /* NO_FD_SET */
#   ifndef _AIX
\ttypedef long\tfd_mask;
#   endif /* !AIX */
#   if defined(_IBMR2)
#\tdefine SELECT_MASK\tvoid
#   else /* !defined(_IBMR2) */
#\tdefine SELECT_MASK\tint
#   endif /* defined(_IBMR2) */
#endif /* !NO_FD_SET */
"""
    tk = "\n".join(line.split("/*")[0].rstrip() for line in tcl.splitlines()) + "\n"

    assert aligned.code_tokens(tk, "c") == aligned.code_tokens(tcl, "c")
    assert _related(tk, [tcl], "c") == 0
    assert aligned.code_tokens('url = "http://x"  # a link\n', "python") == ["url", "=", '"http://x"']
