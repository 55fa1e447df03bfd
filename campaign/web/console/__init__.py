"""The campaigner console: server-rendered pages under /console (CONSOLE.md's S0–S8).

Each screen is a blueprint of its own module; `SCREENS` lists them for the app factory.
Views call the application layer and read models directly, never the JSON API; every
operation they offer also exists in the API for integrations.
"""

from __future__ import annotations

from flask import Blueprint

from campaign.web.console import (
    audit,
    cases,
    dashboard,
    editor,
    editor_mail,
    editor_updates,
    login,
    mailings,
    partner_actions,
    partners,
    tokens,
)

SCREENS: tuple[Blueprint, ...] = (
    login.blueprint,
    cases.blueprint,
    editor.blueprint,
    editor_mail.blueprint,
    editor_updates.blueprint,
    dashboard.blueprint,
    mailings.blueprint,
    partners.blueprint,
    partner_actions.blueprint,
    tokens.blueprint,
    audit.blueprint,
)
