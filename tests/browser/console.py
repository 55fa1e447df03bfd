"""Signing in to the console in the browser, with tokens made as an operator makes them."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect

from tests.browser.product import Product

CATCH_UP_MS = 30_000
"""How long a console page may take to show what was just written: the product's projections
follow the log on its in-process worker's ticks (each second), and the page polls. A bound
that a slow, shared machine stays inside (the outbox waits as long), not a speed claim."""


def console_token(product: Product, role: str, email: str | None = None,
                  name: str | None = None) -> tuple[str, str]:
    """A new API token of `role` (with the campaigner's own `email`, for test sends), made
    with `campaign tokens create` as an operator would; returns (token id, token)."""
    name = name or f"console {role} {uuid4().hex[:8]}"
    argv = ["tokens", "create", "--role", role, "--name", name]
    if email is not None:
        argv += ["--email", email]
    token = product.operator(*argv).strip()
    listed = product.admin.get("/api/v1/tokens")
    assert listed.status_code == 200, listed.text
    (token_id,) = [t["token_id"] for t in listed.json() if t["name"] == name]
    return token_id, token


def log_in(page: Page, product: Product, token: str) -> None:
    """Sign `page`'s browser context in to the console with `token`; lands on the console."""
    page.goto(product.url("/console/login"))
    page.get_by_label("API token", exact=True).fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("role-badge")).to_be_visible()


def signed_in(page: Page, product: Product, role: str, email: str | None = None) -> Page:
    """`page`, signed in with a new token of `role`."""
    _, token = console_token(product, role, email)
    log_in(page, product, token)
    return page


@pytest.fixture
def console(page: Page, product: Product) -> Iterator[Page]:
    """A page signed in to the console as a campaigner (with an e-mail for test sends)."""
    yield signed_in(page, product, "campaigner", "campaigner@example.org")


@pytest.fixture
def console_admin(page: Page, product: Product) -> Iterator[Page]:
    """A page signed in to the console as an admin."""
    yield signed_in(page, product, "admin")


@pytest.fixture
def console_viewer(page: Page, product: Product) -> Iterator[Page]:
    """A page signed in to the console as a viewer."""
    yield signed_in(page, product, "viewer")
