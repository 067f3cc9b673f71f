"""Create an API key from the command line, for operators and scripted setups.

The web pages (/keys/) are the usual way; this goes through the same service, so the same rules
hold: an organisation's key is made by one of its owners and may only filter. The key is printed
once on stdout and stored hashed.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from registry.apikeys.models import ApiKey, Organisation
from registry.apikeys.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a user (personal) or one of their organisations; prints it once."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True, help="the user creating the key")
        parser.add_argument("--organisation", help="name or slug of an organisation the user owns")
        parser.add_argument("--scope", choices=[c for c, _ in ApiKey.Scope.choices], default="filter")
        parser.add_argument("--name", default="command line", help="a name to recognise the key by")
        parser.add_argument("--expires-in-days", type=int, default=90, help="0 for a key that never expires")

    def handle(self, *args, email, organisation, scope, name, expires_in_days, **options):
        try:
            user = get_user_model().objects.get(email__iexact=email)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user with the email {email!r}.") from None
        org = None
        if organisation:
            org = (
                Organisation.objects.filter(memberships__user=user).filter(slug=organisation).first()
                or Organisation.objects.filter(memberships__user=user, name=organisation).first()
            )
            if org is None:
                raise CommandError(f"{email} is not a member of an organisation called {organisation!r}.")
        try:
            _, secret = api_key_create(
                name=name,
                scope=scope,
                created_by=user,
                organisation=org,
                expires_in_days=expires_in_days or None,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(secret)
