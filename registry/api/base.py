"""The base view every /api/v1/ endpoint subclasses: API-key authentication, a scope check,
the per-key rate limit, JSON in and out.

    class LookupApi(ApiView):
        permission_classes = [HasScope("filter")]

        @extend_schema(request=InputSerializer, responses=OutputSerializer)
        def post(self, request): ...

Session cookies are deliberately not accepted here: the API is for programs, and a cookie
would make every endpoint a CSRF target.
"""

from __future__ import annotations

from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from registry.apikeys.authentication import ApiKeyAuthentication
from registry.apikeys.permissions import HasApiKey
from registry.apikeys.throttling import ApiKeyRateThrottle


class ApiView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]  # subclasses narrow it with HasScope(...)
    throttle_classes = [ApiKeyRateThrottle]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
