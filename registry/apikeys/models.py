"""Organisations of dataset builders, their members, and API keys.

A key belongs either to an organisation (a dataset builder's team: any owner may manage it, and
it survives the person who made it) or to one user (a personal key, e.g. for the author API).
Exactly one of the two is set; a check constraint holds that.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


def default_rate_limit() -> int:
    """Requests per minute for a new key, from REGISTRY["API_RATE_LIMIT_PER_MINUTE"]."""
    return int(settings.REGISTRY.get("API_RATE_LIMIT_PER_MINUTE", 600))


class Organisation(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=110, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="organisations"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("apikeys:organisation", kwargs={"slug": self.slug})


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"  # manages members and keys
        MEMBER = "member", "Member"  # sees the organisation's keys

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organisation__name", "user__email"]
        constraints = [
            # Also the index for "is this user a member of that organisation?" on every page.
            models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique_user_org"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organisation} ({self.role})"

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER


class ApiKey(models.Model):
    class Scope(models.TextChoices):
        FILTER = "filter", "Filter and lookup"
        AUTHOR = "author", "Author actions on your own works"

    name = models.CharField(max_length=100)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, blank=True, related_name="api_keys"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_keys",
        help_text="Set for personal keys; empty for an organisation's key.",
    )
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.FILTER)
    # Every request looks its key up by prefix; unique=True is that index.
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64, help_text="SHA-256 of the full key (see apikeys/tokens.py).")
    rate_limit_per_minute = models.PositiveIntegerField(default=default_rate_limit)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(organisation__isnull=True) & Q(owner__isnull=False))
                | (Q(organisation__isnull=False) & Q(owner__isnull=True)),
                name="apikey_organisation_xor_owner",
            ),
            models.CheckConstraint(
                condition=Q(rate_limit_per_minute__gte=1), name="apikey_rate_limit_positive"
            ),
        ]
        # The list page: personal keys by owner; organisation keys come through the FK index.

    def __str__(self) -> str:
        return f"{self.name} (rk_{self.prefix}_…)"

    @property
    def display_prefix(self) -> str:
        return f"rk_{self.prefix}_…"

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def state(self) -> str:
        """active, revoked or expired (revoked wins: it was a deliberate act)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.is_expired():
            return "expired"
        return "active"

    @property
    def holder(self) -> str:
        """Who the key acts for, as shown in lists and in /api/v1/me."""
        return self.organisation.name if self.organisation_id else "personal"
