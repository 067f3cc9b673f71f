from django.contrib import admin

from .models import ApiKey, Membership, Organisation


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "prefix",
        "scope",
        "organisation",
        "owner",
        "created_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["scope"]
    search_fields = ["name", "prefix", "organisation__name", "owner__email"]
    # Keys are made on the keys page (the only place the secret is shown); staff may change
    # limits and revoke, never see or set the hash.
    readonly_fields = ["prefix", "key_hash", "created_by", "created_at", "last_used_at"]
    raw_id_fields = ["owner", "organisation"]

    def has_add_permission(self, request) -> bool:
        return False
