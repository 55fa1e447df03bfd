"""Partner payloads stay under 20 KB whatever the texts: long ones are shortened, marked."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from campaign.partners.payloads import ELLIPSIS, MAX_BODY_BYTES, PartnerEvent, body, fit

AT = datetime(2020, 5, 12, 10, tzinfo=UTC)


def test_a_small_payload_is_left_as_it_is() -> None:
    data = {"summary": "A hearing is scheduled.", "asks": ["Release him."]}

    assert fit("e", "case.development_recorded", AT, data) == data


def test_long_texts_in_any_script_are_shortened_until_the_body_fits() -> None:
    data = {"summary": "Верховный суд " * 3000, "title": "Short", "body": "x" * 30_000,
            "asks": ["Освободить " * 500]}

    fitted = fit("e", "action.launched", AT, data)

    event = PartnerEvent("e", 1, "action.launched", AT, fitted, None, None, None)
    encoded = body(event)
    assert len(encoded) <= MAX_BODY_BYTES
    assert fitted["title"] == "Short"
    assert fitted["summary"].endswith(ELLIPSIS) and fitted["summary"].startswith("Верховный")
    assert json.loads(encoded) == {"event_id": "e", "type": "action.launched",
                                   "timestamp": AT.isoformat(), "data": fitted}


def test_a_long_list_of_short_items_is_cut_when_texts_cannot_shrink_further() -> None:
    data = {"targets": [{"name": f"Official {n}"} for n in range(2000)]}

    fitted = fit("e", "action.launched", AT, data)

    assert 0 < len(fitted["targets"]) < 2000
    assert fitted["targets"][0] == {"name": "Official 0"}
    assert len(json.dumps({"data": fitted}).encode()) <= MAX_BODY_BYTES


def test_the_body_is_compact_json_with_the_event_id_type_timestamp_and_data() -> None:
    event = PartnerEvent("e", 7, "case.development_recorded", AT, {"a": 1}, "c", None, "KG")

    assert body(event) == (b'{"event_id":"e","type":"case.development_recorded",'
                           b'"timestamp":"2020-05-12T10:00:00+00:00","data":{"a":1}}')


def test_the_event_id_counts_towards_the_size_limit() -> None:
    event_id = "0" * 2_000
    data = {"summary": "x" * 19_000}

    fitted = fit(event_id, "action.launched", AT, data)

    encoded = body(PartnerEvent(event_id, 1, "action.launched", AT, fitted, None, None, None))
    assert len(encoded) <= MAX_BODY_BYTES
    assert fitted["summary"].endswith(ELLIPSIS)
