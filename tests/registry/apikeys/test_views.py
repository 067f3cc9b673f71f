"""The /keys/ pages: the key is shown once, only owners manage, outsiders see 404s."""

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from registry.apikeys import services, tokens
from registry.apikeys.models import ApiKey, Membership
from tests.registry.apikeys import builders

CREATE = reverse("apikeys:create")
LIST = reverse("apikeys:list")


def _create(client, **data):
    return client.post(
        CREATE, {"name": "crawler", "holder": "personal", "scope": "filter", "expires": "90", **data}
    )


def test_the_pages_need_a_login(client):
    for url in (LIST, CREATE, reverse("apikeys:organisations")):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_logged_in_users_see_the_api_keys_link(client_alice):
    assert f'href="{LIST}"' in client_alice.get(reverse("works:dashboard")).content.decode()


def test_the_new_key_is_shown_once_and_never_again(client_carol, carol):
    response = _create(client_carol, name="laptop")
    assert response.status_code == 200
    key = ApiKey.objects.get(owner=carol)
    full = response.context["full_key"]
    page = response.content.decode()
    assert full in page and "shown only once" in page
    assert "no-store" in response["Cache-Control"]

    listing = client_carol.get(LIST).content.decode()
    assert f"rk_{key.prefix}_" in listing and "laptop" in listing
    assert full not in listing
    assert full.split("_")[2] not in listing


def test_the_plain_key_is_stored_nowhere_in_the_database_not_even_in_the_session(client_carol, carol):
    full = _create(client_carol).context["full_key"]
    secret = full.split("_")[2]
    for model in apps.get_models():
        for row in model.objects.values():
            assert secret not in str(row), f"{model.__name__} holds the key's secret"
    for session in Session.objects.all():
        assert secret not in str(session.get_decoded())
    assert ApiKey.objects.get(owner=carol).key_hash == tokens.hash_key(full)


def test_an_owner_creates_a_key_for_her_organisation(client_carol, acme):
    response = _create(client_carol, holder=acme.slug)
    assert response.status_code == 200
    key = ApiKey.objects.get(organisation=acme)
    assert key.owner is None and key.created_by.email == "carol@example.org"


def test_the_form_offers_ninety_days_by_default_and_never_on_request(client_carol, carol):
    assert 'value="90" selected' in client_carol.get(CREATE).content.decode()
    _create(client_carol, expires="never")
    assert ApiKey.objects.get(owner=carol).expires_at is None


def test_an_organisation_key_with_the_author_scope_is_refused_in_the_form(client_carol, acme):
    response = _create(client_carol, holder=acme.slug, scope="author")
    assert response.status_code == 200 and "author keys are personal" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_a_member_cannot_create_or_revoke_the_organisations_keys(client_dave, carol, dave, acme):
    services.organisation_member_add(organisation=acme, added_by=carol, email=dave.email)
    key, _ = builders.api_key(user=carol, organisation=acme)

    response = _create(client_dave, holder=acme.slug)
    assert "not one of the available choices" in response.content.decode()
    assert ApiKey.objects.filter(organisation=acme).count() == 1

    assert key.name in client_dave.get(LIST).content.decode()  # members see the keys...
    revoke = reverse("apikeys:revoke", args=[key.prefix])
    assert client_dave.post(revoke).status_code == 403  # ...but only owners revoke them
    key.refresh_from_db()
    assert key.revoked_at is None


def test_outsiders_get_404_for_another_organisation_and_its_keys(client_dave, carol, acme):
    key, _ = builders.api_key(user=carol, organisation=acme, name="acme-secret-crawler")
    assert client_dave.get(acme.get_absolute_url()).status_code == 404
    assert client_dave.get(reverse("apikeys:revoke", args=[key.prefix])).status_code == 404
    assert client_dave.post(reverse("apikeys:revoke", args=[key.prefix])).status_code == 404
    assert (
        client_dave.post(
            reverse("apikeys:member-add", args=[acme.slug]), {"email": "x@example.org"}
        ).status_code
        == 404
    )
    assert "acme-secret-crawler" not in client_dave.get(LIST).content.decode()


def test_revoking_asks_first_then_revokes_on_post(client_carol, carol, acme):
    key, _ = builders.api_key(user=carol, organisation=acme)
    url = reverse("apikeys:revoke", args=[key.prefix])
    confirm = client_carol.get(url)
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None

    response = client_carol.post(url, follow=True)
    key.refresh_from_db()
    assert key.state == "revoked"
    assert "revoked" in response.content.decode()


def test_any_user_creates_an_organisation_and_becomes_its_owner(client_alice, alice):
    response = client_alice.post(reverse("apikeys:organisations"), {"name": "Alice Corpus"})
    membership = Membership.objects.get(user=alice)
    assert response.status_code == 302 and response["Location"] == membership.organisation.get_absolute_url()
    assert membership.role == "owner"


def test_an_owner_adds_a_member_by_email_on_the_organisation_page(client_carol, dave, acme):
    page = client_carol.get(acme.get_absolute_url()).content.decode()
    assert "Add a member" in page
    response = client_carol.post(
        reverse("apikeys:member-add", args=[acme.slug]), {"email": dave.email, "role": "member"}
    )
    assert response.status_code == 302
    assert Membership.objects.get(organisation=acme, user=dave).role == "member"


def test_adding_an_unknown_email_shows_the_reason_on_the_page(client_carol, acme):
    response = client_carol.post(
        reverse("apikeys:member-add", args=[acme.slug]), {"email": "nobody@example.org", "role": "member"}
    )
    assert response.status_code == 200 and "ask them to sign up first" in response.content.decode()


def test_members_see_the_member_list_but_no_add_form(client_dave, carol, dave, acme):
    services.organisation_member_add(organisation=acme, added_by=carol, email=dave.email)
    page = client_dave.get(acme.get_absolute_url()).content.decode()
    assert "carol@example.org" in page and "Add a member" not in page
    response = client_dave.post(reverse("apikeys:member-add", args=[acme.slug]), {"email": "x@example.org"})
    assert response.status_code == 403


@pytest.mark.parametrize("form", ["create", "revoke", "organisation", "member"])
def test_every_form_needs_its_csrf_token(carol, acme, form):
    client = Client(enforce_csrf_checks=True)
    client.force_login(carol)
    key, _ = builders.api_key(user=carol, organisation=acme)
    url, data = {
        "create": (CREATE, {"name": "x", "holder": "personal", "scope": "filter", "expires": "90"}),
        "revoke": (reverse("apikeys:revoke", args=[key.prefix]), {}),
        "organisation": (reverse("apikeys:organisations"), {"name": "Other"}),
        "member": (reverse("apikeys:member-add", args=[acme.slug]), {"email": "alice@example.org"}),
    }[form]
    assert client.post(url, data).status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None and ApiKey.objects.count() == 1
