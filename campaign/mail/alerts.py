"""Telling campaigners that webhooks to a partner stopped: one e-mail per automatic disable.

`PartnerEndpointDisabled` is the event; this subscription turns the automatic ones (the
endpoint answered 410, or failed for five days) into an e-mail to CAMPAIGN_ALERT_EMAIL
(default: the MAIL_FROM address), through the same transport as campaign e-mail. If the
transport fails, the subscription stops at that event and the next clock tick tries again,
so the alert is sent at least once. A campaigner's own disable sends nothing.

The alert is written in English and is not in the `mail` catalogue: it goes to the
campaign's own staff (one configured address, with no language of its own), and it speaks
the operators' API (paths, ids) rather than to a supporter. Supporters' e-mail is all in
`campaign.mail.rendering`, in every shipped language.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sqlalchemy import Connection

from campaign.domain.codec import from_data
from campaign.domain.partner import PartnerEndpointDisabled
from campaign.mail.message import Batch, MailConfig, Personalization, single_line
from campaign.mail.transport import Transport
from campaign.read_models.partners import partner_name
from events import StoredEvent, Subscription

NAME: Final = "partner_alerts"
EXPLAINED: Final = {
    "gone": "its endpoint answered 410 Gone, which asks us to stop sending",
    "failing": "every attempt to its endpoint has failed for five days",
}


def partner_alerts(config: MailConfig, transport: Transport) -> Subscription:
    """The subscription that e-mails campaigners when webhooks to a partner are stopped."""

    def react(conn: Connection, batch: Sequence[StoredEvent]) -> None:
        for stored in batch:
            event = from_data(stored.type, stored.data)
            assert isinstance(event, PartnerEndpointDisabled)
            if event.reason in EXPLAINED:
                transport.send(alert(conn, config, stored, event))

    return Subscription(NAME, react, frozenset({PartnerEndpointDisabled.type_name}))


def alert(conn: Connection, config: MailConfig, stored: StoredEvent,
          event: PartnerEndpointDisabled) -> Batch:
    """The alert for one disable, addressed to the campaigners."""
    name = partner_name(conn, event.partner_id) or event.partner_id
    base = config.public_base_url.rstrip("/")
    text = (
        f"Webhooks to the partner {name} (id {event.partner_id}) were stopped on "
        f"{event.disabled_at:%d %B %Y at %H:%M} UTC: {EXPLAINED[event.reason]}.\n\n"
        "Nothing more is sent to it until its endpoint is enabled again. Once the partner "
        "has fixed it, enable the endpoint and send what it missed:\n"
        f"  POST {base}/api/v1/partners/{event.partner_id}/replay\n"
        f"Its deliveries and every attempt: GET {base}/api/v1/partners/"
        f"{event.partner_id}/deliveries\n"
    )
    return Batch(
        batch_id=f"partner-alert-{stored.event_id}", from_email=config.sender_email,
        from_name=config.sender_name, reply_to=None,
        subject=single_line(f"Webhooks to partner {name} stopped ({event.reason})"),
        html="", text=text,
        personalizations=(Personalization(to_email=config.alert_to, to_name="Campaigners"),),
        custom_args={"partner_id": event.partner_id, "alert_id": str(stored.event_id)},
        categories=("partner_alert",),
    )
