"""Reads: which organisations and keys a user may see, and the key a request presented."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from .models import ApiKey, Membership, Organisation


def organisation_list(*, user) -> QuerySet[Organisation]:
    """The organisations `user` belongs to, in any role."""
    return Organisation.objects.filter(memberships__user=user).order_by("name")


def membership_get(*, user, slug: str) -> Membership:
    """The user's membership of the organisation `slug`; 404 for non-members.

    404 rather than 403: an outsider learns nothing, not even that the organisation exists.
    """
    try:
        return Membership.objects.select_related("organisation").get(user=user, organisation__slug=slug)
    except Membership.DoesNotExist:
        raise Http404("No such organisation.") from None


def member_list(*, organisation: Organisation) -> QuerySet[Membership]:
    return organisation.memberships.select_related("user").order_by("-role", "user__email")


def owned_organisations(*, user) -> QuerySet[Organisation]:
    """Organisations where `user` may create and revoke keys."""
    return Organisation.objects.filter(
        memberships__user=user, memberships__role=Membership.Role.OWNER
    ).order_by("name")


def api_key_list(*, user) -> QuerySet[ApiKey]:
    """The user's personal keys and the keys of every organisation they belong to."""
    return (
        ApiKey.objects.filter(Q(owner=user) | Q(organisation__memberships__user=user))
        .select_related("organisation", "created_by")
        .distinct()
        .order_by("organisation__name", "-created_at")
    )


def api_key_get_visible(*, user, prefix: str) -> ApiKey:
    """One key the user may see (404 otherwise, like organisations)."""
    try:
        return api_key_list(user=user).get(prefix=prefix)
    except ApiKey.DoesNotExist:
        raise Http404("No such key.") from None


def can_manage_key(*, user, key: ApiKey) -> bool:
    """Personal keys: their owner. Organisation keys: the organisation's owners."""
    if key.owner_id is not None:
        return key.owner_id == user.pk
    return Membership.objects.filter(
        user=user, organisation_id=key.organisation_id, role=Membership.Role.OWNER
    ).exists()


def api_key_by_prefix(*, prefix: str) -> ApiKey | None:
    """The key row for an authentication attempt, with what /api/v1/me and HasScope read."""
    return ApiKey.objects.select_related("organisation", "owner").filter(prefix=prefix).first()
