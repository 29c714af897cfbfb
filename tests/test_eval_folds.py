"""``graphmem eval locomo --folds``: leave-one-conversation-out tuning, on small conversations
written here (real embedded store, real embedding model)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from graphmem.cli import app
from graphmem.eval.folds import grid_configs, split_folds
from graphmem.eval.harness import EvalCase
from graphmem.memory import Memory
from graphmem.retrieve.config import TUNABLE, RetrievalConfig


def _sample(key: str, a: str, b: str, lines: list[list[str]], qa: list[dict]) -> dict:
    conversation: dict = {"speaker_a": a, "speaker_b": b}
    for number, session in enumerate(lines, 1):
        conversation[f"session_{number}_date_time"] = f"1:{number}0 pm on {number + 3} May, 2023"
        conversation[f"session_{number}"] = [
            {"speaker": a if i % 2 == 0 else b, "dia_id": f"D{number}:{i + 1}", "text": text} for i, text in enumerate(session)]
    return {"sample_id": key, "conversation": conversation, "qa": qa}


SAMPLES = [
    _sample("c-garden", "Alice", "Ben", [
        ["I planted tomatoes and basil in the raised beds.", "Did the cedar wood hold up over winter?",
         "Yes, the cedar beds look new.", "My violin recital is next Friday."],
        ["Slugs ate my basil seedlings.", "Copper tape keeps slugs away from the beds.",
         "My sister Clara visits from Lyon in June.", "The recital got a standing ovation."],
    ], [
        {"question": "What did Alice plant in the raised beds?", "answer": "tomatoes and basil", "evidence": ["D1:1"], "category": 4},
        {"question": "What keeps slugs away?", "answer": "copper tape", "evidence": ["D2:2"], "category": 4},
        {"question": "How did Ben's violin recital go?", "answer": "standing ovation", "evidence": ["D1:4", "D2:4"], "category": 1},
    ]),
    _sample("c-marathon", "Raj", "Mia", [
        ["I ran my first marathon in Boston last Sunday.", "How long did it take you?",
         "Four hours and twelve minutes.", "I adopted a grey kitten called Pixel."],
        ["Pixel knocked my coffee off the desk.", "Are you training for another race?",
         "The Berlin marathon is in September.", "My knee hurts after long runs."],
    ], [
        {"question": "Where did Raj run his first marathon?", "answer": "Boston", "evidence": ["D1:1"], "category": 4},
        {"question": "What is the name of Mia's kitten?", "answer": "Pixel", "evidence": ["D1:4", "D2:1"], "category": 1},
        {"question": "When is the Berlin marathon?", "answer": "September", "evidence": ["D2:3"], "category": 2},
    ]),
    _sample("c-kitchen", "Maya", "Leo", [
        ["We started renovating the kitchen.", "Are you replacing the oak cabinets?",
         "White cabinets and a marble countertop.", "My cousin Omar is a plumber."],
        ["Omar moved the sink under the window.", "The new oven arrives on Tuesday.",
         "We painted the walls sage green.", "Dinner party at ours next month!"],
    ], [
        {"question": "What countertop did Maya choose?", "answer": "marble", "evidence": ["D1:3"], "category": 4},
        {"question": "Who moved the sink?", "answer": "Omar", "evidence": ["D1:4", "D2:1"], "category": 1},
        {"question": "What colour are the kitchen walls?", "answer": "sage green", "evidence": ["D2:3"], "category": 4},
    ]),
]


def test_grid_starts_with_the_defaults_and_covers_every_combination():
    base = RetrievalConfig()
    combos = grid_configs(base)
    size = 1
    for values in TUNABLE.values():
        size *= len(values)
    assert len(combos) == size and len({json.dumps(c, sort_keys=True) for c in combos}) == size
    assert combos[0] == {name: getattr(base, name) for name in TUNABLE}
    # a base outside the grid is still tried first
    odd = grid_configs(base.with_(time_weight=3.0), {"time_weight": (1.0, 2.0)})
    assert odd == [{"time_weight": 3.0}, {"time_weight": 1.0}, {"time_weight": 2.0}]


def test_split_folds_leaves_each_case_out_once():
    cases = [EvalCase(name=str(i), conversations=(), questions=()) for i in range(5)]
    assert split_folds(cases, 5) == [[0], [1], [2], [3], [4]]
    assert split_folds(cases, 2) == [[0, 2, 4], [1, 3]]
    with pytest.raises(ValueError, match="between 2 and the number of conversations"):
        split_folds(cases, 6)
    with pytest.raises(ValueError):
        split_folds(cases, 1)


def test_eval_locomo_folds_prints_in_and_out_of_fold(tmp_path):
    path = tmp_path / "locomo_small.json"
    path.write_text(json.dumps(SAMPLES), encoding="utf-8")
    store, metrics = tmp_path / "store", tmp_path / "folds.json"
    args = ["eval", "locomo", str(path), "--folds", "3", "--store", str(store), "--json", str(metrics)]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "leave-one-conversation-out" in result.stdout and "c-marathon" in result.stdout
    assert "9 questions; in-fold figures" in result.stdout and "out-of-fold on the held-out one" in result.stdout
    data = json.loads(metrics.read_text())
    assert [fold["held_out"] for fold in data["folds"]] == [["c-garden"], ["c-marathon"], ["c-kitchen"]]
    for fold in data["folds"]:
        assert set(fold["chosen"]) == set(TUNABLE)
        assert all(fold["chosen"][name] in grid for name, grid in TUNABLE.items())
        assert fold["out_of_fold"]["turn"]["counts"]["all"] == 3  # the held-out conversation's questions
        assert fold["in_fold"]["turn"]["counts"]["all"] == 6  # the other two conversations'
    pooled = data["pooled"]["out_of_fold"]["turn"]
    assert pooled["counts"]["all"] == 9 and set(pooled["by_category"]) == {"1", "2", "4"}
    # single-hop questions that share words with their evidence are found out-of-fold
    assert pooled["by_category"]["4"]["R_all@10"] >= 80.0
    assert data["configs"] == len(grid_configs(RetrievalConfig())) == len(data["per_config"])
    assert data["per_config"][0]["changes"] == {name: getattr(RetrievalConfig(), name) for name in TUNABLE}
    assert set(data["per_config"][0]["cases"]) == {"c-garden", "c-marathon", "c-kitchen"}
    # namespaces are dropped unless --keep
    with Memory.open(store, namespace="eval-locomo:c-garden") as memory:
        assert memory.stats()["nodes"] == {}


def test_eval_locomo_folds_refuses_more_folds_than_conversations(tmp_path):
    path = tmp_path / "locomo_small.json"
    path.write_text(json.dumps(SAMPLES[:2]), encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "locomo", str(path), "--folds", "3", "--store", str(tmp_path / "store")])
    assert result.exit_code != 0
    assert "--folds must be between 2 and the number of conversations (2), got 3" in result.output
    assert not (tmp_path / "store").exists()  # refused before anything was written


def test_eval_locomo_refuses_what_it_would_pass_over_or_fail_on_late(tmp_path):
    """--folds dropped --rankings, --strategy and --stream without a word; a message id given twice in
    the second conversation stopped the eval after the first was ingested and scored (its figures lost)."""
    path, store = tmp_path / "locomo_small.json", tmp_path / "store"
    path.write_text(json.dumps(SAMPLES[:2]), encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "locomo", str(path), "--folds", "2", "--rankings", str(tmp_path / "r.jsonl"),
                                      "--store", str(store)])
    assert result.exit_code == 2 and "--folds scores the router's own choices" in " ".join(result.output.split())
    twice = json.loads(json.dumps(SAMPLES[:2]))
    twice[1]["conversation"]["session_1"][1]["dia_id"] = "D1:1"
    path.write_text(json.dumps(twice), encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "locomo", str(path), "--strategy", "bm25", "--store", str(store)])
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and "locomo_small.json" in said and "'D1:1' is given twice" in said, said
    assert "c-garden:" not in said and not store.exists()  # refused before the first conversation was ingested


def test_eval_locomo_streams_a_photo_sent_without_text(tmp_path):
    """A turn that is only a photo (its caption, no text) is a LoCoMo message: the batch eval took it,
    --stream stopped on it ("messages[0].text: empty", naming no file, session or message)."""
    photo = json.loads(json.dumps(SAMPLES[:1]))
    photo[0]["conversation"]["session_1"][2].update({"text": "", "blip_caption": "a photo of cedar raised beds"})
    path = tmp_path / "locomo_photo.json"
    path.write_text(json.dumps(photo), encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "locomo", str(path), "--strategy", "bm25", "--stream", "--store", str(tmp_path / "store")])
    assert result.exit_code == 0, result.output
