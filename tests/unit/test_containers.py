"""The container files agree with the Procfile and keep the image small and unprivileged.

No container engine runs here nor in CI: these tests read the files as compose and the
builder do; `make image-test` builds and runs the image where `docker info` works.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml
from dockerfile_parse import DockerfileParser

from tests.commands import BIN

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("release", "web", "worker", "clock")
BUILD_TOOLS = re.compile(r"\b(build-essential|gcc|g\+\+|clang|make|[\w.+-]+-dev)\b")


def procfile() -> dict[str, str]:
    """The Procfile's processes and their command lines, as written."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    pairs = (line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))
    return {name.strip(): command.strip() for name, command in pairs}


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return document


def as_compose_writes_it(command: str) -> list[str]:
    """A Procfile line as compose.yaml runs it: by sh, exec'd so it receives SIGTERM, every
    `$` doubled so compose leaves it to that shell instead of filling it itself."""
    return ["sh", "-c", "exec " + command.replace("$", "$$")]


def final_stage() -> list[dict[str, Any]]:
    """The instructions of the Dockerfile's last stage: what the image is made of."""
    structure = DockerfileParser(str(ROOT / "Dockerfile")).structure
    starts = [i for i, instruction in enumerate(structure) if instruction["instruction"] == "FROM"]
    return [i for i in structure[starts[-1]:] if i["instruction"] != "COMMENT"]


def instructions(stage: list[dict[str, Any]], name: str) -> list[str]:
    return [str(i["value"]) for i in stage if i["instruction"] == name]


def test_compose_runs_each_process_of_the_procfile_and_its_two_services() -> None:
    assert set(compose()["services"]) == {"postgres", "redis", *procfile()}
    assert set(procfile()) == set(APP_SERVICES)


def test_each_compose_service_runs_its_procfile_command() -> None:
    services = compose()["services"]

    for name, command in procfile().items():
        assert services[name]["command"] == as_compose_writes_it(command), name


def test_every_process_runs_the_image_built_from_this_directory() -> None:
    services = compose()["services"]

    assert {services[name]["build"] for name in APP_SERVICES} == {"."}
    assert len({services[name]["image"] for name in APP_SERVICES}) == 1


def test_web_worker_and_clock_start_only_after_the_release_migrated_successfully() -> None:
    services = compose()["services"]

    for name in ("web", "worker", "clock"):
        assert services[name]["depends_on"] == {
            "release": {"condition": "service_completed_successfully"}}, name
    assert services["release"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert services["release"]["restart"] == "no"  # it runs once per `up`, then exits
    assert {"healthcheck"} <= set(services["postgres"]) & set(services["redis"])


def test_compose_takes_the_secret_key_from_the_operator_and_never_ships_one() -> None:
    for name in APP_SERVICES:
        environment = compose()["services"][name]["environment"]
        assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?"), name


def test_the_image_is_the_slim_python_with_no_build_tools() -> None:
    stage = final_stage()

    assert instructions(stage, "FROM") == ["python:3.11-slim"]
    installs = [run for run in instructions(stage, "RUN") if "install" in run]
    assert installs, "the final stage installs the product"
    assert [run for run in installs if "apt-get" in run or BUILD_TOOLS.search(run)] == []
    assert all("--no-index" in run and "from=build" in run
               for run in installs if "pip install" in run)  # wheels made by the build stage


def test_the_build_stage_is_where_the_compilers_are() -> None:
    structure = DockerfileParser(str(ROOT / "Dockerfile")).structure
    first_from = next(i for i in structure if i["instruction"] == "FROM")
    build_runs = [i["value"] for i in structure
                  if i["instruction"] == "RUN" and i["startline"] < final_stage()[0]["startline"]]

    assert first_from["value"] == "python:3.11-slim AS build"
    assert any("build-essential" in run for run in build_runs)
    assert any("pip wheel" in run for run in build_runs)


def test_the_image_runs_as_a_user_without_root_rights() -> None:
    users = instructions(final_stage(), "USER")

    assert users, "the final stage names its user"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert users[-1].split(":")[0].isdigit()  # so an orchestrator can check it is not root
    after_user = final_stage()[[i["instruction"] for i in final_stage()].index("USER"):]
    assert instructions(after_user, "RUN") == []  # nothing after it runs as root again


def test_the_image_starts_the_web_process_of_the_procfile_by_default() -> None:
    (cmd,) = instructions(final_stage(), "CMD")

    assert json.loads(cmd) == ["sh", "-c", "exec " + procfile()["web"]]


def test_hadolint_finds_nothing_to_say_about_the_dockerfile() -> None:
    # Its rules that do not apply here are in .hadolint.yaml, each with its reason.
    result = subprocess.run([str(BIN / "hadolint"), "--no-color", "Dockerfile"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_build_context_leaves_out_secrets_and_local_state() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())

    assert {".git", ".venv", "var", ".env", "**/*.mo"} <= ignored
