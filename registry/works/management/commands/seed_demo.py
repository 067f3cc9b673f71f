"""Create the demo author and a few demo works, fingerprinted right away. Safe to run again.

The demo password is random, made on first use and kept in var/demo_password (like the local
secret key), so a registry started with `up` has no well-known password; it is printed each time.
"""

from __future__ import annotations

import io
import secrets
import sysconfig
import tarfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from registry.preferences.services import preference_set
from registry.works import services
from registry.works.models import Document, Work

DEMO_EMAIL = "demo@example.org"
# A dataset builder, so the filter API can be tried against the demo author's works (a caller's
# own works never count against it). Member and owner of the organisation "Demo Data".
DEMO_BUILDER_EMAIL = "builder@example.org"
DEMO_ORGANISATION = "Demo Data"

ESSAY = """\
On keeping a garden of small tools

Every programmer eventually keeps a garden. It starts with one script that renames files, then a
second that tidies a log, and before long there is a shed full of small tools, each shaped by the
afternoon it was written in. Most of them are never shared. They are too particular, too rough at
the edges, too obviously the work of someone thinking aloud.

Yet the garden is where the craft is learned. A tool written for oneself has no audience to
perform for, so it shows plainly what its author understood and what they guessed. Reading an
old script is like finding a note from a younger self: the variable names are a little too
hopeful, the error handling a little too brave.

Sharing such a garden is an act of trust. The author asks that their tools be used kindly:
credited when they are copied, left out of machines that would learn their quirks without ever
knowing where they came from. A registry cannot enforce kindness, but it can make the request
easy to read.
"""


def _stdlib(name: str) -> tuple[str, bytes]:
    path = Path(sysconfig.get_paths()["stdlib"]) / name
    return name, path.read_bytes()


def _demo_archive() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in ("colorsys.py", "bisect.py", "fnmatch.py"):
            _, data = _stdlib(name)
            info = tarfile.TarInfo(f"stdlib-sampler/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        readme = b"A few modules from the Python standard library, registered as a demo repository.\n"
        info = tarfile.TarInfo("stdlib-sampler/README.md")
        info.size = len(readme)
        tar.addfile(info, io.BytesIO(readme))
    return buf.getvalue()


def demo_password() -> str:
    path = Path(settings.VAR_DIR) / "demo_password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(9))
        path.chmod(0o600)
    return path.read_text().strip()


class Command(BaseCommand):
    help = "Create the demo author (demo@example.org) and a few fingerprinted demo works (idempotent)."

    def handle(self, *args, **options):
        from allauth.account.models import EmailAddress

        password = demo_password()
        User = get_user_model()
        with transaction.atomic():
            user, created = User.objects.get_or_create(
                email=DEMO_EMAIL, defaults={"public_name": "Demo Author"}
            )
            if created or not user.check_password(password):
                user.set_password(password)
                user.save(update_fields=["password"])
            EmailAddress.objects.update_or_create(
                user=user, email=DEMO_EMAIL, defaults={"verified": True, "primary": True}
            )
            if created:
                preference_set(owner=user, values={"train-genai": "no"}, note="demo default")

        self._builder(password)
        made = [self._work(user, spec) for spec in self._specs()]
        # Fingerprint now, in this process: the demo should be searchable the moment `up` prints
        # its URL, with or without a worker. A no-op for documents a task did already.
        for doc_id in Document.objects.filter(work__owner=user, state=Document.State.PENDING).values_list(
            "id", flat=True
        ):
            services.document_fingerprint(document_id=doc_id)

        new = sum(1 for m in made if m)
        self.stdout.write(f"Demo author: {DEMO_EMAIL} / password: {password}")
        self.stdout.write(
            f"Demo builder: {DEMO_BUILDER_EMAIL} / password: {password} (organisation {DEMO_ORGANISATION!r})"
        )
        self.stdout.write(f"Demo works: {len(made)} ({new} new)")

    @staticmethod
    @transaction.atomic
    def _builder(password: str) -> None:
        from allauth.account.models import EmailAddress

        from registry.apikeys.models import Organisation
        from registry.apikeys.services import organisation_create

        builder, _ = get_user_model().objects.get_or_create(
            email=DEMO_BUILDER_EMAIL, defaults={"public_name": "Demo Builder"}
        )
        if not builder.check_password(password):
            builder.set_password(password)
            builder.save(update_fields=["password"])
        EmailAddress.objects.update_or_create(
            user=builder, email=DEMO_BUILDER_EMAIL, defaults={"verified": True, "primary": True}
        )
        if not Organisation.objects.filter(name=DEMO_ORGANISATION, memberships__user=builder).exists():
            organisation_create(name=DEMO_ORGANISATION, created_by=builder)

    @staticmethod
    def _specs():
        textwrap_name, textwrap_data = _stdlib("textwrap.py")
        return [
            {
                "title": "On keeping a garden of small tools",
                "kind": "prose",
                "source": Work.Source.TEXT,
                "prepare": lambda: services.prepare_text(text=ESSAY, name="essay.txt"),
                "licence": "CC-BY-4.0",
                "attribution": "“On keeping a garden of small tools” by Demo Author, CC BY 4.0",
                "locations": ["https://example.org/essays/garden-of-tools"],
                "preferences": {"train-ai": "no", "search": "yes", "attribution": "yes"},
                "storage": Work.Storage.TEXT,
            },
            {
                "title": "textwrap.py (demo)",
                "kind": "code",
                "source": Work.Source.FILE,
                "prepare": lambda: services.prepare_file(name=textwrap_name, data=textwrap_data),
                "licence": "PSF-2.0",
                "attribution": "From the Python standard library (textwrap.py), PSF License 2.0",
                "locations": ["https://example.org/demo/textwrap.py"],
                "preferences": {"search": "yes", "ai-use": "yes"},
                "storage": Work.Storage.FINGERPRINTS,
            },
            {
                "title": "stdlib sampler (demo repository)",
                "kind": "code",
                "source": Work.Source.ARCHIVE,
                "prepare": lambda: services.prepare_archive(
                    name="stdlib-sampler.tar.gz", fileobj=io.BytesIO(data := _demo_archive()), size=len(data)
                ),
                "licence": "PSF-2.0",
                "attribution": "Python standard library modules, PSF License 2.0",
                "locations": ["https://example.org/demo/stdlib-sampler.git"],
                "preferences": {"train-ai": "yes", "attribution": "yes"},
                "storage": Work.Storage.TEXT,
            },
        ]

    @staticmethod
    def _work(user, spec) -> bool:
        if Work.objects.filter(owner=user, title=spec["title"]).exists():
            return False
        services.work_register(
            owner=user,
            title=spec["title"],
            kind=spec["kind"],
            source=spec["source"],
            prepared=spec["prepare"](),
            licence=spec["licence"],
            attribution=spec["attribution"],
            locations=spec["locations"],
            storage=spec["storage"],
            preferences=spec["preferences"],
        )
        return True
