"""What a PostgreSQL snapshot says about which transactions a tail may still wait for."""

from __future__ import annotations

from events.backends.postgres import parse_snapshot


def test_a_snapshot_text_gives_its_xmax_and_running_ids() -> None:
    snapshot = parse_snapshot("740:752:740,748")

    assert snapshot.xmax == 752 and snapshot.in_flight == frozenset({740, 748})


def test_every_transaction_below_the_horizon_ended_when_none_runs_below_it() -> None:
    assert parse_snapshot("760:760:").all_finished_below(755)
    assert parse_snapshot("750:770:761,765").all_finished_below(760)
    assert parse_snapshot("750:770:761,765").all_finished_below(761)


def test_a_running_transaction_below_the_horizon_holds_the_barrier() -> None:
    assert not parse_snapshot("740:770:748").all_finished_below(760)


def test_ids_at_or_above_xmax_are_unknown_so_they_hold_the_barrier_too() -> None:
    """xmax is one past the newest id that ended: 752 and up may still be running."""
    assert not parse_snapshot("752:752:").all_finished_below(755)
    assert parse_snapshot("752:752:").all_finished_below(752)
