"""What admins do on a partner's page (S6): redeliver one delivery, replay a range, disable
or enable, rotate the signing secret or the API key, change what the partner follows.

Each is a POST (CSRF-checked, admin only on the server), calling the same use cases as the
JSON API, then a 303 back to the partner's page. A new secret or key is shown there once
(`reveal`); a refused write shows the page again with the reason (409 or 422).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import g, redirect, request, url_for
from werkzeug.wrappers import Response

from campaign.application.errors import NotFound, PreconditionFailed
from campaign.domain.base import DomainError
from campaign.domain.partner import PARTNER_EVENT_TYPES, Follows
from campaign.infra.clock import utc_now
from campaign.partners.admin import (
    MAX_OVERLAP,
    change_follows,
    rotate_api_key,
    rotate_secret,
    set_endpoint,
    unknown_follows,
)
from campaign.partners.registry import get_partner
from campaign.partners.webhooks import deliveries
from campaign.partners.webhooks.log import one_delivery
from campaign.web.console.blueprint import console_blueprint
from campaign.web.console.partners import detail_page
from campaign.web.console.reveal import keep_once
from campaign.web.console.session import console_meta, console_view
from campaign.web.context import container

blueprint = console_blueprint("console_partner_actions", __name__)
Answer = Response | tuple[str, int]
DISABLED = "The partner's endpoint is disabled: enable it first."
SEPARATORS = re.compile(r"[\s,]+")
POSITION = re.compile(r"^[0-9]{1,18}$")


def back(partner_id: str, done: str, anchor: str = "") -> Response:
    """303 to the partner's page, saying what was done."""
    return redirect(url_for("console_partners.partner_page", partner_id=partner_id, done=done,
                            _anchor=anchor or None), 303)


@blueprint.route("/partners/<partner_id>/deliveries/<delivery_id>/redeliver",
                 methods=["POST"])
@console_view("admin")
def redeliver(partner_id: str, delivery_id: str) -> Answer:
    """Send one delivery again, with its id, from the first step of the schedule."""
    with container().engine.connect() as conn:
        if one_delivery(conn, partner_id, delivery_id) is None:
            raise NotFound(f"no delivery {delivery_id} to partner {partner_id}")
    if not _enabled(partner_id):
        return detail_page(partner_id, 409, DISABLED), 409
    with container().commands.transaction() as conn:
        deliveries.rearm(conn, [delivery_id], utc_now())
    return back(partner_id, "redelivered", "log")


@blueprint.route("/partners/<partner_id>/replay", methods=["POST"])
@console_view("admin")
def replay(partner_id: str) -> Answer:
    """Send again what the partner follows in a range of the log (positions or UTC times)."""
    since, since_error = _point(request.form.get("since", ""), "From")
    until, until_error = _point(request.form.get("until", ""), "Until", optional=True)
    errors = [e for e in (since_error, until_error) if e is not None]
    if errors or since is None:
        return detail_page(partner_id, 422, errors=errors), 422
    if not _enabled(partner_id):
        return detail_page(partner_id, 409, DISABLED), 409
    with container().commands.transaction() as conn:
        partner = get_partner(conn, partner_id)
        assert partner is not None
        done = deliveries.replay(conn, partner, since, utc_now(), until)
    return back(partner_id, f"replayed {done.deliveries}", "log")


@blueprint.route("/partners/<partner_id>/disable", methods=["POST"])
@console_view("admin")
def disable(partner_id: str) -> Answer:
    """Stop webhooks to the partner (its pending deliveries are cancelled)."""
    _require(partner_id)
    set_endpoint(container().commands, partner_id, False, console_meta(), utc_now())
    return back(partner_id, "disabled")


@blueprint.route("/partners/<partner_id>/enable", methods=["POST"])
@console_view("admin")
def enable(partner_id: str) -> Answer:
    """Send webhooks to the partner again."""
    _require(partner_id)
    set_endpoint(container().commands, partner_id, True, console_meta(), utc_now())
    return back(partner_id, "enabled")


@blueprint.route("/partners/<partner_id>/rotate-secret", methods=["POST"])
@console_view("admin")
def rotate_signing_secret(partner_id: str) -> Answer:
    """A new signing secret, shown once on the next page; the old one lasts the overlap."""
    _require(partner_id)
    hours = request.form.get("overlap_hours", "24").strip()
    limit = int(MAX_OVERLAP.total_seconds() // 3600)
    if not (hours.isascii() and hours.isdigit() and int(hours) <= limit):
        return detail_page(partner_id, 422, errors=[
            ("Overlap", f"a whole number of hours from 0 to {limit}")]), 422
    c = container()
    issued = rotate_secret(c.commands, c.vault, partner_id, timedelta(hours=int(hours)),
                           console_meta(), utc_now())
    keep_once(g.console.session_id, f"secret:{partner_id}", issued.signing_secret)
    return back(partner_id, "secret-rotated", "credentials")


@blueprint.route("/partners/<partner_id>/rotate-api-key", methods=["POST"])
@console_view("admin")
def rotate_key(partner_id: str) -> Answer:
    """A new API key, shown once on the next page; the old key stops at once."""
    _require(partner_id)
    issued = rotate_api_key(container().commands, partner_id, console_meta(), utc_now())
    keep_once(g.console.session_id, f"api_key:{partner_id}", issued.api_key)
    return back(partner_id, "api-key-rotated", "credentials")


@blueprint.route("/partners/<partner_id>/follows", methods=["POST"])
@console_view("admin")
def follows(partner_id: str) -> Answer:
    """Change what the partner follows, from the version the form was read at."""
    _require(partner_id)
    form = {name: request.form.get(name, "") for name in ("case_ids", "action_ids", "countries")}
    chosen = tuple(t for t in PARTNER_EVENT_TYPES if t in request.form.getlist("event_types"))
    wanted = Follows(case_ids=_words(form["case_ids"]), action_ids=_words(form["action_ids"]),
                     countries=tuple(c.upper() for c in _words(form["countries"])),
                     event_types=chosen)
    shown = {**form, "event_types": list(chosen)}
    with container().engine.connect() as conn:
        missing = unknown_follows(conn, wanted.case_ids, wanted.action_ids)
    if missing:
        errors = [(field, message) for field, found in missing.items() for message in found]
        return detail_page(partner_id, 422, errors=errors, follows=shown), 422
    version = request.form.get("version", "")
    try:
        change_follows(container().commands, partner_id, wanted, console_meta(), utc_now(),
                       expected_version=int(version) if version.isdigit() else None)
    except DomainError as exc:
        return detail_page(partner_id, 422, errors=[("Follows", exc.message)],
                           follows=shown), 422
    except PreconditionFailed:
        return detail_page(partner_id, 409, "Someone changed this partner meanwhile: "
                           "here is what it follows now.", follows=None), 409
    return back(partner_id, "follows-changed", "follows")


def _require(partner_id: str) -> None:
    _enabled(partner_id)


def _enabled(partner_id: str) -> bool:
    """Whether the partner's endpoint is enabled; 404 for no such partner."""
    with container().engine.connect() as conn:
        partner = get_partner(conn, partner_id)
    if partner is None:
        raise NotFound(f"no partner {partner_id}")
    return partner.endpoint_enabled


def _words(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w for w in SEPARATORS.split(text.strip()) if w))


def _point(text: str, label: str, optional: bool = False
           ) -> tuple[int | datetime | None, tuple[str, str] | None]:
    """A log position (digits) or a UTC time (the form's `YYYY-MM-DDTHH:MM`)."""
    text = text.strip()
    if not text:
        return None, None if optional else (label, "a log position or a UTC time")
    if POSITION.match(text):
        return int(text), None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None, (label, f"{text!r} is neither a log position nor a time")
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment), None
