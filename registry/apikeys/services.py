"""Writes: organisations, members and API keys. Every permission rule is checked here too, so
a view that forgot one still cannot grant more than the rules allow."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from . import tokens
from .models import ApiKey, Membership, Organisation

# How stale `last_used_at` may get: writing it on every request would turn each read-only API
# call into a row write (lock contention under load, WAL churn); to the minute is enough for
# "when was this key last used?".
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:100] or "organisation"
    slug, n = base, 1
    while Organisation.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def organisation_create(*, name: str, created_by) -> Organisation:
    """A new organisation with `created_by` as its first owner."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the organisation a name."})
    organisation = Organisation.objects.create(name=name, slug=_unique_slug(name), created_by=created_by)
    Membership.objects.create(user=created_by, organisation=organisation, role=Membership.Role.OWNER)
    return organisation


def _require_owner(*, user, organisation: Organisation) -> None:
    if not Membership.objects.filter(
        user=user, organisation=organisation, role=Membership.Role.OWNER
    ).exists():
        raise PermissionDenied(f"Only owners of {organisation.name} can do that.")


@transaction.atomic
def organisation_member_add(
    *, organisation: Organisation, added_by, email: str, role: str = Membership.Role.MEMBER
) -> Membership:
    """Add an existing account to the organisation (owners only).

    The person must have signed up already: we never create accounts on someone's behalf.
    """
    _require_owner(user=added_by, organisation=organisation)
    if role not in Membership.Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    user = get_user_model().objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise ValidationError({"email": "No account uses that email address; ask them to sign up first."})
    membership, created = Membership.objects.get_or_create(
        user=user, organisation=organisation, defaults={"role": role}
    )
    if not created:
        raise ValidationError({"email": f"{user.email} is already a member of {organisation.name}."})
    return membership


@transaction.atomic
def api_key_create(
    *,
    name: str,
    scope: str,
    created_by,
    organisation: Organisation | None = None,
    expires_in_days: int | None = None,
    rate_limit_per_minute: int | None = None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its full text, which exists only in this return value.

    An organisation's key is created by one of its owners and may only filter; `author` keys act
    on the owner's own works, so they are always personal.
    """
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the key a name, e.g. where it is used."})
    if scope not in ApiKey.Scope.values:
        raise ValidationError({"scope": f"Unknown scope {scope!r}."})
    if organisation is not None:
        _require_owner(user=created_by, organisation=organisation)
        if scope != ApiKey.Scope.FILTER:
            raise ValidationError({"scope": "Organisation keys can only have the filter scope."})
    if expires_in_days is not None and expires_in_days <= 0:
        raise ValidationError({"expires_in_days": "A key must be valid for at least one day."})
    if rate_limit_per_minute is not None and rate_limit_per_minute < 1:
        raise ValidationError({"rate_limit_per_minute": "The rate limit must be at least 1 per minute."})

    now = timezone.now()
    extra = {"rate_limit_per_minute": rate_limit_per_minute} if rate_limit_per_minute else {}
    for _attempt in range(5):
        prefix, full = tokens.generate()
        try:
            # A savepoint, so a (vanishingly rare) prefix collision can be retried in this transaction.
            with transaction.atomic():
                key = ApiKey.objects.create(
                    name=name,
                    scope=scope,
                    organisation=organisation,
                    owner=None if organisation is not None else created_by,
                    prefix=prefix,
                    key_hash=tokens.hash_key(full),
                    created_by=created_by,
                    created_at=now,
                    expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
                    **extra,
                )
        except IntegrityError:
            continue
        return key, full
    raise RuntimeError("Could not find a free key prefix in 5 attempts.")  # 40 random bits: never


@transaction.atomic
def api_key_revoke(*, key: ApiKey, revoked_by) -> ApiKey:
    """Revoke a key for good (idempotent: revoking twice keeps the first time)."""
    if key.owner_id is not None:
        if key.owner_id != revoked_by.pk:
            raise PermissionDenied("Only the key's owner can revoke it.")
    else:
        _require_owner(user=revoked_by, organisation=key.organisation)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def api_key_mark_used(*, key: ApiKey, now: datetime | None = None) -> None:
    """Record use, at most once per LAST_USED_RESOLUTION.

    The UPDATE's own WHERE clause repeats the staleness test, so concurrent requests race
    harmlessly: at most one of them writes, and none reads-then-writes.
    """
    now = now or timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    stale = now - LAST_USED_RESOLUTION
    ApiKey.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale), pk=key.pk).update(
        last_used_at=now
    )
    key.last_used_at = now
