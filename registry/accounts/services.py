"""Writes to a user's own account data (allauth owns email, password and sign-up)."""

from django.db import transaction

from .models import User


@transaction.atomic
def user_profile_update(*, user: User, public_name: str) -> User:
    """Set the name dataset builders see next to this user's works ("" means anonymous)."""
    user.public_name = public_name
    user.save(update_fields=["public_name"])
    return user
