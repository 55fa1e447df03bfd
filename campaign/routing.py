"""Which aggregate and stream each command goes to: the one table to read."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any, get_args

from campaign.domain import action, case, letter_reports, mailing, pledge, supporter
from campaign.domain import partner as partner_aggregate
from campaign.handlers import Route

STREAM_OF_COMMAND: dict[ModuleType, Callable[[Any], str]] = {
    case: lambda command: case.case_stream(command.case_id),
    action: lambda command: action.action_stream(command.action_id),
    supporter: lambda command: supporter.supporter_stream(command.supporter_id),
    pledge: lambda command: pledge.pledge_stream(command.action_id, command.supporter_id),
    mailing: lambda command: mailing.mailing_stream(command.mailing_id),
    partner_aggregate: lambda command: partner_aggregate.partner_stream(command.partner_id),
    letter_reports: lambda command: letter_reports.letters_stream(command.action_id),
}


def command_routes() -> dict[type, Route]:
    """Every command class of every aggregate, routed to its stream."""
    routes: dict[type, Route] = {}
    for module, stream_id in STREAM_OF_COMMAND.items():
        route = Route(module.AGGREGATE, stream_id)
        for command_type in get_args(module.Command):
            routes[command_type] = route
    return routes
