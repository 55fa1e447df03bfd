"""Who may read /metrics and where workers serve theirs, read from the environment."""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path

import pytest
from dramatiq.brokers.stub import StubBroker

from campaign.settings import ConfigError, Settings
from workers.metrics import WorkerMetrics, add_worker_metrics


def test_metrics_answer_loopback_only_and_workers_serve_none_by_default(tmp_path: Path) -> None:
    settings = Settings.from_env({"VAR_DIR": str(tmp_path)})

    assert settings.metrics_allowed_networks == (ip_network("127.0.0.0/8"),
                                                 ip_network("::1/128"))
    assert (settings.worker_metrics_port, settings.metrics_dir) == (0, None)


def test_allowed_networks_port_host_and_directory_come_from_the_environment(
    tmp_path: Path,
) -> None:
    settings = Settings.from_env({
        "VAR_DIR": str(tmp_path), "METRICS_ALLOWED_NETWORKS": " 10.1.2.3/8 , fd00::/8",
        "WORKER_METRICS_PORT": "9191", "WORKER_METRICS_HOST": "0.0.0.0",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    })

    assert settings.metrics_allowed_networks == (ip_network("10.0.0.0/8"),
                                                 ip_network("fd00::/8"))
    assert (settings.worker_metrics_port, settings.worker_metrics_host) == (9191, "0.0.0.0")
    assert settings.metrics_dir == tmp_path


@pytest.mark.parametrize(("variable", "value"), [
    ("METRICS_ALLOWED_NETWORKS", "everyone"),
    ("METRICS_ALLOWED_NETWORKS", "10.0.0.0/33"),
    ("WORKER_METRICS_PORT", "70000"),
    ("WORKER_METRICS_PORT", "nine"),
    ("PROMETHEUS_MULTIPROC_DIR", "/no/such/directory"),
])
def test_malformed_metrics_settings_are_refused_by_name(
    tmp_path: Path, variable: str, value: str,
) -> None:
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env({"VAR_DIR": str(tmp_path), variable: value})


def test_a_worker_serving_metrics_without_a_shared_directory_refuses_to_start() -> None:
    broker = StubBroker()

    with pytest.raises(ConfigError, match="PROMETHEUS_MULTIPROC_DIR"):
        add_worker_metrics(broker, 9191, None)

    assert not any(isinstance(m, WorkerMetrics) for m in broker.middleware)


def test_a_worker_without_a_metrics_port_adds_no_middleware() -> None:
    broker = StubBroker()

    add_worker_metrics(broker, 0, None)

    assert not any(isinstance(m, WorkerMetrics) for m in broker.middleware)
