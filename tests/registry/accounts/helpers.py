"""Small helpers for the account tests: reading links out of the mail allauth sends."""

import re

from django.core.mail import EmailMessage

_LINK = re.compile(r"https?://[^/\s]+(/accounts/[^\s]+/)")


def link_in(message: EmailMessage, containing: str) -> str:
    """The path of the first /accounts/... link in `message` whose path contains `containing`."""
    for path in _LINK.findall(message.body):
        if containing in path:
            return path
    raise AssertionError(f"No link containing {containing!r} in:\n{message.body}")
