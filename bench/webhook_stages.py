"""Where a webhook's latency goes, stage by stage (for `bench.webhooks`' report).

Each delivery's time from the append's commit to the partner's receipt is split at the two
moments the database records: the delivery row's `created_at` (the outbox follower wrote it)
and its first attempt's `attempted_at` (a worker claimed it). So:

- outbox: the append's commit → the follower's transaction writing the row;
- queue: the row → a worker claiming it (the queue message, a free thread, a partner slot);
- post: the claim → the partner's receipt (signing, the request, and any delivery claimed
  before it in the same turn).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, select

from campaign.infra.tables import webhook_attempts, webhook_deliveries

STAGES = ("outbox", "queue", "post")


def recorded_times(engine: Engine) -> dict[str, tuple[float, float]]:
    """Each delivery's row-written and first-claimed instants, as Unix seconds."""
    d, a = webhook_deliveries.c, webhook_attempts.c
    query = (select(d.delivery_id, d.created_at, a.attempted_at)
             .join(webhook_attempts, (a.delivery_id == d.delivery_id) & (a.attempt == 1)))
    with engine.connect() as conn:
        return {row.delivery_id: (row.created_at.timestamp(), row.attempted_at.timestamp())
                for row in conn.execute(query)}


def stage_latencies(appended: dict[str, tuple[float, int]], arrived: Sequence[Sequence[Any]],
                    recorded: dict[str, tuple[float, float]], slow: int | None
                    ) -> dict[str, dict[str, float]]:
    """p50 and p99 in ms of each stage, over the measured deliveries the others received."""
    spans: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for partner, requests in enumerate(arrived):
        if partner == slow:
            continue
        for webhook_id, received_at, verified, _answered, development_id in requests:
            if not verified or development_id not in appended or webhook_id not in recorded:
                continue
            created, claimed = recorded[webhook_id]
            committed = appended[development_id][0]
            for stage, ms in zip(STAGES, ((created - committed) * 1000,
                                          (claimed - created) * 1000,
                                          (received_at - claimed) * 1000), strict=True):
                spans[stage].append(ms)
    return {stage: _percentiles(sorted(values)) for stage, values in spans.items() if values}


def percentile(sorted_values: Sequence[float], share: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * share))]


def _percentiles(values: Sequence[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(values), 1),
            "p99_ms": round(percentile(values, 0.99), 1)}


def stage_lines(scenarios: Sequence[dict[str, Any]]) -> list[str]:
    """The markdown table of the stages, one row per scenario that has them."""
    lines = ["", "| Where the latency goes, p50 / p99 ms | "
             + " | ".join(STAGES) + " |", "|---|" + "---:|" * len(STAGES)]
    for r in scenarios:
        found = r.get("stages") or {}
        if found:
            lines.append(f"| {r['scenario']} | " + " | ".join(
                f"{found[s]['p50_ms']:,.1f} / {found[s]['p99_ms']:,.1f}" if s in found else "—"
                for s in STAGES) + " |")
    return lines
