"""The key hashes a projection refresh finds the rows a write touched by (no store needed)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from graphmem.retrieve.loader import _KeyedRows, _without

# CPython hashes an int modulo 2**61 - 1 (and -1 as -2): these pairs share a hash, not a value
_MODULUS = 2**61 - 1
COLLIDING = [(5, 5 + _MODULUS), (-1, -2), (6, 6 + 2 * _MODULUS)]


def _rows(values: list[object]) -> dict[str, list[dict[str, object]]]:
    return {"turns": [{"id": f"turn:{i}", "session_id": v} for i, v in enumerate(values)]}


@pytest.mark.parametrize("wanted_count", [1, 3, 8, 9, 40, 3000])  # both ways of looking up: compared, and by table
def test_among_finds_exactly_the_rows_whose_key_is_wanted(wanted_count: int) -> None:
    rng = random.Random(wanted_count)
    values = [f"session:{rng.randrange(5000)}" for _ in range(20000)] + [None, 3, (1, 2)]
    wanted = {f"session:{rng.randrange(5000)}" for _ in range(wanted_count)} | {"session:absent"}
    keyed = _KeyedRows(_rows(values))
    expected = np.array([v in wanted for v in values])
    assert expected.any()
    assert np.array_equal(keyed.among("turns", "session_id", wanted), expected)
    assert keyed.rows_among("turns", "session_id", wanted) == [r for r in _rows(values)["turns"] if r["session_id"] in wanted]


@pytest.mark.parametrize("padding", [0, 50])  # a few values wanted, and more than are compared one by one
def test_a_shared_hash_is_not_taken_for_the_value(padding: int) -> None:
    values = [a for a, _ in COLLIDING] + [b for _, b in COLLIDING]
    assert all(hash(a) == hash(b) and a != b for a, b in COLLIDING)
    wanted = {a for a, _ in COLLIDING} | {f"x{i}" for i in range(padding)}
    hit = _KeyedRows(_rows(values)).among("turns", "session_id", wanted)
    assert hit.tolist() == [True] * len(COLLIDING) + [False] * len(COLLIDING)


def test_tuple_keys_and_missing_fields() -> None:
    rows = {"episodes": [{"id": "e1", "conversation_id": "c", "session_number": 1}, {"id": "e2", "conversation_id": "c"},
                         {"id": "e3", "conversation_id": "d", "session_number": 1}]}
    keyed = _KeyedRows(rows)
    assert keyed.among("episodes", ("conversation_id", "session_number"), {("c", 1), ("c", None)}).tolist() == [True, True, False]
    assert keyed.among("episodes", "session_number", set()).tolist() == [False, False, False]


def test_carried_columns_equal_the_columns_of_the_new_rows() -> None:
    old = _rows([f"s{i % 7}" for i in range(100)])
    keyed = _KeyedRows(old)
    dropped = {"turns": keyed.among("turns", "session_id", {"s3", "s5"})}
    keyed.column("turns", "id")
    fresh = [{"id": "turn:new", "session_id": "s3"}, {"id": "turn:3", "session_id": "s3"}]
    new_rows = {"turns": [*_without(old["turns"], dropped["turns"]), *fresh]}
    assert len(new_rows["turns"]) == 100 - int(dropped["turns"].sum()) + 2
    carried = keyed.carried(new_rows, dropped)
    made_again = _KeyedRows(new_rows)
    for key in ("session_id", "id"):
        assert np.array_equal(carried.columns[("turns", key)], made_again.column("turns", key))
    assert carried.rows_among("turns", "session_id", {"s3"}) == fresh


def test_without_keeps_the_order_of_the_rest() -> None:
    rows = list(range(10))
    assert _without(rows, np.array([i in (0, 4, 5, 9) for i in rows])) == [1, 2, 3, 6, 7, 8]
    assert _without(rows, np.zeros(10, dtype=bool)) == rows
    assert _without([], np.zeros(0, dtype=bool)) == []
