"""Every string and every list a client may send in a body or a query has a stated limit.

Read from the OpenAPI document the server publishes, so a field added later without a
limit fails here, and clients see the limits the server enforces. Dates and instants are
bounded by their grammar. Headers are bounded by the server's header size, and SendGrid's
signed webhook by its own body limit: only SendGrid can post there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask.testing import FlaskClient

FIXED_FORMATS = {"date", "date-time", "local-date-time"}


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def request_schemas(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, schema) for every request body and every query parameter."""
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or path.startswith("/webhooks/"):
                continue
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    yield f"{where} {parameter['name']}", parameter["schema"]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                yield where, body["schema"]


def unbounded(spec: dict[str, Any], schema: dict[str, Any], where: str,
              seen: frozenset[str] = frozenset()) -> Iterator[str]:
    """Where a string or a list in `schema` has no maximum."""
    name = schema.get("$ref", "").rsplit("/", 1)[-1]
    if name in seen:
        return
    schema = resolve(spec, schema)
    seen = seen | {name} if name else seen
    kind = schema.get("type")
    if kind == "object":
        for field, inner in schema.get("properties", {}).items():
            if not inner.get("readOnly"):
                yield from unbounded(spec, inner, f"{where}.{field}", seen)
    elif kind == "array":
        if "maxItems" not in schema:
            yield f"{where}: a list without maxItems"
        yield from unbounded(spec, schema.get("items", {}), f"{where}[]", seen)
    elif kind == "string" and not ({"maxLength", "enum"} & schema.keys()
                                   or schema.get("format") in FIXED_FORMATS):
        yield f"{where}: a string without maxLength"
    for part in schema.get("allOf", []) + schema.get("anyOf", []) + schema.get("oneOf", []):
        yield from unbounded(spec, part, where, seen)


def test_every_string_and_list_a_client_sends_has_a_limit(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()

    missing = [fault for where, schema in request_schemas(spec)
               for fault in unbounded(spec, schema, where)]

    assert missing == []
