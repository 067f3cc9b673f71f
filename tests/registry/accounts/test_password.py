"""Password reset by email and password change (allauth's views)."""

from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD

from .helpers import link_in

NEW_PASSWORD = "a different long passphrase"


def test_a_password_reset_link_by_email_sets_a_new_password(client, alice, mailoutbox):
    client.post(reverse("account_reset_password"), {"email": alice.email})

    assert [message.to for message in mailoutbox] == [[alice.email]]
    # The emailed link carries the key; allauth moves it into the session and redirects.
    response = client.get(link_in(mailoutbox[0], "/password/reset/key/"))
    assert response.status_code == 302
    response = client.post(response["Location"], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_from_key_done")

    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert Client().login(email=alice.email, password=NEW_PASSWORD)


def test_a_password_reset_for_an_unknown_email_sends_no_reset_link(client, db, mailoutbox):
    client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})

    # allauth still answers as if it had worked (no account enumeration) and mails the address
    # that there is no account, with no key in it.
    assert all("/password/reset/key/" not in message.body for message in mailoutbox)


def test_a_signed_in_user_changes_their_password_with_the_current_one(client_alice, alice):
    response = client_alice.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
