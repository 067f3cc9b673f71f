"""The profile page, where an author sets the name dataset builders see."""

from django.urls import reverse


def test_an_author_sets_their_public_name(client_alice, alice):
    response = client_alice.post(reverse("accounts:profile"), {"public_name": "  A. Example  "})

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.public_name == "A. Example"
    assert alice.display_name == "A. Example"


def test_an_empty_public_name_shows_the_author_as_anonymous(client_alice, alice):
    client_alice.post(reverse("accounts:profile"), {"public_name": ""})

    alice.refresh_from_db()
    assert alice.display_name == "anonymous author"


def test_the_profile_page_shows_the_current_name_and_a_save_button(client_alice, alice):
    response = client_alice.get(reverse("accounts:profile"))

    assert response.status_code == 200
    assert alice.public_name.encode() in response.content
    assert b"Save profile" in response.content


def test_a_public_name_longer_than_100_characters_is_refused(client_alice, alice):
    response = client_alice.post(reverse("accounts:profile"), {"public_name": "x" * 101})

    assert response.status_code == 200
    assert b"at most 100 characters" in response.content
    alice.refresh_from_db()
    assert alice.public_name == "Alice Example"


def test_the_profile_page_needs_a_login(client, db):
    response = client.get(reverse("accounts:profile"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
