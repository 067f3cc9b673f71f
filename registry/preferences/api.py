"""Preference exports over the API (see registry/preferences/exports.py for the formats).

    GET /api/v1/works/<public_id>/preferences/export   public: preferences are public information
    GET /api/v1/me/preferences/export                  the caller's defaults (a personal key of
                                                       any scope, or a logged-in session)

Users have no public id, so an author's defaults are exported for the caller only; anyone can
read the export of any work (the same preferences the lookup and filter APIs answer with).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import exceptions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from registry.api.base import ApiView
from registry.apikeys.authentication import ApiKeyAuthentication
from registry.preferences import exports, vocabulary
from registry.works.models import Work


@extend_schema_serializer(component_name="TdmRepEntry")
class TdmRepEntryOutput(serializers.Serializer):
    location = serializers.CharField()
    tdm_reservation = serializers.IntegerField(min_value=0, max_value=1)
    tdm_policy = serializers.URLField(required=False)

    def get_fields(self):
        # The JSON keys have hyphens, which are not Python names.
        fields = super().get_fields()
        fields["tdm-reservation"] = fields.pop("tdm_reservation")
        fields["tdm-policy"] = fields.pop("tdm_policy")
        return fields


@extend_schema_serializer(component_name="PreferenceExport")
class ExportOutput(serializers.Serializer):
    preferences = serializers.DictField(
        child=serializers.ChoiceField(choices=list(vocabulary.VALUES)),
        help_text="The effective value of every vocabulary key.",
    )
    paths = serializers.ListField(child=serializers.CharField(), help_text="The paths the exports cover.")
    content_usage = serializers.CharField(
        allow_blank=True, help_text="The Content-Usage expression (draft-ietf-aipref-attach); empty if unset."
    )
    headers = serializers.DictField(
        child=serializers.CharField(),
        help_text="HTTP response headers: Content-Usage, tdm-reservation, tdm-policy.",
    )
    tdmrep = TdmRepEntryOutput(many=True, help_text="Entries for /.well-known/tdmrep.json (W3C TDMRep).")
    robots_txt = serializers.CharField(help_text="Lines for robots.txt.")


class WorkExportApi(ApiView):
    """The machine-readable exports of one work's preferences. Public; never any text."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(
        operation_id="work_preferences_export",
        summary="Export a work's preferences",
        responses={200: ExportOutput},
        tags=["preferences"],
        auth=[],
    )
    def get(self, request: Request, public_id: str) -> Response:
        work = Work.objects.filter(public_id=public_id).first()
        if work is None:
            raise exceptions.NotFound(f"There is no work with the id {public_id!r}.")
        return Response(exports.work_export(work).to_dict())


class HasPerson(BasePermission):
    """A person: a personal key (any scope) or a logged-in session, not an organisation's key."""

    message = "An organisation's key has no author defaults; use a personal key or log in."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.pk is not None)


class MyExportApi(ApiView):
    """The machine-readable exports of the caller's default preferences."""

    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [HasPerson]

    @extend_schema(
        operation_id="my_preferences_export",
        summary="Export my default preferences",
        responses={200: ExportOutput},
        tags=["preferences"],
    )
    def get(self, request: Request) -> Response:
        return Response(exports.author_export(request.user).to_dict())
