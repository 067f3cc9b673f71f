"""Changing the account's email: the new address counts only once its link is followed."""

from allauth.account.models import EmailAddress
from django.urls import reverse

from .helpers import link_in


def test_changing_email_takes_effect_when_the_new_address_is_confirmed(client_alice, alice, mailoutbox):
    response = client_alice.post(reverse("account_email"), {"email": "alice@new.example", "action_add": ""})

    assert response.status_code == 302
    assert [message.to for message in mailoutbox] == [["alice@new.example"]]
    alice.refresh_from_db()
    assert alice.email == "alice@example.org"  # not before the link is followed

    client_alice.post(link_in(mailoutbox[0], "/confirm-email/"))

    alice.refresh_from_db()
    assert alice.email == "alice@new.example"
    assert list(EmailAddress.objects.filter(user=alice).values_list("email", "verified", "primary")) == [
        ("alice@new.example", True, True)
    ]


def test_the_email_page_shows_the_current_address(client_alice, alice):
    response = client_alice.get(reverse("account_email"))

    assert response.status_code == 200
    assert alice.email.encode() in response.content


def test_the_email_page_needs_a_login(client, db):
    response = client.get(reverse("account_email"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
