"""`{% found_counts_for_author user as found %}` for the works dashboard's include."""

from django import template

from registry.scans import selectors
from registry.scans.models import ScanAccountSettings

register = template.Library()


@register.simple_tag
def found_counts_for_author(user, limit: int = 20):
    if not getattr(user, "is_authenticated", False):
        return []
    return selectors.found_counts_for_author(user, limit=limit)


@register.simple_tag
def found_email_enabled(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return ScanAccountSettings.objects.filter(user=user, email_when_found=True).exists()
