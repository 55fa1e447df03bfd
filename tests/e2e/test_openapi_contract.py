"""Schemathesis over every operation of /api/openapi.json: the spec and the server agree.

Every operation gets requests the spec allows (positive) and requests it forbids
(negative), and linked operations are chained (the stateful phase: create a case, then
read it, record a development with its ETag, draft an action about it, launch it, pledge
to it...). Each response must pass the checks below: no 5xx, only documented statuses,
content types, headers and bodies, every request the spec allows accepted (or refused for
the world's sake: 401, 403, 404, 409, 412, 429) and every request it forbids refused.

The numbers stay small here (CONTRACT_EXAMPLES per operation and mode, default 12);
`make fuzz` runs the Schemathesis CLI with every phase for thousands of cases per backend
(docs/fuzzing.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from campaign.bootstrap import Container
from campaign.settings import Settings
from campaign.web.app import create_app
from campaign.web.limits import PER_CLIENT
from tests.e2e.fuzzing import RATE_LIMITS, Harness, auth_provider, seed

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance,
          positive_data_acceptance, negative_data_rejection]
EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "12"))
STEPS = int(os.environ.get("CONTRACT_STATEFUL_EXAMPLES", "40"))
CONFIG = Path(__file__).with_name("schemathesis.toml")
NOTHING_TO_BREAK = ["GET /api/v1/pledges/{pledge_id}"]
HYPOTHESIS = {"deadline": None, "derandomize": True, "database": None,
              "suppress_health_check": list(HealthCheck)}


@pytest.fixture
def settings_for_fuzzing(tmp_path: Path, database_url: str) -> Settings:
    return Settings.from_env({
        "DATABASE_URL": database_url, "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "VAR_DIR": str(tmp_path / "var"), **RATE_LIMITS,
    })


@pytest.fixture
def settings(settings_for_fuzzing: Settings) -> Settings:
    """The shared `container` fixture, with rate limits no fuzzer reaches."""
    return settings_for_fuzzing


@pytest.fixture
def app(container: Container) -> Flask:
    return create_app(container)


@pytest.fixture
def harness(container: Container) -> Harness:
    return Harness(container, seed(container))


@pytest.fixture
def schema(app: Flask, harness: Harness) -> Any:
    """The app's own spec, loaded by Schemathesis, with a credential for each operation."""
    loaded = schemathesis.openapi.from_wsgi(
        "/api/openapi.json", app, config=schemathesis.Config.from_path(CONFIG))
    loaded.auth(refresh_interval=None)(auth_provider(harness))
    return loaded


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["allowed", "forbidden"])
def test_every_operation_takes_what_the_spec_allows_and_refuses_what_it_forbids(
    schema: Any, harness: Harness, mode: GenerationMode
) -> None:
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    failures, nothing_to_break = [], []
    for operation in operations:
        try:
            exercise(operation, mode, harness.before_call)
        except hypothesis.errors.Unsatisfiable:
            nothing_to_break.append(operation.label)
        except (AssertionError, BaseExceptionGroup) as failed:  # what Schemathesis raises
            failures.append(f"{operation.label}:\n{report(failed)}")
    assert not failures, "\n\n".join(failures)
    # Only a path parameter, and either of two credentials: no request breaks its spec.
    assert nothing_to_break == ([] if mode.is_positive else NOTHING_TO_BREAK)


def exercise(operation: Any, mode: GenerationMode, prepare: Callable[[Any], None]) -> None:
    """Generated requests for one operation, each validated by every check."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(max_examples=EXAMPLES, **HYPOTHESIS)
    def check(case: Any) -> None:
        prepare(case)
        case.call_and_validate(checks=CHECKS)

    check()


def test_linked_operations_chained_answer_as_documented(schema: Any, harness: Harness) -> None:
    failures: dict[str, str] = {}
    scenarios = 0

    class Scenarios(schema.as_state_machine()):  # type: ignore[misc]
        """Failures are collected, not raised: a scenario changes the database, so
        Hypothesis could not replay one to shrink it (as the Schemathesis engine does)."""

        def before_call(self, case: Any) -> None:
            harness.before_call(case)

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            try:
                case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)
            except (AssertionError, BaseExceptionGroup) as failed:
                failures.setdefault(f"{case.operation.label} {response.status_code}",
                                    report(failed))

        def teardown(self) -> None:
            nonlocal scenarios
            scenarios += 1
            super().teardown()

    # Which links a step can follow depends on what the database answered before, so
    # Hypothesis may find the same choices leading elsewhere (Flaky): like the Schemathesis
    # engine, take that as the end of a suite and start another from the next seed.
    for suite in range(10):
        try:
            hypothesis.seed(suite)(Scenarios).run(settings=hypothesis.settings(
                max_examples=STEPS - scenarios, stateful_step_count=6,
                phases=[hypothesis.Phase.generate], **{**HYPOTHESIS, "derandomize": False}))
        except hypothesis.errors.Flaky:
            pass
        if scenarios >= STEPS:
            break
    assert scenarios >= STEPS
    assert not failures, "\n\n".join(f"{key}:\n{text}" for key, text in failures.items())


def report(failed: BaseException) -> str:
    """What Schemathesis says about a failure: the checks, the response, a curl command."""
    return "\n".join([str(failed), *getattr(failed, "__notes__", [])])


def test_no_operation_hides_its_errors_behind_a_default_response(app: Flask) -> None:
    spec = app.test_client().get("/api/openapi.json").get_json()
    operations = [(path, method, operation) for path, item in spec["paths"].items()
                  for method, operation in item.items() if method != "parameters"]
    assert [f"{method} {path}" for path, method, operation in operations
            if "default" in operation["responses"]] == []
    assert len({operation["operationId"] for _, _, operation in operations}) == len(operations)


def test_every_rate_limited_operation_documents_429_with_retry_after(app: Flask) -> None:
    spec = app.test_client().get("/api/openapi.json").get_json()
    by_id = {operation["operationId"]: operation for item in spec["paths"].values()
             for method, operation in item.items() if method != "parameters"}
    limited = [endpoint for endpoint in PER_CLIENT if endpoint in by_id]
    assert limited, "no API endpoint is rate-limited"
    for endpoint in limited:
        answer = by_id[endpoint]["responses"]["429"]
        name = answer["$ref"].rsplit("/", 1)[1]
        assert "Retry-After" in spec["components"]["responses"][name]["headers"], endpoint
