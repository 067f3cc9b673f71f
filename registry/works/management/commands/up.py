"""One command to a running registry: migrate, seed the demo, serve on 127.0.0.1:8000."""

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand

from registry.works.management.commands.seed_demo import DEMO_EMAIL, demo_password


class Command(BaseCommand):
    help = "Migrate the database, create the demo author and works, and run the development server."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--noreload", action="store_true", help="Do not restart on code changes.")

    def handle(self, *args, addrport, noreload, **options):
        if os.environ.get("RUN_MAIN") == "true":
            # The autoreloader's child process runs this command again: the parent has done the setup.
            call_command("runserver", addrport, use_reloader=True)
            return
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        call_command("refingerprint", stdout=self.stdout)
        call_command("seed_demo", stdout=self.stdout)
        self.stdout.write(
            self.style.SUCCESS(
                f"\nOpen http://{addrport}/  (lookup: http://{addrport}/lookup/)\n"
                f"Log in as {DEMO_EMAIL} with password {demo_password()}\n"
            )
        )
        call_command("runserver", addrport, use_reloader=not noreload)
