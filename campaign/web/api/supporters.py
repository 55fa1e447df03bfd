"""Supporters: double opt-in sign-up, preferences, data export and erasure.

Sign-up answers the same 202 whether or not the address is known, so the API never
tells anyone who is registered. The confirmation e-mail (sent by the workers) links to
a page that posts `links.sign("confirm", supporter_id)` to `/supporters/confirm`; that
answers with the supporter's own token, `links.sign("supporter", supporter_id)`, sent
back as `Authorization: Supporter <token>`. Erasure links carry
`links.sign("erase", supporter_id)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request
from sqlalchemy import Connection, select

from campaign.application.access import Caller
from campaign.application.commands import Meta
from campaign.application.supporters import (
    Registration,
    erase_supporter,
    export_supporter,
    register_supporter,
    require_supporter,
)
from campaign.domain import supporter
from campaign.domain.base import DomainError
from campaign.infra.clock import utc_now
from campaign.infra.tables import stream_directory, supporters
from campaign.web.api.common import (
    CAMPAIGNER,
    IF_MATCH,
    PUBLIC,
    SUPPORTER,
    PageQuerySchema,
    dispatch,
    etag,
    list_page,
    meta,
    reading,
)
from campaign.web.api.idempotency import HEADER_PARAMETER, idempotent
from campaign.web.api.json_body import Blueprint
from campaign.web.api.supporter_schemas import (
    ConfirmedSchema,
    ExportSchema,
    LinkTokenSchema,
    SignUpAcceptedSchema,
    SignUpSchema,
    SubscriptionsSchema,
    SupporterPageSchema,
    SupporterSchema,
)
from campaign.web.auth import require_role, supporter_required
from campaign.web.context import container, correlation_id

blueprint = Blueprint("supporters", __name__, url_prefix="/api/v1/supporters",
                      description="Supporters: sign-up, preferences, export and erasure.")
ACCEPTED = {"status": "confirmation_pending"}

F = TypeVar("F", bound=Callable[..., Any])


@blueprint.route("", methods=["POST"])
@idempotent
@blueprint.arguments(SignUpSchema)
@blueprint.response(202, SignUpAcceptedSchema)
@blueprint.doc(security=PUBLIC, parameters=[HEADER_PARAMETER])
def sign_up(form: dict[str, Any]) -> tuple[dict[str, str], int]:
    """Sign up (double opt-in): the same 202 whether the address is new or known.

    A new address gets a confirmation e-mail whose link carries the token
    `links.sign("confirm", supporter_id)`; nothing is sent to supporters until it is
    posted to `/supporters/confirm`. The response never names the supporter.
    """
    meta = Meta(actor="public", correlation_id=correlation_id(),
                idempotency_key=request.headers.get("Idempotency-Key"))
    c = container()
    register_supporter(c.commands, c.blind_index, Registration(**form), meta, utc_now(),
                       conn=g.get("conn"))
    return dict(ACCEPTED), 202


@blueprint.route("/confirm", methods=["POST"])
@blueprint.arguments(LinkTokenSchema)
@blueprint.response(200, ConfirmedSchema)
@blueprint.doc(security=PUBLIC)
def confirm(body: dict[str, str]) -> dict[str, str]:
    """Confirm the address and consent with the token from the confirmation e-mail.

    Confirming twice is harmless; confirming after an unsubscribe re-subscribes.
    Not Idempotency-Key aware on purpose: the answer holds a credential, which must not
    be stored, and a retry is safe anyway.
    """
    supporter_id = container().links.verify("confirm", body["token"])
    g.caller = Caller("supporter", supporter_id)
    dispatch(supporter.ConfirmConsent(supporter_id=supporter_id, confirmed_at=utc_now()))
    return {"supporter_id": supporter_id,
            "supporter_token": container().links.sign("supporter", supporter_id)}


@blueprint.route("/erase", methods=["POST"])
@idempotent
@blueprint.arguments(LinkTokenSchema)
@blueprint.response(204)
@blueprint.doc(security=PUBLIC, parameters=[HEADER_PARAMETER])
def erase_by_link(body: dict[str, str]) -> None:
    """Erase yourself with the token of your signed erasure link; idempotent."""
    supporter_id = container().links.verify("erase", body["token"])
    meta = Meta(actor=f"supporter:{supporter_id}", correlation_id=correlation_id(),
                idempotency_key=request.headers.get("Idempotency-Key"))
    erase_supporter(container().commands, container().vault, supporter_id, "supporter", meta,
                    utc_now(), conn=g.get("conn"))


@blueprint.route("/me", methods=["GET"])
@supporter_required
@blueprint.response(200, SupporterSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blueprint.doc(security=SUPPORTER)
def me() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Your language, country, timezone, consent and subscriptions."""
    with reading() as conn:
        body, version = _profile(conn, g.caller.id)
    return body, 200, etag(version)


@blueprint.route("/me/subscriptions", methods=["PUT"])
@supporter_required
@blueprint.arguments(SubscriptionsSchema)
@blueprint.response(200, SupporterSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blueprint.doc(security=SUPPORTER, parameters=[IF_MATCH])
def change_subscriptions(wanted: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Choose which actions you receive: all, or those for some countries or cases."""
    with reading() as conn:
        _profile(conn, g.caller.id)  # 409 when erased, before the domain says it
    dispatch(supporter.ChangeSubscriptions(supporter_id=g.caller.id, changed_at=utc_now(),
                                           **wanted), with_if_match=True)
    with reading() as conn:
        body, version = _profile(conn, g.caller.id)
    return body, 200, etag(version)


@blueprint.route("/me/export", methods=["GET"])
@supporter_required
@blueprint.response(200, ExportSchema)
@blueprint.doc(security=SUPPORTER)
def export_mine() -> dict[str, Any]:
    """Everything we hold about you, decrypted."""
    return export_supporter(container().commands, g.caller.id)


@blueprint.route("", methods=["GET"])
@require_role("admin")
@blueprint.arguments(PageQuerySchema, location="query")
@blueprint.response(200, SupporterPageSchema)
@blueprint.doc(security=CAMPAIGNER)
def list_supporters(query: dict[str, Any]) -> dict[str, Any]:
    """Supporters by id, for audience checks: no e-mail, no name."""
    return list_page(supporters.c.supporter_id, query, {}, _audience_entry)


def _audience_entry(conn: Connection, supporter_id: str) -> dict[str, Any]:
    row = conn.execute(select(supporters).where(supporters.c.supporter_id == supporter_id)).one()
    return {
        "supporter_id": row.supporter_id, "locale": row.locale, "country": row.country,
        "consented": row.consented, "unsubscribed": row.unsubscribed,
        "suppressed": row.suppressed is not None, "suppression_reason": row.suppressed,
        "erased": row.erased,
    }


@blueprint.route("/<supporter_id>/export", methods=["GET"])
@require_role("admin")
@blueprint.response(200, ExportSchema)
@blueprint.doc(security=CAMPAIGNER)
def export_one(supporter_id: str) -> dict[str, Any]:
    """Everything held about one supporter, decrypted (answering an access request)."""
    return export_supporter(container().commands, supporter_id)


@blueprint.route("/<supporter_id>/erase", methods=["POST"])
@require_role("admin")
@idempotent
@blueprint.response(204)
@blueprint.doc(security=CAMPAIGNER, parameters=[HEADER_PARAMETER])
def erase(supporter_id: str) -> None:
    """Erase a supporter: their key is destroyed, their events stay unreadable; idempotent."""
    erase_supporter(container().commands, container().vault, supporter_id, "campaigner",
                    meta(), utc_now(), conn=g.get("conn"))


def _profile(conn: Connection, supporter_id: str) -> tuple[dict[str, Any], int]:
    """The supporter's own view and their stream's version; 409 once erased."""
    row = require_supporter(conn, supporter_id)
    if row.erased:
        raise DomainError("supporter_erased", "the supporter was erased")
    version = conn.execute(
        select(stream_directory.c.version)
        .where(stream_directory.c.stream_id == supporter.supporter_stream(supporter_id))
    ).scalar_one()
    return {
        "supporter_id": supporter_id, "locale": row.locale, "country": row.country,
        "timezone": row.timezone, "consented": row.consented,
        "subscriptions": {"all_actions": row.all_actions, "countries": list(row.countries),
                          "case_ids": list(row.case_ids)},
        "unsubscribed": row.unsubscribed, "suppressed": row.suppressed is not None,
        "suppression_reason": row.suppressed,
    }, int(version)
