"""Accounts: the user model (email login, public name) and account pages (django-allauth)."""
