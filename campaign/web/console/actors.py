"""Who did it, in words: events record actors as ids (`token:<id>`, `partner:<id>`); the
console shows the token's label or the partner's name beside the id."""

from __future__ import annotations

from flask import g
from markupsafe import Markup
from sqlalchemy import select

from campaign.infra.tables import api_tokens, partners
from campaign.web.context import container


def who(actor: str | None) -> Markup:
    """`actor` as a person reads it: "Maria (token:1a2b3c4d)", "Bir Duino (partner)";
    the whole id in the element's title. Supporters stay ids: their names are personal."""
    if not actor:
        return Markup('<span class="actor">unknown</span>')
    kind, _, ident = actor.partition(":")
    name = _names().get(actor)
    if name is None:
        shown = actor
    elif kind == "token":
        shown = f"{name} (token:{ident[:8]})"
    else:
        shown = f"{name} ({kind})"
    return Markup('<span class="actor" title="{}" data-actor="{}">{}</span>').format(
        actor, actor, shown)


def _names() -> dict[str, str]:
    """Every token's label and partner's name, read once per request (both lists are short:
    the people and organisations running a section's campaigns)."""
    if "actor_names" not in g:
        with container().engine.connect() as conn:
            tokens = conn.execute(select(api_tokens.c.token_id, api_tokens.c.name)).all()
            named = conn.execute(select(partners.c.partner_id, partners.c.name)).all()
        g.actor_names = {**{f"token:{i}": n for i, n in tokens},
                         **{f"partner:{i}": n for i, n in named}}
    names: dict[str, str] = g.actor_names
    return names
