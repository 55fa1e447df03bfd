"""Campaigner API tokens: admins create, list, change the role of and revoke them.

Creating a token takes no Idempotency-Key: a stored reply would keep the token itself, in
clear, in the idempotency table. A lost reply costs a token nobody holds; revoke it.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g

from campaign.application.access import (
    ROLES,
    TokenRecord,
    change_role,
    create_token,
    find_token,
    revoke_token,
)
from campaign.application.access import list_tokens as token_records
from campaign.application.errors import NotFound
from campaign.web.api.common import EMAIL, ApiSchema, reading
from campaign.web.api.json_body import Blueprint
from campaign.web.api.responses import link, links
from campaign.web.auth import require_role
from campaign.web.context import container

blueprint = Blueprint("tokens", __name__, url_prefix="/api/v1/tokens",
                      description="Campaigner API tokens (admin only).")
ADMIN: list[dict[str, list[str]]] = [{"campaignerToken": []}]
NEXT = {"Revoke": link("tokens.revoke", token_id="$response.body#/token_id"),
        "ChangeRole": link("tokens.change_role_of", token_id="$response.body#/token_id")}


class NewTokenSchema(ApiSchema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    email = ma.fields.Email(load_default=None, allow_none=True, validate=EMAIL, metadata={
        "description": "The campaigner's own address: the console's test sends go there"})


class RoleChangeSchema(ApiSchema):
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))


class TokenSchema(ApiSchema):
    token_id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    role = ma.fields.String(required=True, metadata={"enum": list(ROLES)})
    email = ma.fields.String(allow_none=True, required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    created_by = ma.fields.String(allow_none=True, required=True, metadata={
        "description": "Who made it: `token:<id>`, `cli`; null for tokens made before this "
                       "was recorded"})
    last_used_at = ma.fields.AwareDateTime(allow_none=True, required=True, metadata={
        "description": "Its last use, to within five minutes"})
    revoked = ma.fields.Boolean(required=True)
    revoked_at = ma.fields.AwareDateTime(allow_none=True, required=True)


class CreatedTokenSchema(TokenSchema):
    token = ma.fields.String(required=True, metadata={"description": "Shown once; store it now."})


@blueprint.route("", methods=["POST"])
@require_role("admin")
@blueprint.arguments(NewTokenSchema)
@blueprint.response(201, CreatedTokenSchema)
@blueprint.doc(security=ADMIN, responses=links(201, **NEXT))
def create(body: dict[str, Any]) -> dict[str, Any]:
    """Create a token; the response is the only time it is shown."""
    engine = container().engine
    token_id, token = create_token(engine, body["name"], body["role"], email=body["email"],
                                   created_by=g.caller.actor)
    with engine.connect() as conn:
        record = find_token(conn, token_id)
    assert record is not None
    return {**_body(record), "token": token}


@blueprint.route("", methods=["GET"])
@require_role("admin")
@blueprint.response(200, TokenSchema(many=True))
@blueprint.doc(security=ADMIN)
def list_tokens() -> list[dict[str, Any]]:
    """Every token, without its secret, revoked ones included."""
    with reading() as conn:
        return [_body(record) for record in token_records(conn)]


@blueprint.route("/<token_id>", methods=["PATCH"])
@require_role("admin")
@blueprint.arguments(RoleChangeSchema)
@blueprint.response(200, TokenSchema)
@blueprint.doc(security=ADMIN, responses=links(200, **NEXT))
def change_role_of(body: dict[str, Any], token_id: str) -> dict[str, Any]:
    """Give a token another role: API calls get it at once; its console sessions end, so
    whoever holds it signs in again under the new role."""
    with container().engine.begin() as conn:
        if not change_role(conn, token_id, body["role"]):
            raise NotFound(f"no active token {token_id}")
        record = find_token(conn, token_id)
    assert record is not None
    return _body(record)


@blueprint.route("/<token_id>", methods=["DELETE"])
@require_role("admin")
@blueprint.response(204)
@blueprint.doc(security=ADMIN)
def revoke(token_id: str) -> None:
    """Revoke a token at once; its console sessions end with it."""
    with container().engine.begin() as conn:
        if not revoke_token(conn, token_id):
            raise NotFound(f"no active token {token_id}")


def _body(record: TokenRecord) -> dict[str, Any]:
    return vars(record)
