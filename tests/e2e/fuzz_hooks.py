"""Schemathesis CLI hooks for `make fuzz` (SCHEMATHESIS_HOOKS=tests.e2e.fuzz_hooks).

The contract test's harness, against the real server the runner started: the same world,
the same credentials, the same values that depend on the world. It reads the server's own
settings from the environment (the database, the secret that signs supporters' links) and
the seeded partner's key from FUZZ_PARTNER_KEY.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

from campaign.bootstrap import build
from campaign.settings import Settings
from tests.e2e.fuzzing import Harness, auth_provider

harness = Harness(build(Settings.from_env()), os.environ["FUZZ_PARTNER_KEY"])
schemathesis.auth(refresh_interval=None)(auth_provider(harness))


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: Any) -> None:
    harness.before_call(case)
