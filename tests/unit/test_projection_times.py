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
