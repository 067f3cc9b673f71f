"""manage.py snapshot_build OUT [--since V]: write a snapshot directory (full, or a delta)."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from registry.snapshots import services


class Command(BaseCommand):
    help = (
        "Write a snapshot of the works that restrict some purpose (preferences and fingerprints, no "
        "text) to OUT, for 'python -m dedup filter --snapshot OUT'. With --since V, write only what "
        "changed after version V (a delta for 'python -m dedup snapshot merge')."
    )

    def add_arguments(self, parser):
        parser.add_argument("out", metavar="OUT", help="directory to create (must not exist, or be empty)")
        parser.add_argument("--since", type=int, metavar="V", help="write a delta from version V")
        parser.add_argument("--force", action="store_true", help="replace OUT if it exists")

    def handle(self, *args, out: str, since: int | None, force: bool, **options):
        from dedup.snapshot_format import replace_dir, temp_dir_beside

        target = Path(out)
        if target.exists() and not (target.is_dir() and (force or not any(target.iterdir()))):
            raise CommandError(f"{target} exists; choose another OUT or pass --force to replace it")
        tmp = temp_dir_beside(target)
        try:
            manifest = services.snapshot_build(out=tmp, since=since)
            replace_dir(tmp, target)
        except ValidationError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise CommandError(" ".join(exc.messages)) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        counts = ", ".join(f"{v} {k}" for k, v in manifest["counts"].items())
        kind, version = manifest["kind"], manifest["version"]
        self.stdout.write(f"wrote {kind} snapshot version {version} to {target}: {counts}")
