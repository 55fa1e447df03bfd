"""Size limits judged without encoding when a bound shows they hold: the same answers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from campaign.mail.message import _size, _within

TEXT = st.text(alphabet=st.sampled_from('a"\\\n\x01é€😀 '), max_size=40)


@given(mapping=st.dictionaries(TEXT, TEXT, max_size=6), limit=st.integers(0, 400))
def test_a_mapping_is_within_a_limit_exactly_when_its_json_is(
    mapping: dict[str, str], limit: int,
) -> None:
    assert _within(mapping, limit) == (_size(mapping) <= limit)
