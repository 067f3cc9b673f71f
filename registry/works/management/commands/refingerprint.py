"""Fingerprint again the documents whose stored fingerprints the engine no longer compares.

Run after changing `DEDUP_*` settings or upgrading to an engine with a new normaliser version;
`up` runs it on every start. Safe to run twice.
"""

from django.core.management.base import BaseCommand

from registry.works.services import documents_refingerprint_stale


class Command(BaseCommand):
    help = "Fingerprint again every ready document made with other engine parameters (idempotent)."

    def handle(self, *args, **options):
        report = documents_refingerprint_stale()
        self.stdout.write(
            f"Checked {report.checked} fingerprinted documents: {report.refingerprinted} fingerprinted "
            f"again, {report.failed} could not be (text not kept or engine error)."
        )
