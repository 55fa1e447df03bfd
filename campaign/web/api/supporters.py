"""Supporters: double opt-in sign-up, "manage my data", preferences, export and erasure.

Sign-up and the "manage my data" request answer the same 202, after the same work,
whether or not the address is known, so the API never tells anyone who is registered:
both only record what was asked (campaign.application.supporters resolves it a moment
later). The confirmation e-mail links to a page that posts `links.sign("confirm", …)` to
`/supporters/confirm`, which records consent and hands out no credential. A known address
asking to manage its data is e-mailed an hour-long link, `links.sign("manage", …)`: sent as
`Authorization: Supporter <token>` it opens `/me`, `/me/subscriptions`, `/me/export` and
`/me/erase`, nothing else. Erasure links carry `links.sign("erase", …)`. Every link stops
working once the supporter is erased.
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
    request_manage_link,
    request_sign_up,
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
from campaign.web.api.responses import Responses, conflict, link, links, problem
from campaign.web.api.supporter_schemas import (
    ConfirmedSchema,
    ExportSchema,
    LinkTokenSchema,
    ManageRequestAcceptedSchema,
    ManageRequestSchema,
    SignUpAcceptedSchema,
    SignUpSchema,
    SubscriptionsSchema,
    SupporterPageSchema,
    SupporterSchema,
)
from campaign.web.auth import manage_link_required, require_role
from campaign.web.context import container, correlation_id

blueprint = Blueprint("supporters", __name__, url_prefix="/api/v1/supporters",
                      description="Supporters: sign-up, preferences, export and erasure.")
ACCEPTED = {"status": "confirmation_pending"}
MANAGE_ACCEPTED = {"status": "link_sent_if_registered"}
BAD_LINK: Responses = {"401": problem(
    "The link's token is not valid, has expired, or its supporter was erased")}

F = TypeVar("F", bound=Callable[..., Any])


@blueprint.route("", methods=["POST"])
@idempotent
@blueprint.arguments(SignUpSchema)
@blueprint.response(202, SignUpAcceptedSchema)
@blueprint.doc(security=PUBLIC, parameters=[HEADER_PARAMETER])
def sign_up(form: dict[str, Any]) -> tuple[dict[str, str], int]:
    """Sign up (double opt-in): the same 202, after the same work, for a new or known address.

    A new address gets a confirmation e-mail whose link carries the token
    `links.sign("confirm", supporter_id)`; nothing is sent to supporters until it is
    posted to `/supporters/confirm`. The response never names the supporter. Limited per
    client, and with "manage my data" requests to a shared hourly budget (429).
    """
    meta = Meta(actor="public", correlation_id=correlation_id(),
                idempotency_key=request.headers.get("Idempotency-Key"))
    request_sign_up(container().commands, Registration(**form), meta, utc_now(),
                    conn=g.get("conn"))
    return dict(ACCEPTED), 202


@blueprint.route("/manage-link", methods=["POST"])
@idempotent
@blueprint.arguments(ManageRequestSchema)
@blueprint.response(202, ManageRequestAcceptedSchema)
@blueprint.doc(security=PUBLIC, parameters=[HEADER_PARAMETER])
def request_manage(body: dict[str, str]) -> tuple[dict[str, str], int]:
    """Ask for a link to manage your data: the same 202 whether the address is known or not.

    A registered, not erased, address is e-mailed a link valid for an hour whose token
    opens `/me`, `/me/subscriptions`, `/me/export` and `/me/erase`. The link only ever goes
    to the address on file, so asking with someone else's address gives you nothing.
    """
    meta = Meta(actor="public", correlation_id=correlation_id(),
                idempotency_key=request.headers.get("Idempotency-Key"))
    request_manage_link(container().commands, body["email"], meta, utc_now(),
                        conn=g.get("conn"))
    return dict(MANAGE_ACCEPTED), 202


@blueprint.route("/confirm", methods=["POST"])
@blueprint.arguments(LinkTokenSchema)
@blueprint.response(200, ConfirmedSchema)
@blueprint.doc(security=PUBLIC, responses={**BAD_LINK, **conflict("supporter_erased")})
def confirm(body: dict[str, str]) -> dict[str, Any]:
    """Confirm the address and consent with the token from the confirmation e-mail.

    Confirming twice is harmless; confirming after an unsubscribe re-subscribes. The
    answer holds no credential: the link only proves that the address reads its mail.
    """
    with reading() as conn:
        supporter_id = container().links.holder(conn, "confirm", body["token"])
    g.caller = Caller("supporter", supporter_id)
    dispatch(supporter.ConfirmConsent(supporter_id=supporter_id, confirmed_at=utc_now()))
    return {"supporter_id": supporter_id, "consented": True}


@blueprint.route("/erase", methods=["POST"])
@idempotent
@blueprint.arguments(LinkTokenSchema)
@blueprint.response(204)
@blueprint.doc(security=PUBLIC, parameters=[HEADER_PARAMETER], responses=BAD_LINK)
def erase_by_link(body: dict[str, str]) -> None:
    """Erase yourself with the token of your signed erasure link (401 once erased)."""
    with reading() as conn:
        supporter_id = container().links.holder(conn, "erase", body["token"])
    _erase_self(supporter_id)


@blueprint.route("/me/erase", methods=["POST"])
@manage_link_required
@idempotent
@blueprint.response(204)
@blueprint.doc(security=SUPPORTER, parameters=[HEADER_PARAMETER])
def erase_me() -> None:
    """Erase yourself with your "manage my data" link; the link stops working with it."""
    _erase_self(g.caller.id)


def _erase_self(supporter_id: str) -> None:
    meta = Meta(actor=f"supporter:{supporter_id}", correlation_id=correlation_id(),
                idempotency_key=request.headers.get("Idempotency-Key"))
    erase_supporter(container().commands, container().vault, supporter_id, "supporter", meta,
                    utc_now(), conn=g.get("conn"))


@blueprint.route("/me", methods=["GET"])
@manage_link_required
@blueprint.response(200, SupporterSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blueprint.doc(security=SUPPORTER, responses=links(200, ChangeSubscriptions=link(
    "supporters.change_subscriptions", if_match=True)))
def me() -> tuple[dict[str, Any], int, dict[str, str]]:
    """Your language, country, timezone, consent and subscriptions."""
    with reading() as conn:
        body, version = _profile(conn, g.caller.id)
    return body, 200, etag(version)


@blueprint.route("/me/subscriptions", methods=["PUT"])
@manage_link_required
@blueprint.arguments(SubscriptionsSchema)
@blueprint.response(200, SupporterSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blueprint.doc(security=SUPPORTER, parameters=[IF_MATCH],
               responses=conflict("supporter_erased", "consent_required"))
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
@manage_link_required
@blueprint.response(200, ExportSchema)
@blueprint.doc(security=SUPPORTER)
def export_mine() -> dict[str, Any]:
    """Everything we hold about you, decrypted."""
    return export_supporter(container().commands, g.caller.id)


@blueprint.route("", methods=["GET"])
@require_role("admin")
@blueprint.arguments(PageQuerySchema, location="query")
@blueprint.response(200, SupporterPageSchema)
@blueprint.doc(security=CAMPAIGNER, responses=links(200, Export=link(
    "supporters.export_one", supporter_id="$response.body#/items/0/supporter_id")))
def list_supporters(query: dict[str, Any]) -> dict[str, Any]:
    """Supporters by id, for audience checks: no e-mail, no name."""
    return list_page(supporters.c.supporter_id, query, {}, _audience_entry)


def _audience_entry(conn: Connection, supporter_id: str) -> dict[str, Any]:
    row = conn.execute(select(supporters).where(supporters.c.supporter_id == supporter_id)).one()
    return {
        "supporter_id": row.supporter_id, "locale": row.locale, "country": row.country,
        "consented": row.consented, "unsubscribed": row.unsubscribed,
        "email_paused": row.email_paused, "suppressed": row.suppressed is not None,
        "suppression_reason": row.suppressed, "erased": row.erased,
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
        "unsubscribed": row.unsubscribed, "email_paused": row.email_paused,
        "suppressed": row.suppressed is not None, "suppression_reason": row.suppressed,
    }, int(version)
