"""Pytest fixtures for the fakes; register with `from tests.fakes.fixtures import sendgrid_server`
in a conftest (or `pytest_plugins = ["tests.fakes.fixtures"]` in tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.sendgrid_server import FakeSendGrid


@pytest.fixture
def sendgrid_server() -> Iterator[FakeSendGrid]:
    """A fresh fake SendGrid on a free loopback port, stopped after the test."""
    with FakeSendGrid() as server:
        yield server
