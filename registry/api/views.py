"""/api/v1/me (who a key is) and the JSON 404 for unknown paths under /api/v1/."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from registry.api.base import ApiView
from registry.apikeys.models import ApiKey


@extend_schema_serializer(component_name="Organisation")
class OrganisationOutput(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.SlugField()


class MeApi(ApiView):
    """Who the presented key is: its name, scope, organisation and rate limit."""

    # Every endpoint's nested serializer is called Output (house style), so each names its
    # schema component: spectacular would otherwise merge them all under "Output".
    @extend_schema_serializer(component_name="Me")
    class Output(serializers.Serializer):
        name = serializers.CharField(help_text="The key's name, as its owner gave it.")
        prefix = serializers.CharField(help_text="The key's public part, rk_<prefix>_….")
        scope = serializers.ChoiceField(choices=ApiKey.Scope.choices)
        organisation = OrganisationOutput(allow_null=True, help_text="Null for a personal key.")
        rate_limit_per_minute = serializers.IntegerField()
        created_at = serializers.DateTimeField()
        expires_at = serializers.DateTimeField(allow_null=True, help_text="Null: never expires.")

    @extend_schema(operation_id="me", summary="Who am I", responses={200: Output}, tags=["keys"])
    def get(self, request: Request) -> Response:
        return Response(self.Output(request.auth).data)


@extend_schema(exclude=True)
class NotFoundApi(ApiView):
    """Any other path under /api/v1/: a JSON 404 instead of Django's HTML page."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    def _not_found(self, request, *args, **kwargs):
        raise exceptions.NotFound(f"There is no API endpoint at {request.path}; see /api/v1/docs/.")

    get = post = put = patch = delete = head = options = _not_found
