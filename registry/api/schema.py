"""OpenAPI additions drf-spectacular cannot infer: the error shape and codes on every operation.

`postprocess` is listed in SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]. It adds
- an `Error` component whose `code` enumerates `registry.api.errors.ERRORS`,
- the table of codes to the schema's description (generated, so it cannot drift), and
- the error responses each operation can return, so a schema-driven tester (schemathesis)
  finds every status the API sends documented: 400 where input is read, 401/403/429 where a key
  is required, 404 where the path names an object.
"""

from __future__ import annotations

from registry.api.errors import ERRORS

ERROR_REF = {"$ref": "#/components/schemas/Error"}

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error the API returns has this shape.",
    "properties": {
        "code": {"type": "string", "enum": [str(c) for c in ERRORS], "description": "Stable, for programs."},
        "detail": {"type": "string", "description": "For people: what was wrong and what to do."},
        "errors": {
            "type": "object",
            # A list of messages per field; a nested object for nested fields.
            "additionalProperties": {},
            "description": "Only with code `invalid`: the messages for each field.",
        },
        "retry_after": {"type": "integer", "description": "Only with code `rate_limited`: seconds."},
    },
    "required": ["code", "detail"],
}


def error_table() -> str:
    rows = "\n".join(f"| `{code}` | {info.status} | {info.meaning} |" for code, info in ERRORS.items())
    return "| code | HTTP status | meaning |\n|---|---|---|\n" + rows


def _codes_for(status: int) -> str:
    return ", ".join(f"`{c}`" for c, info in ERRORS.items() if info.status == status)


def _error_response(status: int) -> dict:
    return {
        "description": f"Error ({_codes_for(status)}).",
        "content": {"application/json": {"schema": ERROR_REF}},
    }


def postprocess(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA

    info = result.setdefault("info", {})
    intro = info.get("description", "")
    info["description"] = (
        f"{intro}\n\n" if intro else ""
    ) + f"## Errors\n\nEvery error is JSON with a stable `code` and a human `detail`:\n\n{error_table()}\n"

    for _path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method.startswith("x-") or not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            statuses = [406, 500]
            if operation.get("requestBody") or operation.get("parameters"):
                statuses += [400]
            if operation.get("requestBody"):
                statuses += [415]
            if any(p.get("in") == "path" for p in operation.get("parameters", [])):
                statuses += [404]
            # An operation without security, or with the empty alternative {}, needs no key.
            security = operation.get("security", result.get("security", []))
            if security and {} not in security:
                statuses += [401, 403, 429]
            for status in sorted(statuses):
                responses.setdefault(str(status), _error_response(status))
    return result


__all__ = ["error_table", "postprocess"]
