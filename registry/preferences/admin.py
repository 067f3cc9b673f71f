"""Preference statements in the admin: read-only, because the history is append-only."""

from django.contrib import admin

from registry.preferences.models import PreferenceStatement


@admin.register(PreferenceStatement)
class PreferenceStatementAdmin(admin.ModelAdmin):
    list_display = ("effective_at", "owner", "work", "key", "value", "note")
    list_filter = ("key", "value")
    search_fields = ("owner__email", "work__title", "work__public_id")
    date_hierarchy = "effective_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
