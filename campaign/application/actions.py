"""Actions: drafts and revisions about a case that exists.

An action's document names its case, but the action's stream cannot see the cases; the
case is looked up in the cases read model (inline, so it is current) in the transaction
that writes the draft, and a draft about no case stores nothing.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from campaign.application.commands import CommandHandler, Meta, Outcome
from campaign.domain import action
from campaign.domain.base import DomainError
from campaign.infra.tables import cases


def write_draft(
    commands: CommandHandler, command: action.DraftAction | action.ReviseDraft, meta: Meta, *,
    expected_version: int | None = None, conn: Connection | None = None,
) -> Outcome:
    """Draft or revise an action; DomainError `unknown_case` when its case does not exist."""
    with commands.transaction(conn) as tx:
        found = tx.execute(select(cases.c.case_id).where(cases.c.case_id == command.case_id))
        if found.first() is None:
            raise DomainError("unknown_case", f"no case {command.case_id}")
        return commands.handle(command, meta, expected_version=expected_version, conn=tx)
