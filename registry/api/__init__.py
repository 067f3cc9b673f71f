"""The JSON API under /api/v1/: shared plumbing (errors, base view, schema) and /me.

Endpoints of other apps live in their app's `api.py`, subclass `registry.api.base.ApiView` and
are mounted in `registry/api/urls.py`.
"""
