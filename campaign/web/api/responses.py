"""What each operation can answer, written into the spec by what the operation has.

flask-smorest gives every operation a `default` error response, which documents every
status and so none: a client could not tell a 409 it should handle from a bug, and a
checker could not find an undocumented status. Instead each operation lists the statuses
it really returns. The usual ones follow from what the operation has, and are added here:

- every operation: 400 (a malformed request: a NUL in the URL, a body nested too deep, a
  header or cursor this API does not take);
- path parameters: 404 (nothing by that id);
- a JSON body: 413 (over the size limit), 415 (not application/json), 422 (invalid fields);
- query parameters: 422;
- If-Match: 412 (stale); a required one: 428 (missing);
- Idempotency-Key: 422 (malformed, or used before for another request);
- a rate-limited endpoint (campaign.web.limits): 429, with Retry-After.

Credentials document themselves (the guards in campaign.web.auth: 401, and 403 where a
role or a link's action can refuse). Conflicts with the domain's rules (409) are named by
each view with their `code` values (`conflict`). Each operation's id is its endpoint, which
links between operations (`link`) name.
"""

from __future__ import annotations

import http
from collections.abc import Iterable
from typing import Any

from apispec import BasePlugin
from werkzeug.routing import Rule

from campaign.web.api import formats
from campaign.web.limits import PER_CLIENT
from campaign.web.problems import PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


Responses = dict[int | str, dict[str, Any]]
"""Responses for a view's `doc(responses=...)`, by status."""

PATH_SEGMENT = r"^[^/\x00]+$"
"""A path parameter: one segment of the path (a `/` would make it another path)."""


def problem(description: str, codes: Iterable[str] = (),
            headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A problem+json response; `codes`: the values its `code` takes, one of them always."""
    schema: dict[str, Any] = PROBLEM_REF
    known = sorted(set(codes))
    if known:
        description += "; `code` is " + ", ".join(f"`{code}`" for code in known)
        schema = {"allOf": [PROBLEM_REF, {"type": "object", "required": ["code"],
                                          "properties": {"code": {"enum": known}}}]}
    response: dict[str, Any] = {"description": description,
                                "content": {PROBLEM_JSON: {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def conflict(*codes: str) -> Responses:
    """The 409 of an operation whose command the domain may refuse, with the codes it uses.

    Every command may also meet another writer on the same stream (`concurrent_update`).
    """
    return {"409": problem("A rule of the resource's current state refuses the request",
                           (*codes, "concurrent_update"))}


ETAG = "$response.header.ETag"


def link(operation_id: str, *, if_match: bool = False, body: dict[str, str] | None = None,
         **path: str) -> dict[str, Any]:
    """An OpenAPI link to `operation_id`: its path parameters and body fields taken from
    this response (runtime expressions); `if_match`: with this response's ETag."""
    parameters: dict[str, str] = dict(path)
    if if_match:
        parameters["header.If-Match"] = ETAG
    found: dict[str, Any] = {"operationId": operation_id}
    if parameters:
        found["parameters"] = parameters
    if body:
        found["requestBody"] = body
    return found


def links(status: int, **named: dict[str, Any]) -> Responses:
    """The `links` of a response, for a view's `doc(responses=...)`."""
    return {status: {"links": named}}


RETRY_AFTER = {"Retry-After": {"required": True, "description": "Seconds to wait",
                               "schema": {"type": "integer", "minimum": 0}}}

USUAL: dict[int, dict[str, Any]] = {
    400: problem("The request is malformed: a NUL in the URL, a body nested too deep, a "
                 "header or cursor this API does not take"),
    404: problem("Nothing by that id"),
    412: problem("If-Match names an older version: read the resource again",
                 ["version_mismatch"]),
    413: problem("The body is over the size limit"),
    415: problem("The body is not sent as application/json"),
    422: problem("Invalid fields, headers or query parameters, each named in `errors`"),
    428: problem("This write needs If-Match with the ETag last read", ["if_match_required"]),
    429: problem("Too many requests: wait as long as Retry-After says", headers=RETRY_AFTER),
}


def usual_statuses(rule: Rule, operation: dict[str, Any]) -> set[int]:
    """The statuses `operation` (served by `rule`) can answer by what it has."""
    statuses = {400}
    parameters = [p for p in operation.get("parameters", []) if isinstance(p, dict)]
    named = {(p.get("in"), p.get("name")): p for p in parameters}
    if rule.arguments:
        statuses.add(404)
    if "requestBody" in operation:
        statuses |= {413, 415, 422}
    if any(where == "query" for where, _ in named):
        statuses.add(422)
    if_match = named.get(("header", "If-Match"))
    if if_match is not None:
        statuses |= {412} | ({428} if if_match.get("required") else set())
    if ("header", "Idempotency-Key") in named:
        statuses.add(422)
    if rule.endpoint in PER_CLIENT:
        statuses.add(429)
    return statuses


def response_for(status: http.HTTPStatus) -> dict[str, Any]:
    """The spec's response component for `status` (its name is the status's name)."""
    if status in USUAL:
        return USUAL[status]
    if status >= 400:
        return problem(status.phrase)
    return {"description": status.phrase}


class OperationFacts(BasePlugin):
    """apispec plugin: each operation's id and its usual statuses."""

    def operation_helper(self, path: str | None = None,
                         operations: dict[str, Any] | None = None, **kwargs: Any) -> None:
        rule: Rule = kwargs["rule"]
        for operation in (operations or {}).values():
            operation.setdefault("operationId", rule.endpoint)
            responses = operation.setdefault("responses", {})
            documented = {str(status) for status in responses}
            for status in sorted(usual_statuses(rule, operation)):
                if str(status) not in documented:
                    responses[str(status)] = http.HTTPStatus(status).name


def path_segment(_converter: Any) -> dict[str, Any]:
    """The spec of a path parameter taken by werkzeug's default converter."""
    return {"type": "string", "pattern": PATH_SEGMENT}


def storable_text(_converter: Any, field: Any, ret: dict[str, Any], **_: Any) -> dict[str, Any]:
    """apispec attribute function: a string with no rule of its own still holds no NUL.

    Every request string is refused with a NUL in it (ApiSchema: PostgreSQL's text cannot
    hold one), so the spec says so wherever a field states no stricter pattern, set or format.
    """
    if ret.get("type") == "string" and not {"pattern", "enum", "format"} & set(ret):
        return {"pattern": formats.NO_NUL}
    return {}
