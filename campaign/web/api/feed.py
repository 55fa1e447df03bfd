"""The catch-up feed: what a partner follows, in global order, with a cursor to resume from."""

from __future__ import annotations

from typing import Any

from campaign.partners.feed import read_feed
from campaign.partners.payloads import envelope
from campaign.web.api.json_body import Blueprint
from campaign.web.api.partner_schemas import FeedPageSchema, FeedQuerySchema
from campaign.web.auth import PARTNER_KEY, UNAUTHORIZED, authenticate_partner
from campaign.web.context import container

blueprint = Blueprint("feed", __name__, url_prefix="/api/v1/feed",
                      description="Partners catch up on the events they follow.")


@blueprint.route("", methods=["GET"])
@blueprint.arguments(FeedQuerySchema, location="query")
@blueprint.response(200, FeedPageSchema)
@blueprint.doc(security=PARTNER_KEY, responses=UNAUTHORIZED)
def feed(query: dict[str, Any]) -> dict[str, Any]:
    """Events the partner follows after the cursor, oldest first; the same `{event_id, type,
    timestamp, data}` as webhook bodies, plus each event's log position.

    Pass `next_cursor` back as `after` until `has_more` is false. The cursor never moves past
    an event that may still appear, so paging after downtime loses and repeats nothing.
    """
    partner = authenticate_partner()
    page = read_feed(container().store, container().engine, partner, int(query["after"]),
                     query["limit"])
    items = [{"position": e.position, **envelope(e)}
             for e in page.events]
    return {"items": items, "next_cursor": str(page.next_position), "has_more": page.has_more}
