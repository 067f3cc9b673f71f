"""``python -m dedup register``: register a folder with a registry by its fingerprints only.

    export REGISTRY_API_KEY=rk_...        # an API key with the "author" scope
    python -m dedup register src/ --server https://registry.example.org \\
        --title "My project" --licence MIT --location https://github.com/me/project

The folder is fingerprinted on this machine with the engine parameters the server announces;
only the fingerprints, file paths, languages and sizes are uploaded, never the files' text. The
key is read from an environment variable (``--key-env``, default ``REGISTRY_API_KEY``) and never
taken on the command line, where it would end up in the shell's history and in ``ps``.

Exit status: 0 registered, 1 the server refused or could not be reached, 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from dedup.client import Client, RegistryError
from dedup.folder_fingerprints import build_fingerprint_payload

DEFAULT_KEY_ENV = "REGISTRY_API_KEY"
PREFERENCE_VALUES = ("yes", "no", "unset")

EPILOG = """\
examples:
  export REGISTRY_API_KEY=rk_...    # an API key with the author scope
  python -m dedup register src/ --server https://registry.example.org --title "My project"
  python -m dedup register docs/ --server URL --title "Handbook" --kind prose \\
      --licence CC-BY-4.0 --attribution "Jo Bloggs, The Handbook" --pref train-genai=no
  python -m dedup register src/ --server URL --title "My project" --dry-run

Only fingerprints are uploaded; the text of the files never leaves this machine.
exit status: 0 registered, 1 refused by the server or unreachable, 2 bad usage or input.
"""


class RemoteUsageError(Exception):
    """Bad usage of `register`: one ``error:`` line, exit status 2."""


def add_register_command(commands) -> None:
    """Add ``register`` to the ``python -m dedup`` subcommands (called from dedup/cli.py)."""
    register = commands.add_parser(
        "register",
        help="register a folder with a registry, uploading fingerprints only",
        description="Fingerprint a folder here and register it as one work with a registry. "
        "Only fingerprints are uploaded: the files' text never leaves this machine.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    register.add_argument("folder", metavar="FOLDER", help="the folder (or file) to register")
    register.add_argument("--server", required=True, metavar="URL", help="the registry's address")
    register.add_argument(
        "--key-env",
        default=DEFAULT_KEY_ENV,
        metavar="NAME",
        help=f"environment variable holding the API key (default: {DEFAULT_KEY_ENV})",
    )
    register.add_argument("--title", required=True, help="the work's title")
    register.add_argument("--kind", choices=("code", "prose"), default="code", help="default: code")
    register.add_argument("--licence", default="", metavar="SPDX", help="an SPDX licence expression")
    register.add_argument("--attribution", default="", metavar="TEXT", help="what users should show")
    register.add_argument(
        "--location", action="append", default=[], metavar="URL", help="a canonical location (repeatable)"
    )
    register.add_argument(
        "--language", default=None, help="one language for every file (default: from each extension)"
    )
    register.add_argument(
        "--pref",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a preference for this work, e.g. train-genai=no (repeatable)",
    )
    register.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS")
    register.add_argument(
        "--dry-run", action="store_true", help="fingerprint and show what would be sent, upload nothing"
    )
    register.add_argument("--json", action="store_true", help="print the registered work as JSON")
    register.set_defaults(run=run_register)


def _preferences(pairs: list[str]) -> dict[str, str]:
    prefs = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key or value not in PREFERENCE_VALUES:
            raise RemoteUsageError(
                f"--pref {pair!r}: expected KEY=VALUE with VALUE one of {', '.join(PREFERENCE_VALUES)}"
            )
        prefs[key.strip()] = value
    return prefs


def run_register(args: argparse.Namespace) -> int:
    try:
        return _register(args)
    except RemoteUsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RegistryError as exc:
        print(f"error: {_describe(exc)}", file=sys.stderr)
        return 2 if exc.status is None and exc.code != "connection_error" else 1


def _describe(exc: RegistryError) -> str:
    detail = exc.detail
    errors = exc.body.get("errors") if exc.body else None
    if errors:
        detail += " " + "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in errors.items())
    return f"{exc.code}: {detail}"


def _register(args: argparse.Namespace) -> int:
    key = os.environ.get(args.key_env, "").strip()
    if not key:
        raise RemoteUsageError(
            f"the environment variable {args.key_env} is not set; export your API key there "
            "(keys are never taken on the command line)"
        )
    folder = Path(args.folder)
    if not folder.exists():
        raise RemoteUsageError(f"{args.folder}: no such file or directory")
    metadata = {
        "licence": args.licence,
        "attribution": args.attribution,
        "locations": args.location,
    }
    prefs = _preferences(args.pref)
    if prefs:
        metadata["preferences"] = prefs
    client = Client(args.server, api_key=key, timeout=args.timeout)
    if args.dry_run:
        params = client.fingerprint_params()
        payload, skipped = build_fingerprint_payload(
            folder, params, title=args.title, kind=args.kind, language=args.language, **metadata
        )
        body = json.dumps(payload, separators=(",", ":")).encode()
        print(f"would upload {len(payload['documents'])} fingerprints ({len(body)} bytes), no text")
        for doc in payload["documents"]:
            print(f"  {doc['path']}  {doc['language'] or '-'}  {doc['size_bytes']} bytes")
        _print_skipped(skipped)
        return 0
    work = client.register_fingerprints(
        folder, title=args.title, kind=args.kind, language=args.language, **metadata
    )
    if args.json:
        print(json.dumps(work, indent=2))
        return 0
    counts = work.get("documents_count", {})
    print(
        f"registered {work['title']!r} as {work['id']}: {counts.get('total', 0)} documents, "
        f"state {work['state']}; only fingerprints were uploaded"
    )
    _print_skipped(work.get("import_report", {}).get("skipped", []))
    return 0


def _print_skipped(skipped: list[dict]) -> None:
    if skipped:
        print(f"skipped {len(skipped)}:", file=sys.stderr)
        for item in skipped[:20]:
            print(f"  {item['path']}: {item['reason']}", file=sys.stderr)
        if len(skipped) > 20:
            print(f"  ... and {len(skipped) - 20} more", file=sys.stderr)
