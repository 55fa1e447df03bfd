"""Partners (S6): delivery health across partners, and one partner's page with its delivery
log, failures, credentials (masked) and what it follows.

Everyone signed in may read these pages (partners see no supporter data, nor do these
pages); only admins see and may use the forms (`partner_actions`). The list and the page
read the same function (`webhooks.health`), so their numbers agree.
"""

from __future__ import annotations

import json
from typing import Any

from flask import request
from sqlalchemy import Connection, select

from campaign.application.errors import NotFound
from campaign.domain.partner import FOLLOW_FIELDS, PARTNER_EVENT_TYPES, partner_stream
from campaign.infra.clock import utc_now
from campaign.infra.event_mapping import reveal
from campaign.infra.tables import partner_secrets, partners, webhook_deliveries, webhook_messages
from campaign.partners.webhooks.deliveries import CANCELLED, FAILED, STATUSES
from campaign.partners.webhooks.health import every_partner_health, partner_health
from campaign.partners.webhooks.log import delivery_log, with_attempts
from campaign.web.console.blueprint import console_blueprint
from campaign.web.console.reveal import take_once
from campaign.web.console.session import allowed, console_view, current_session, render_console
from campaign.web.context import container
from events import as_utc

blueprint = console_blueprint("console_partners", __name__)
LOG_PAGE = 25
FAILURES_SHOWN = 50


@blueprint.route("/partners", methods=["GET"])
@console_view()
def partners_page() -> str:
    """Every partner's delivery health, by name."""
    with container().engine.connect() as conn:
        found = every_partner_health(conn, utc_now())
    return render_console("console/partners.html", partners=found)


@blueprint.route("/partners/<partner_id>", methods=["GET"])
@console_view()
def partner_page(partner_id: str) -> tuple[str, int, dict[str, str]]:
    """One partner; a secret or key issued by the POST before this page is shown once."""
    shown = detail_page(partner_id)
    return shown, 200, {"Cache-Control": "no-store"}


def detail_page(partner_id: str, status: int = 200, error: str | None = None,
                errors: list[tuple[str, str]] | None = None,
                follows: dict[str, Any] | None = None) -> str:
    """The partner's page, with an error message or form errors when a write was refused."""
    status_filter = _one_of(request.args.get("status"), STATUSES)
    type_filter = _one_of(request.args.get("type"), PARTNER_EVENT_TYPES)
    cursor = request.args.get("cursor") or None
    if cursor is not None and not _is_cursor(cursor):
        cursor = None
    signed_in = current_session()
    revealed = {}
    if signed_in is not None and status == 200:
        revealed = {what: take_once(signed_in.session_id, f"{what}:{partner_id}")
                    for what in ("secret", "api_key")}
    with container().engine.connect() as conn:
        row = _partner_row(conn, partner_id)
        health = partner_health(conn, partner_id, utc_now())
        log = delivery_log(conn, partner_id, LOG_PAGE, status=status_filter,
                           event_type=type_filter, after=cursor)
        failures = _failures(conn, partner_id)
        bodies = _bodies(conn, [d["event_id"] for d in (*log.items, *failures)])
        contact = reveal(container().vault, conn, partner_stream(partner_id),
                         "contact_email", row.contact_email) if is_admin() else None
        secrets = _secrets(conn, partner_id)
    current = follows or {f: ", ".join(getattr(row, f)) for f in FOLLOW_FIELDS
                          if f != "event_types"} | {"event_types": list(row.event_types)}
    return render_console(
        "console/partner.html", partner=row, health=health, log=log, failures=failures,
        bodies=bodies, contact=contact, secrets=secrets, revealed=revealed,
        statuses=STATUSES, event_types=PARTNER_EVENT_TYPES, status_filter=status_filter,
        type_filter=type_filter, follows=current, error=error, errors=errors or [],
        http_status=status)


def is_admin() -> bool:
    """Whether this page's reader may manage partners."""
    signed_in = current_session()
    return signed_in is not None and allowed(signed_in.role, "admin")


def _partner_row(conn: Connection, partner_id: str) -> Any:
    row = conn.execute(select(partners).where(partners.c.partner_id == partner_id)
                       ).one_or_none()
    if row is None:
        raise NotFound(f"no partner {partner_id}")
    return row


def _failures(conn: Connection, partner_id: str) -> list[dict[str, Any]]:
    """Deliveries that ended without success (retries ran out, or cancelled), newest first."""
    d = webhook_deliveries.c
    rows = conn.execute(select(webhook_deliveries).where(
        d.partner_id == partner_id, d.status.in_([FAILED, CANCELLED]))
        .order_by(d.position.desc()).limit(FAILURES_SHOWN)).all()
    return with_attempts(conn, rows)


def _bodies(conn: Connection, event_ids: list[str]) -> dict[str, str]:
    """Each event's webhook body, pretty-printed (partner bodies hold no personal data)."""
    m = webhook_messages.c
    found = conn.execute(select(m.event_id, m.body).where(m.event_id.in_(set(event_ids))))
    return {event_id: json.dumps(json.loads(body), indent=2, ensure_ascii=False)
            for event_id, body in found}


def _secrets(conn: Connection, partner_id: str) -> list[dict[str, Any]]:
    """The partner's signing secrets, masked: id, since when, until when."""
    s = partner_secrets.c
    rows = conn.execute(select(s.secret_id, s.created_at, s.expires_at)
                        .where(s.partner_id == partner_id)
                        .order_by(s.created_at.desc()).limit(5)).all()
    return [{"secret_id": r.secret_id, "created_at": as_utc(r.created_at),
             "expires_at": None if r.expires_at is None else as_utc(r.expires_at)}
            for r in rows]


def _one_of(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


def _is_cursor(cursor: str) -> bool:
    position, colon, delivery_id = cursor.partition(":")
    return bool(colon) and position.isascii() and position.isdigit() \
        and len(position) <= 18 and bool(delivery_id)
