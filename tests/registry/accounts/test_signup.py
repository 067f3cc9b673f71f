"""Sign-up with mandatory email verification, then login and logout (allauth's views)."""

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD

from .helpers import link_in

SIGNUP = {"email": "dora@example.org", "password1": PASSWORD, "password2": PASSWORD}


def test_signing_up_sends_a_verification_link_that_confirms_the_address(client, db, mailoutbox):
    response = client.post(reverse("account_signup"), SIGNUP)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert [message.to for message in mailoutbox] == [["dora@example.org"]]
    assert mailoutbox[0].subject.startswith("[Registry] ")

    confirm = link_in(mailoutbox[0], "/confirm-email/")
    page = client.get(confirm)
    assert page.status_code == 200
    assert b"dora@example.org" in page.content
    client.post(confirm)

    assert EmailAddress.objects.get(email="dora@example.org").verified


def test_a_verified_user_can_log_in_and_out_with_email_and_password(client, db, mailoutbox):
    client.post(reverse("account_signup"), SIGNUP)
    client.post(link_in(mailoutbox[0], "/confirm-email/"))
    browser = Client()

    response = browser.post(reverse("account_login"), {"login": "dora@example.org", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("works:dashboard")
    user = get_user_model().objects.get(email="dora@example.org")
    assert browser.session["_auth_user_id"] == str(user.pk)

    browser.post(reverse("account_logout"))
    assert "_auth_user_id" not in browser.session


def test_logging_in_before_verifying_the_email_is_refused(client, db, mailoutbox):
    client.post(reverse("account_signup"), SIGNUP)
    browser = Client()

    response = browser.post(reverse("account_login"), {"login": "dora@example.org", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in browser.session
    assert not EmailAddress.objects.get(email="dora@example.org").verified


def test_a_wrong_password_is_refused_with_a_message(client, alice):
    response = client.post(reverse("account_login"), {"login": alice.email, "password": "not it"})

    assert response.status_code == 200
    assert b"not correct" in response.content
    assert "_auth_user_id" not in client.session


def test_signing_up_needs_matching_passwords(client, db, mailoutbox):
    response = client.post(reverse("account_signup"), {**SIGNUP, "password2": PASSWORD + "!"})

    assert response.status_code == 200
    assert b"same password" in response.content
    assert not get_user_model().objects.filter(email="dora@example.org").exists()
    assert mailoutbox == []


def test_account_pages_use_the_site_layout(client, db):
    response = client.get(reverse("account_login"))

    assert response.status_code == 200
    assert "base.html" in [template.name for template in response.templates]
    assert b'class="site-header"' in response.content


def test_account_email_names_the_registry_not_the_placeholder_site(client, db, mailoutbox):
    client.post(reverse("account_signup"), SIGNUP)

    assert "Hello from Opt-out registry!" in mailoutbox[0].body
    assert "example.com" not in mailoutbox[0].body
