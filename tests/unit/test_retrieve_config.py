"""One RetrievalConfig: every tuned number of retrieval lives there, none in strategy code."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

import graphmem.retrieve
from graphmem.retrieve.config import TUNABLE, RetrievalConfig
from graphmem.settings import Settings

PACKAGE = Path(graphmem.retrieve.__file__).parent
#: modules that compute rankings; their numbers must come from RetrievalConfig
STRATEGY_MODULES = ["types", "cues", "router", "fusion", "hierarchy", "activation", "strategies", "engine"]


def _float_literals(path: Path) -> list[tuple[int, float]]:
    tree = ast.parse(path.read_text())
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and type(node.value) is float and node.value not in (0.0, 1.0)]


@pytest.mark.parametrize("module", STRATEGY_MODULES)
def test_strategy_modules_hold_no_float_literals_but_0_and_1(module):
    assert _float_literals(PACKAGE / f"{module}.py") == [], f"{module} holds literal weights; move them to RetrievalConfig"


def test_the_scan_finds_a_literal_weight(tmp_path):
    (tmp_path / "bad.py").write_text("def score(x, w=0.5):\n    return 0.3 * x + 1.0 + 2\n")
    assert sorted(_float_literals(tmp_path / "bad.py")) == [(1, 0.5), (2, 0.3)]


def test_settings_carry_one_frozen_config():
    settings = Settings()
    assert isinstance(settings.retrieval, RetrievalConfig)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.retrieval.damping = 0.7  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.retrieval.expansion_weights["NEXT"] = 2.0  # type: ignore[index]
    assert hash(settings.retrieval) == hash(RetrievalConfig())  # usable as a cache key
    assert RetrievalConfig(expansion_weights={"NEXT": 0.5}) != RetrievalConfig()
    changed = settings.with_(retrieval=settings.retrieval.with_(time_weight=2.0))
    assert changed.retrieval.time_weight == 2.0 and settings.retrieval.time_weight == 1.0


def test_invalid_constants_are_refused():
    with pytest.raises(ValueError, match="damping"):
        RetrievalConfig(damping=1.0)
    with pytest.raises(ValueError, match="entropy_route_temperature"):
        RetrievalConfig(entropy_route_temperature=0.0)
    with pytest.raises(ValueError, match="candidates"):
        RetrievalConfig(candidates=0)


def test_every_field_is_documented_and_the_grid_holds_the_defaults():
    doc = RetrievalConfig.__doc__ or ""
    for f in dataclasses.fields(RetrievalConfig):
        assert f"{f.name}:" in doc or f"{f.name}," in doc, f"RetrievalConfig.{f.name} is not documented"
    defaults = RetrievalConfig()
    for name, grid in TUNABLE.items():
        assert getattr(defaults, name) in grid, f"the {name} grid must contain its default"
