"""Cases (S1) and a case's timeline (S2): which case needs attention first, and its story.

The list and the timeline read the same read models (the pending count of a case is one
query over `case_timeline` in both), so the two pages cannot disagree. Approving or
rejecting a partner's development goes through the command handler, with the version the
page was rendered at: a page gone stale gets the current timeline and a message, never a
silent overwrite.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import redirect, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from campaign.application.case_history import case_history
from campaign.application.errors import NotFound, PreconditionFailed
from campaign.domain import case
from campaign.domain.base import DomainError
from campaign.infra.clock import utc_now
from campaign.infra.tables import actions
from campaign.read_models.case_overview import (
    CaseFilter,
    CaseStatus,
    case_letters_by_day,
    case_overview,
)
from campaign.web.console.blueprint import console_blueprint
from campaign.web.console.case_strip import letters_strip
from campaign.web.console.session import console_meta, console_view, render_console
from campaign.web.context import container
from events import ConcurrencyError

blueprint = console_blueprint("console_cases", __name__)
URGENT = timedelta(hours=48)
WINDOWS = {"48h": timedelta(hours=48), "7d": timedelta(days=7), "30d": timedelta(days=30)}
STALE = "The case changed since this page was opened; here it is as it stands now."


@blueprint.route("/cases", methods=["GET"])
@console_view()
def cases_list() -> str:
    """Cases by nearest appeal deadline, filtered as the form asks."""
    args = request.args
    status: CaseStatus | None = "open" if args.get("status") == "open" else (
        "closed" if args.get("status") == "closed" else None)
    country = (args.get("country") or "").strip().upper()
    errors = [] if not country or (len(country) == 2 and country.isascii() and country.isalpha()
                                   ) else [("country", "a two-letter code, like KG")]
    which = CaseFilter(status=status, country=None if errors else country or None,
                       deadline_within=WINDOWS.get(args.get("window", "")),
                       has_pending=True if args.get("pending") == "1" else None,
                       search=(args.get("q") or "").strip()[:200] or None)
    now = utc_now()
    with container().engine.connect() as conn:
        rows = case_overview(conn, now, which)
    return render_console("console/cases.html", rows=rows, urgent=URGENT, errors=errors,
                          time_left=time_left, args=args, windows=WINDOWS)


@blueprint.route("/cases/<case_id>", methods=["GET"])
@console_view()
def case_page(case_id: str) -> str:
    """The case and its timeline, newest first."""
    return _case_page(case_id)


@blueprint.route("/cases/<case_id>/developments/<development_id>/approve", methods=["POST"])
@console_view("campaigner")
def approve(case_id: str, development_id: str) -> Response | tuple[str, int]:
    """Publish a partner's development: supporters and partners get it from now on."""
    return _decide(case_id, case.ApproveDevelopment(
        case_id=case_id, development_id=development_id, approved_at=utc_now()))


@blueprint.route("/cases/<case_id>/developments/<development_id>/reject", methods=["POST"])
@console_view("campaigner")
def reject(case_id: str, development_id: str) -> Response | tuple[str, int]:
    """Keep a partner's development out of sight for good, with the reason given."""
    reason = request.form.get("reason", "").strip()
    if not reason:
        return _case_page(case_id, errors=[("reason", "say why it is rejected")],
                          rejecting=development_id), 422
    return _decide(case_id, case.RejectDevelopment(
        case_id=case_id, development_id=development_id, reason=reason, rejected_at=utc_now()))


def _decide(case_id: str, command: Any) -> Response | tuple[str, int]:
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        version = None
    try:
        container().commands.handle(command, console_meta(), expected_version=version)
    except (PreconditionFailed, ConcurrencyError):
        return _case_page(case_id, errors=[("", STALE)]), 409
    except DomainError as exc:
        return _case_page(case_id, errors=[("", exc.message)]), 409
    return redirect(url_for("console_cases.case_page", case_id=case_id,
                            _anchor=f"development-{command.development_id}"), 303)


def _case_page(case_id: str, errors: list[tuple[str, str]] | None = None,
               rejecting: str | None = None) -> str:
    with container().engine.connect() as conn:
        history = case_history(container().store, conn, case_id)
        if history is None:
            raise NotFound(f"no case {case_id}")
        # The list's own query: the two pages count pending developments alike.
        (summary,) = case_overview(conn, utc_now(), CaseFilter(case_id=case_id), limit=1)
        deadlines = conn.execute(select(actions.c.deadline_on).where(
            actions.c.case_id == case_id, actions.c.status != "drafted")).scalars().all()
        strip = letters_strip(history, case_letters_by_day(conn, case_id), list(deadlines),
                              utc_now().date())
    return render_console("console/case.html", history=history, state=history.state,
                          summary=summary, errors=errors or [], strip=strip,
                          rejecting=rejecting, time_left=time_left, urgent=URGENT)


def time_left(deadline: datetime | None, now: datetime) -> str:
    """How long until `deadline`, as a campaigner reads it: "1 d 5 h", "3 h 20 min"."""
    if deadline is None:
        return "—"
    seconds = int((deadline - now).total_seconds())
    if seconds <= 0:
        return "passed"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {rest // 60} min"
