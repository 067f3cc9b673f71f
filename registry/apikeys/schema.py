"""The API-key security scheme in the OpenAPI schema (registered with drf-spectacular on import,
from ApikeysConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "registry.apikeys.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "rk_<prefix>_<secret>",
            "description": (
                "An API key from the API keys page, sent as `Authorization: Bearer rk_...` "
                "(or in an `X-Api-Key` header)."
            ),
        }
