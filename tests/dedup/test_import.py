"""The engine is framework-free: importing it must not pull in Django or the registry project."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(
    "dedup" if p.name == "__init__.py" else f"dedup.{p.stem}"
    for p in (ROOT / "dedup").glob("*.py")
    if p.name != "__main__.py"
)


@pytest.mark.parametrize("module", MODULES)
def test_importing_the_engine_leaves_django_and_registry_unloaded(module):
    script = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        "leaked = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'registry'))\n"
        "print(','.join(leaked))\n"
    )
    # The test runner sets DJANGO_SETTINGS_MODULE; a clean environment shows what dedup itself does.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == ""


def test_the_public_api_is_importable_from_the_package():
    import dedup

    for name in ("EngineConfig", "Tokens", "tokenize", "signature", "Signature", "minhash", "exact_hash"):
        assert name in dedup.__all__
        assert hasattr(dedup, name)
