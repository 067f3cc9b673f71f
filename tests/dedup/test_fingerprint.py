"""Fingerprints: one tokenisation, everything the engine keeps, round-tripped through bytes."""

import os
from pathlib import Path

import numpy as np
import pytest

from dedup.config import EngineConfig
from dedup.fingerprint import FORMAT_VERSION, Fingerprint, check_compatible, fingerprint, flatten
from dedup.signatures import ParameterMismatchError, exact_hash, signature

CONFIG = EngineConfig()
ALICE_CODE = (Path(os.__file__).parent / "textwrap.py").read_text()


def test_it_agrees_with_the_signature_and_exact_hash_of_the_core():
    fp = fingerprint(ALICE_CODE, kind="code", language="python", config=CONFIG)
    sig = signature(ALICE_CODE, kind="code", language="python", config=CONFIG)
    assert fp.params == sig.params and fp.params.channel == "abstract"
    assert np.array_equal(fp.signature.hashvalues, sig.hashvalues)
    assert fp.exact_hash == exact_hash(ALICE_CODE, kind="code", language="python")
    assert np.all(np.diff(fp.shingles.astype(np.int64)) > 0)
    assert fp.num_lines == len(ALICE_CODE.splitlines())


def test_prose_uses_the_exact_channel():
    fp = fingerprint("The quick brown fox jumps over the lazy dog. " * 5, kind="prose", config=CONFIG)
    assert fp.params.channel == "exact"


@pytest.mark.parametrize("text", ["", ALICE_CODE])
def test_it_round_trips_through_bytes(text):
    fp = fingerprint(text, kind="code", language="python", config=CONFIG)
    back = Fingerprint.from_bytes(fp.to_bytes())
    assert back.params == fp.params and back.exact_hash == fp.exact_hash
    assert np.array_equal(back.shingles, fp.shingles) and np.array_equal(back.winnow, fp.winnow)
    assert np.array_equal(back.flat, fp.flat) and back.flat.shape[1] == fp.winnow.shape[1]
    assert np.array_equal(back.signature.hashvalues, fp.signature.hashvalues)
    assert (back.num_lines, back.num_tokens, back.num_chars) == (fp.num_lines, fp.num_tokens, fp.num_chars)
    assert fp.nbytes == len(fp.to_bytes())


def test_it_rejects_truncated_data_and_another_format_version():
    data = fingerprint(ALICE_CODE, kind="code", language="python", config=CONFIG).to_bytes()
    with pytest.raises(ValueError, match="bytes"):
        Fingerprint.from_bytes(data[:-4])
    with pytest.raises(ValueError, match="truncated"):
        Fingerprint.from_bytes(data[:3])
    with pytest.raises(ValueError, match="format version 99"):
        Fingerprint.from_bytes(data[:4] + (99).to_bytes(2, "little") + data[6:])
    with pytest.raises(ValueError, match=f"format version 1, this engine reads version {FORMAT_VERSION}"):
        Fingerprint.from_bytes(data[:4] + (1).to_bytes(2, "little") + data[6:])


@pytest.mark.parametrize(
    "other",
    [EngineConfig(num_perm=64), EngineConfig(seed=2), EngineConfig(shingle_size=4), EngineConfig(winnow_k=6)],
)
def test_a_params_mismatch_between_config_and_fingerprint_raises(other):
    fp = fingerprint(ALICE_CODE, kind="code", language="python", config=CONFIG)
    with pytest.raises(ParameterMismatchError):
        check_compatible(fp, other)


@pytest.mark.parametrize(
    ("text", "flat"),
    [
        ("x = 1\n", None),  # nothing spans lines: no flat reading
        ('s = """doc\nmore"""\n', 's = "x"doc\nmore"x"\n'),
        ("s = '''a\nb'''", "s = 'x'a\nb'x'"),
        ("t = `a\n${b}`", "t = 'a\n${b}'"),
        ("/* a\n b */ int x;", "// a\n b */ int x;"),
    ],
)
def test_the_flat_reading_keeps_lines_and_lengths(text, flat):
    assert flatten(text) == flat
    if flat is not None:
        assert len(flat) == len(text) and flat.count("\n") == text.count("\n")


def test_a_fragment_cut_inside_a_docstring_gets_a_flat_reading_with_its_code():
    # the sample starts inside a docstring: the normal reading takes the code for a string
    code = ["def alice(path):", "    return [p for p in path if p]", "x = alice(sys.path)"]
    text = "\n".join(["    the end of a docstring", '"""', *code, '"""Another docstring."""'])
    fp = fingerprint(text, kind="code", language="python", config=CONFIG)
    assert len(fp.flat) and not np.array_equal(fp.flat[:, 0], fp.winnow[:, 0])
    assert set(fp.flat[:, 2].tolist()) & {3, 4, 5}
    assert fingerprint("\n".join(code), kind="code", language="python", config=CONFIG).flat.shape == (0, 6)


@pytest.mark.parametrize(
    ("text", "language", "code_line"),
    [
        ('"""never closed\nx = compute(a, b)\n', "python", 2),
        ("/* never closed\nint x = compute(a, b);\n", "c", 2),
        ("const s = `never closed\nlet x = compute(a, b)\n", "javascript", 2),
    ],
)
def test_an_opener_that_is_never_closed_does_not_swallow_the_rest(text, language, code_line):
    from dedup.tokenize import tokenize

    toks = tokenize(text, kind="code", language=language)
    assert code_line in toks.line.tolist()  # the code after the opener is still tokenised
