"""Organisations, members and keys through the services: the rules hold whatever the view."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from registry.apikeys import services
from registry.apikeys.models import ApiKey, Membership
from tests.registry.apikeys import builders


def test_whoever_creates_an_organisation_is_its_owner(carol, acme):
    assert acme.slug == "acme-data"
    assert Membership.objects.get(organisation=acme, user=carol).role == "owner"


def test_two_organisations_with_the_same_name_get_different_slugs(carol, dave, acme):
    other = builders.organisation(owner=dave, name="Acme Data")
    assert other.slug == "acme-data-2"


def test_an_owner_adds_a_member_by_email_and_a_user_may_belong_to_several(carol, dave, acme, dave_org):
    services.organisation_member_add(organisation=acme, added_by=carol, email="DAVE@example.org")
    assert set(dave.organisations.all()) == {acme, dave_org}


def test_a_plain_member_cannot_add_members(carol, dave, alice, acme):
    services.organisation_member_add(organisation=acme, added_by=carol, email=dave.email)
    with pytest.raises(PermissionDenied):
        services.organisation_member_add(organisation=acme, added_by=dave, email=alice.email)


def test_adding_an_unknown_email_or_a_member_twice_says_what_to_do(carol, dave, acme):
    with pytest.raises(ValidationError, match="sign up first"):
        services.organisation_member_add(organisation=acme, added_by=carol, email="nobody@example.org")
    services.organisation_member_add(organisation=acme, added_by=carol, email=dave.email)
    with pytest.raises(ValidationError, match="already a member"):
        services.organisation_member_add(organisation=acme, added_by=carol, email=dave.email)


def test_the_database_holds_the_hash_and_prefix_never_the_key(carol, acme):
    key, full = builders.api_key(user=carol, organisation=acme)
    key.refresh_from_db()
    stored = [str(getattr(key, f.attname)) for f in ApiKey._meta.concrete_fields]
    assert not any(full in value for value in stored)
    assert key.prefix == full.split("_")[1]
    assert len(key.key_hash) == 64 and key.key_hash != full


def test_a_new_key_takes_the_default_rate_limit_and_the_chosen_expiry(settings, carol):
    settings.REGISTRY = {**settings.REGISTRY, "API_RATE_LIMIT_PER_MINUTE": 42}
    key, _ = builders.api_key(user=carol, expires_in_days=30)
    assert key.rate_limit_per_minute == 42
    assert key.owner == carol and key.organisation is None
    assert timedelta(days=29, hours=23) < key.expires_at - timezone.now() <= timedelta(days=30)


def test_only_owners_create_an_organisations_keys(carol, dave, acme):
    services.organisation_member_add(organisation=acme, added_by=carol, email=dave.email)
    with pytest.raises(PermissionDenied):
        builders.api_key(user=dave, organisation=acme)


def test_an_organisation_key_cannot_have_the_author_scope(carol, acme):
    with pytest.raises(ValidationError, match="filter scope"):
        builders.api_key(user=carol, organisation=acme, scope="author")


def test_only_the_owner_revokes_a_personal_key_and_revoking_twice_keeps_the_first_time(alice, carol):
    key, _ = builders.api_key(user=alice, scope="author")
    with pytest.raises(PermissionDenied):
        services.api_key_revoke(key=key, revoked_by=carol)
    services.api_key_revoke(key=key, revoked_by=alice)
    first = key.revoked_at
    services.api_key_revoke(key=key, revoked_by=alice)
    key.refresh_from_db()
    assert key.revoked_at == first and key.state == "revoked"


def test_last_used_is_written_at_most_once_a_minute(carol, django_assert_num_queries):
    key, _ = builders.api_key(user=carol)
    now = timezone.now()
    with django_assert_num_queries(1):
        services.api_key_mark_used(key=key, now=now)
    with django_assert_num_queries(0):
        services.api_key_mark_used(key=key, now=now + timedelta(seconds=59))
    with django_assert_num_queries(1):
        services.api_key_mark_used(key=key, now=now + timedelta(seconds=61))
    key.refresh_from_db()
    assert key.last_used_at == now + timedelta(seconds=61)


def test_a_stale_copy_of_the_key_does_not_overwrite_a_newer_last_used(carol):
    key, _ = builders.api_key(user=carol)
    now = timezone.now()
    services.api_key_mark_used(key=ApiKey.objects.get(pk=key.pk), now=now)
    # Another request loaded the row before that write: its UPDATE finds nothing stale.
    services.api_key_mark_used(key=key, now=now + timedelta(seconds=10))
    key.refresh_from_db()
    assert key.last_used_at == now
