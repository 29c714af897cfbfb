"""The projection's time columns: many values parsed at once give what parse_time gives each
(graphmem.retrieve.projection._times)."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest

from graphmem.retrieve.projection import _times
from graphmem.retrieve.types import parse_time

VALUES = [
    "2026-05-11T16:08:00", "2026-05-11", "2026-05-11T16:08", "2026-05-11T16:08:00.123456", "1969-12-31T23:59:59.5",
    "1900-01-01T00:00:00", "2400-12-31T23:59:59.999999", "1600-06-01T12:00:00.000001",  # beyond what a float holds in µs
    "2026-05-11T16:08:00Z", "2026-05-11T16:08:00+02:00", " 2026-05-11", "2026-05-11 16:08:00",
    None, "", "garbage", "NaT", datetime(2020, 1, 1, 5), datetime(2020, 1, 1, 5, tzinfo=timezone(timedelta(hours=-3))),
    date(2021, 2, 3), 12.5, 7,
]


def _same(got: float, want: float) -> bool:
    return (math.isnan(got) and math.isnan(want)) or got == want


@pytest.mark.parametrize("values", [
    VALUES,
    VALUES + ["2026-02-30T00:00:00"],  # an impossible date among naive ones: NaN for it, the rest unchanged
    [f"2024-0{m}-1{d}T0{h}:3{d}:0{m}" for m in range(1, 10) for d in range(10) for h in range(10)],
    [],
])
def test_times_equal_parse_time_value_by_value(values):
    got = _times(values)
    assert got.dtype == np.float64 and got.shape == (len(values),)
    want = [parse_time(v) for v in values]
    assert all(_same(float(g), w) for g, w in zip(got, want)), [(v, g, w) for v, g, w in zip(values, got, want) if not _same(float(g), w)]


@pytest.mark.parametrize("values", [VALUES * 3, ["2026-05-11", None, "2026-05-12T08:00:00"] * 40, [None] * 5])
def test_repeated_times_are_parsed_once_each_and_equal_parse_time(values):
    got = _times(values)
    assert all(_same(float(g), parse_time(v)) for g, v in zip(got, values))


def test_rows_naming_unknown_nodes_are_skipped_and_the_rest_ordered():
    """from_rows maps the rows' ids to positions column by column: events of an unknown turn,
    hyperedges and associations naming an unknown node are skipped; events are ordered by turn,
    then id; hyperedges by event, entity and role name (a missing role weighs 1.0, as a missing
    association weight); ids read as other types than strings are taken as their strings."""
    from graphmem.retrieve.projection import MemoryProjection

    turns = [{"id": "turn:b", "session_id": "session:1", "conversation_id": "c", "seq": 2, "speaker": "Mel", "text": "hi"},
             {"id": "turn:a", "session_id": "session:1", "conversation_id": "c", "seq": 1, "speaker": "Caro", "text": "yo?"}]
    events = [{"id": "event:2", "turn_id": "turn:a", "text": "x"}, {"id": "event:9", "turn_id": "turn:gone", "text": "y"},
              {"id": "event:1", "turn_id": "turn:b", "text": "z"}, {"id": "event:0", "turn_id": "turn:b", "text": "w"}]
    entities = [{"id": "entity:m", "name": "Mel"}, {"id": "entity:c", "name": "Caro"}]
    involves = [{"event_id": "event:0", "entity_id": "entity:m", "role": "speaker"},
                {"event_id": "event:0", "entity_id": "entity:c", "role": None},
                {"event_id": "event:0", "entity_id": "entity:c", "role": "addressee"},
                {"event_id": "event:2", "entity_id": "entity:m", "role": "mention"},
                {"event_id": "event:9", "entity_id": "entity:m", "role": "mention"},
                {"event_id": "event:1", "entity_id": "entity:nobody", "role": "mention"}]
    associations = [{"src": "turn:a", "dst": "turn:b", "w": None}, {"src": "turn:b", "dst": "turn:a", "w": 0.25},
                    {"src": "turn:a", "dst": "turn:nowhere", "w": 0.5}]
    sessions = [{"id": "session:1", "conversation_id": "c", "number": 1}]
    p = MemoryProjection.from_rows(turns, sessions, events=events, involves=involves, entities=entities,
                                   associations=associations)
    assert p.turn_ids == ["turn:a", "turn:b"]
    assert p.event_ids == ["event:2", "event:0", "event:1"] and p.event_turn.tolist() == [0, 1, 1]
    assert p.entity_ids == ["entity:c", "entity:m"]
    assert list(zip(p.involves_event.tolist(), p.involves_entity.tolist(), p.involves_weight.tolist())) == [
        (0, 1, 1.0), (1, 0, 1.0), (1, 0, 0.5), (1, 1, 0.2)]  # roles "None" < "addressee"; "speaker" of entity:m
    assert list(zip(p.assoc_src.tolist(), p.assoc_dst.tolist(), p.assoc_w.tolist())) == [(0, 1, 1.0), (1, 0, 0.25)]
    numbered = MemoryProjection.from_rows(turns, sessions, events=events, entities=[{"id": 5, "name": "Five"}],
                                          involves=[{"event_id": "event:2", "entity_id": 5, "role": "mention"}])
    assert numbered.entity_ids == ["5"] and numbered.involves_event.tolist() == [0] and numbered.involves_entity.tolist() == [0]
