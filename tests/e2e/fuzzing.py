"""What Schemathesis needs to know about this API that a spec cannot say, in one place.

Used by the contract test (in process) and by `make fuzz` (the Schemathesis CLI against a
real server, through tests/e2e/fuzz_hooks.py). A `Harness` holds:

- a world to act in: the demo case and action, an open action with a deadline ahead, a
  partner, an admin token and a supporter who confirmed their address;
- credentials (`authorization`): each operation gets the one its `security` names; a
  supporter's link is signed for what the request is about, as our e-mails sign it: an
  action e-mail's link for the action in the path (or the pledge's action), a "manage my
  data" link for /me. A credential the fuzzer revoked or erased is replaced;
- values that depend on the world, not on a format (`before_call`): in positive cases an
  action's `case_id` names an existing case, a partner's webhook URL a public address and
  what it follows exists, a letter's `sent_on` is today, an `Idempotency-Key` is new, and
  outside the stateful phase (where links carry real ids) a pledge is made to the open
  action and a letter confirmed on the supporter's pledge (each supporter the harness makes
  has pledged letters to the open action). The spec states each of these
  rules in words; everything else stays as generated.

It also names the `etag` format (If-Match) for Schemathesis: its coverage phase generates
header values from letters and digits only, and would otherwise send `0` as a valid one.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import schemathesis
from hypothesis import strategies as st
from sqlalchemy import select

from campaign.application.access import caller_for_token, create_token
from campaign.application.commands import Meta
from campaign.application.pledges import make_pledge
from campaign.application.supporters import Registration, register_supporter
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as demo
from campaign.demo.loader import load_demo
from campaign.domain import action, supporter
from campaign.domain.pledge import MAX_LETTERS_PROMISED
from campaign.infra.clock import utc_now
from campaign.infra.tables import pledges, supporters
from campaign.partners.admin import PartnerForm, register_partner
from campaign.web.api.common import ETAG_FORMAT

META = Meta(actor="fuzz", correlation_id="fuzz-seed")
PUBLIC_WEBHOOK = "https://1.1.1.1/hooks"  # a public address: no DNS needed to accept it
OPEN_ACTION_ID = "fuzz-open-action"
PARTNER_ID = "fuzz-partner"
CASE_IDS = (demo.CASE_ID,)
ACTION_IDS = (demo.ACTION_ID, OPEN_ACTION_ID)
RATE_LIMITS = {f"RATE_LIMIT_{name}": "1000000 per minute"
               for name in ("SIGN_UP", "MANAGE_REQUEST", "LINKS", "UNSUBSCRIBE", "PUBLIC_MAIL")}
"""Limits high enough never to refuse the fuzzer (they have tests of their own)."""

schemathesis.openapi.format(ETAG_FORMAT, st.one_of(
    st.just("*"), st.from_regex(r'(W/)?"[0-9]{1,18}"', fullmatch=True)))


def seed(container: Container) -> str:
    """The demo, an open action with a deadline ahead, and a partner; its API key."""
    load_demo(container)
    today, now = utc_now().date(), utc_now()
    content = dataclasses.replace(
        demo.CONTENT, issued_on=today - timedelta(days=7),
        deadline=dataclasses.replace(demo.DEADLINE, on=today + timedelta(days=60)))
    container.commands.handle(action.DraftAction(
        **vars(content), action_id=OPEN_ACTION_ID, drafted_at=now), META)
    container.commands.handle(action.LaunchAction(OPEN_ACTION_ID, launched_at=now), META)
    partner = register_partner(container.commands, container.vault, PartnerForm(
        name="Fuzz Partner", contact_email="partner@example.org", webhook_url=PUBLIC_WEBHOOK,
        case_ids=CASE_IDS, partner_id=PARTNER_ID), META, now)
    return partner.api_key


class Harness:
    """The world, the credentials and the world's values for generated requests."""

    def __init__(self, container: Container, partner_key: str) -> None:
        self.container = container
        self.partner_key = partner_key
        self.admin_token = create_token(container.engine, "fuzz", "admin")[1]
        self.supporter_id = self._new_supporter()

    def authorization(self, case: Any) -> str | None:
        """The Authorization header the operation's `security` asks for."""
        schemes = [name for requirement in case.operation.definition.raw.get("security") or []
                   for name in requirement]
        if not schemes:
            return None
        if schemes[0] == "campaignerToken":
            return f"Bearer {self._live_admin_token()}"
        if schemes[0] == "partnerKey":
            return f"Bearer {self.partner_key}"
        links, operation = self.container.links, _operation_id(case)
        if operation == "supporters.erase_me":  # never the supporter every other link names
            return f"Supporter {links.sign('manage', self._new_supporter())}"
        supporter_id = self._live_supporter()
        if operation.startswith("pledges."):
            return f"Supporter {links.sign_action(supporter_id, self._action_of(case))}"
        return f"Supporter {links.sign('manage', supporter_id)}"

    def before_call(self, case: Any) -> None:
        """Fit a positive case to the world, then sign its credential for what it names."""
        if case.meta is not None and case.meta.generation.mode.is_positive:
            self._fit(case)
        headers = case.headers or {}
        if "Authorization" in headers and not case.operation.schema.is_security_param_negated(
                case):
            headers["Authorization"] = self.authorization(case)

    def _fit(self, case: Any) -> None:
        operation = _operation_id(case)
        if case.headers and "Idempotency-Key" in case.headers:
            case.headers["Idempotency-Key"] = str(uuid.uuid4())
        linked = case.meta.phase.name == "stateful"  # links carry ids that exist
        path = case.path_parameters
        if operation == "pledges.make" and not linked:
            path["action_id"] = OPEN_ACTION_ID
        if operation == "pledges.confirm_letter" and not linked:
            path["pledge_id"] = f"{OPEN_ACTION_ID}-{self._live_supporter()}"
        body = case.body if isinstance(case.body, dict) else {}
        if operation in ("actions.draft", "actions.revise") and "case_id" in body:
            body["case_id"] = CASE_IDS[0]
        if operation == "partners.create":
            body["webhook_url"] = PUBLIC_WEBHOOK
        if operation in ("partners.create", "partners.follow"):
            for name, known in (("case_ids", CASE_IDS), ("action_ids", ACTION_IDS)):
                if name in body:
                    body[name] = [known[n % len(known)] for n in range(len(body[name]))]
        if operation == "pledges.confirm_letter" and "sent_on" in body:
            body["sent_on"] = datetime.now(UTC).date().isoformat()

    def _action_of(self, case: Any) -> str:
        """The action in the path, or the pledge's (its link is for that action only)."""
        path = case.path_parameters or {}
        if "action_id" in path:
            return str(path["action_id"])
        with self.container.engine.connect() as conn:
            found = conn.execute(select(pledges.c.action_id).where(
                pledges.c.pledge_id == str(path.get("pledge_id")))).scalar_one_or_none()
        return found or OPEN_ACTION_ID

    def _live_admin_token(self) -> str:
        if caller_for_token(self.container.engine, self.admin_token) is None:
            self.admin_token = create_token(self.container.engine, "fuzz", "admin")[1]
        return self.admin_token

    def _live_supporter(self) -> str:
        with self.container.engine.connect() as conn:
            erased = conn.execute(select(supporters.c.erased).where(
                supporters.c.supporter_id == self.supporter_id)).scalar_one_or_none()
        if erased is not False:
            self.supporter_id = self._new_supporter()
        return self.supporter_id

    def _new_supporter(self) -> str:
        """A supporter who confirmed their address and pledged letters to the open action."""
        c, now = self.container, utc_now()
        supporter_id = register_supporter(c.commands, c.blind_index, Registration(
            f"fuzz-{uuid.uuid4().hex[:12]}@example.org", "Fuzz Tester", "en", "GB",
            "Europe/London"), META, now)
        c.commands.handle(supporter.ConfirmConsent(supporter_id=supporter_id, confirmed_at=now),
                          META)
        make_pledge(c.commands, OPEN_ACTION_ID, supporter_id, (), MAX_LETTERS_PROMISED, META, now)
        return supporter_id


def auth_provider(harness: Harness) -> type:
    """A Schemathesis auth provider class (it instantiates it) asking `harness`."""

    class Credentials:
        def get(self, case: Any, context: Any) -> str | None:
            return harness.authorization(case)

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": data}

    return Credentials


def _operation_id(case: Any) -> str:
    return str(case.operation.definition.raw.get("operationId", ""))
