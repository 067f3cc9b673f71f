"""The command line: ``python -m dedup COMMAND``, its parser, and how errors reach the user.

The commands live beside their subject: ``index build``, ``index info`` and ``scan`` in
:mod:`dedup.index_cli`, ``register`` in :mod:`dedup.remote`, ``snapshot`` and ``filter`` in
:mod:`dedup.offline`. Each adds its parsers here and carries its runner (``set_defaults(run=...)``).

Expected failures (a missing path, a bad option value, a directory that is not an index) print one
``error: ...`` line on stderr and exit with status 2; a failure while working (disk full, ...)
exits with status 1. Neither prints a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dedup import offline
from dedup.io import FORMATS, InputError
from dedup.remote import add_register_command

EPILOG = """\
examples:
  python -m dedup index build src/ --out registry.idx
  python -m dedup index build corpus.jsonl --out registry.idx --kind prose --text-field body
  python -m dedup scan submissions/ --index registry.idx --output matches.jsonl
  python -m dedup scan dump.parquet --index registry.idx --output - --output-format csv
  python -m dedup index info registry.idx

exit status: 0 success, 1 failure while working, 2 bad usage or input.
"""


class UsageError(Exception):
    """Bad input from the user: reported as one ``error:`` line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one ``error: ...`` line instead of a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog="python -m dedup",
        description="Find exact copies, near-duplicates and copied snippets of registered documents.",
        epilog=EPILOG,
        formatter_class=fmt,
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or summary")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    from dedup import index_cli  # here, not at the top: it imports this module

    index_cli.add_commands(commands, fmt)  # index build|info, scan
    add_register_command(commands)  # python -m dedup register (dedup/remote.py)
    offline.add_commands(commands, fmt)  # snapshot pull|info|merge, filter (dedup/offline.py)
    return parser


def _add_input_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="files, folders, .jsonl or .parquet files")
    parser.add_argument(
        "--format", choices=FORMATS, default="auto", help="input format (default: auto, by extension)"
    )
    parser.add_argument(
        "--text-field",
        default="text",
        metavar="NAME",
        help="JSONL key / Parquet column of the text (default: text)",
    )
    parser.add_argument(
        "--id-field",
        default="id",
        metavar="NAME",
        help="JSONL key / Parquet column of the record id (default: id)",
    )
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes (default: 1)")
    _add_quiet(parser)


def _add_quiet(parser: argparse.ArgumentParser) -> None:
    # Also accepted after the subcommand; SUPPRESS keeps the global flag's value when absent.
    parser.add_argument(
        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress bar or summary"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status instead of exiting (handy for tests)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if getattr(args, "jobs", 1) < 1:
            raise UsageError("--jobs must be at least 1")
        return args.run(args)  # every command carries its runner
    except SystemExit as exc:  # --help and --version exit through argparse
        return exc.code if isinstance(exc.code, int) else 0
    except (UsageError, InputError) as exc:
        _error(str(exc))
        return 2
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _error(f"{where}{exc.strerror or exc}")
        return 1


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def _progress(args: argparse.Namespace, desc: str):
    from tqdm import tqdm

    return tqdm(
        desc=desc, unit=" docs", file=sys.stderr, disable=args.quiet or not sys.stderr.isatty(), leave=False
    )
