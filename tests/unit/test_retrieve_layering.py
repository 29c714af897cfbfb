"""The retrieval modules form a straight path: types at the bottom, strategies above, the engine on top."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import graphmem.retrieve
from graphmem.errors import InputError
from graphmem.retrieve.types import validate_query

PACKAGE = Path(graphmem.retrieve.__file__).parent
BOTTOM_UP = ["config", "cues", "types", "activation", "lexical", "router", "fusion", "hierarchy", "projection", "patch", "loader", "strategies",
             "engine"]


def _sibling_imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("graphmem.retrieve."):
                found.add(node.module.split(".")[2])
            elif node.module == "graphmem.retrieve":
                found.update(alias.name for alias in node.names)
    return found


def test_every_module_is_in_the_layering():
    assert {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"} == set(BOTTOM_UP)


@pytest.mark.parametrize("module", BOTTOM_UP)
def test_each_module_imports_only_modules_below_it(module):
    below = set(BOTTOM_UP[:BOTTOM_UP.index(module)])
    assert _sibling_imports(module) <= below, f"{module} imports {_sibling_imports(module) - below} from above or beside it"


def test_the_bottom_imports_no_sibling():
    assert _sibling_imports("config") == set()
    assert _sibling_imports("cues") == set()
    assert _sibling_imports("types") == {"config", "cues"}


def test_modules_import_bottom_up_in_a_fresh_interpreter():
    code = "; ".join(f"import graphmem.retrieve.{m}" for m in BOTTOM_UP)
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(("args", "message"), [
    (("", 5, "turn", "auto"), "query must be a non-empty string"),
    (("q", 0, "turn", "auto"), "k must be a positive integer"),
    (("q", 5, "utterance", "auto"), "unknown unit 'utterance'"),
    (("q", 5, "turn", "magic"), "unknown strategy 'magic'"),
    (("q", 5, "turn", "auto", ("2023-05-02", "2023-05-01")), "time_range starts after it ends"),
])
def test_validate_query_messages(args, message):
    with pytest.raises(InputError, match=message):
        validate_query(*args)


def test_internal_value_error_surfaces_as_itself():
    from graphmem.search import SearchService

    class _Embedder:
        def encode(self, texts):
            return np.ones((len(texts), 4), dtype=np.float32)

    class _Engine:
        def search(self, *args, **kwargs):
            raise ValueError("internal bug")

    class _Caches:  # no store here
        def follow(self):
            return False

        def engine(self, tz=None):
            return _Engine()

    service = SearchService.__new__(SearchService)
    service.tz = None
    service.embedder = _Embedder()
    service.caches = _Caches()
    with pytest.raises(ValueError, match="internal bug") as caught:
        service.search(validate_query("where did Mel go?", 5, "turn", "auto"))
    assert not isinstance(caught.value, InputError)


def test_validate_query_returns_the_query_lower_levels_trust():
    query = validate_query("where did Mel go?", 5, "session", "lexical", ("2023-05-01", None))
    assert (query.text, query.k, query.unit, query.strategy) == ("where did Mel go?", 5, "session", "lexical")
    assert query.window is not None and query.window[1] == float("inf")
    assert query.window[0] == pytest.approx(1682899200.0)  # 2023-05-01T00:00:00Z
    assert validate_query("q", 1, "turn", "auto").window is None


def test_the_strategy_and_unit_registry_is_defined_once():
    import graphmem.hits
    import graphmem.memory
    import graphmem.retrieve.engine
    import graphmem.retrieve.types as types

    assert graphmem.hits.UNITS is types.UNITS and graphmem.retrieve.engine.UNITS is types.UNITS
    assert graphmem.memory.STRATEGIES is types.STRATEGIES and graphmem.retrieve.engine.STRATEGIES is types.STRATEGIES
    defined = [p.stem for p in PACKAGE.glob("*.py") if "\nSTRATEGIES = " in p.read_text() or "\nUNITS = " in p.read_text()]
    assert defined == ["types"]


def test_top_k_keeps_the_best_finite_scores_best_first_ties_by_position():
    from graphmem.retrieve.types import top_k

    rng = np.random.default_rng(7)
    for _ in range(500):
        n, k = int(rng.integers(0, 40)), int(rng.integers(0, 12))
        scores = rng.integers(0, 4, n).astype(float)
        scores[rng.random(n) < 0.3] = np.nan
        scores[rng.random(n) < 0.1] = -np.inf
        finite = [i for i in range(n) if np.isfinite(scores[i])]
        expected = sorted(finite, key=lambda i: (-scores[i], i))[:max(k, 0)]
        assert top_k(scores, k).tolist() == expected
    sparse = np.full(100_000, np.nan)  # ANN scoring: a few hundred scored units among many
    sparse[[5, 70_000, 99_999]] = [0.2, 0.9, 0.5]
    assert top_k(sparse, 2).tolist() == [70_000, 99_999]
