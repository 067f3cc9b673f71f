"""CSRF protection on every form that changes state, and the admin kept to staff."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.factories import UserFactory


def _csrf_token(client: Client, url: str) -> str:
    page = client.get(url).content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("account_login", {"login": "alice@example.org", "password": PASSWORD}),
        ("account_signup", {"email": "dora@example.org", "password1": PASSWORD, "password2": PASSWORD}),
        ("account_reset_password", {"email": "alice@example.org"}),
    ],
)
def test_entrance_forms_refuse_a_post_without_a_csrf_token(alice, url_name, data):
    client = Client(enforce_csrf_checks=True)

    assert client.post(reverse(url_name), data).status_code == 403

    data["csrfmiddlewaretoken"] = _csrf_token(client, reverse(url_name))
    assert client.post(reverse(url_name), data).status_code == 302


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("accounts:profile", {"public_name": "Mallory"}),
        ("account_email", {"email": "mallory@example.org", "action_add": ""}),
        ("account_logout", {}),
    ],
)
def test_signed_in_forms_refuse_a_post_without_a_csrf_token(alice, url_name, data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    assert client.post(reverse(url_name), data).status_code == 403
    alice.refresh_from_db()
    assert alice.public_name == "Alice Example"
    assert "_auth_user_id" in client.session


def test_the_admin_sends_anonymous_visitors_to_its_login(client, db):
    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_admin_refuses_an_author_who_is_not_staff(client_alice):
    response = client_alice.get("/admin/accounts/user/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_list_search_and_add_users_by_email_in_the_admin(client, alice):
    staff = UserFactory(email="staff@example.org", is_staff=True, is_superuser=True)
    client.force_login(staff)

    listing = client.get("/admin/accounts/user/", {"q": "alice"})
    assert listing.status_code == 200
    assert [user.email for user in listing.context["cl"].result_list] == ["alice@example.org"]

    assert client.get(f"/admin/accounts/user/{alice.pk}/change/").status_code == 200
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "erin@example.org",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Client().login(email="erin@example.org", password=PASSWORD)
