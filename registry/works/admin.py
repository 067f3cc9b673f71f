"""Staff admin for works and documents.

Staff see document metadata and state, but not the texts: the registry promises authors that a
kept text is visible to its owner only, and moderation needs the metadata (owner, title,
locations, state, errors), not the text. Fingerprints are binary and not shown either.
"""

from django.contrib import admin

from registry.works.models import Document, Location, Work


class LocationInline(admin.TabularInline):
    model = Location
    extra = 0
    fields = ("kind", "url", "normalised")
    readonly_fields = ("normalised",)


class DocumentInline(admin.TabularInline):
    model = Document
    extra = 0
    fields = ("path", "language", "size_bytes", "encoding", "state", "error", "fingerprinted_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Work)
class WorkAdmin(admin.ModelAdmin):
    list_display = ("title", "public_id", "owner", "kind", "storage", "source", "created_at")
    list_filter = ("kind", "storage", "source")
    search_fields = ("title", "public_id", "owner__email", "locations__normalised")
    readonly_fields = (
        "public_id",
        "owner",
        "kind",
        "storage",
        "source",
        "import_report",
        "created_at",
        "updated_at",
    )
    inlines = [LocationInline, DocumentInline]


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("path", "work", "state", "language", "size_bytes", "fingerprinted_at")
    list_filter = ("state", "language")
    search_fields = ("path", "work__title", "work__public_id", "exact_hash")
    exclude = ("text", "pending_text", "fingerprint")
    readonly_fields = (
        "work",
        "path",
        "language",
        "encoding",
        "size_bytes",
        "state",
        "error",
        "exact_hash",
        "num_lines",
        "num_tokens",
        "fingerprinted_at",
    )

    def has_add_permission(self, request):
        return False
