"""LongMemEval: loader and `graphmem eval longmemeval` on a tiny file written in its layout."""

from __future__ import annotations

import gzip
import json

import pytest
from typer.testing import CliRunner

from graphmem import Memory
from graphmem.cli import app
from graphmem.errors import InputError
from graphmem.loaders.longmemeval import parse_longmemeval


def haystack(pets_answer: bool):
    return [
        [{"role": "user", "content": "I just adopted a greyhound named Pixel from the shelter.", "has_answer": pets_answer},
         {"role": "assistant", "content": "Congratulations on adopting Pixel! Greyhounds are gentle dogs."}],
        [{"role": "user", "content": "Can you suggest a recipe for lentil soup?"},
         {"role": "assistant", "content": ""},
         {"role": "assistant", "content": "Sure: simmer red lentils with onion, cumin and stock."}],
        [{"role": "user", "content": "My sister's wedding is in Porto next June.", "has_answer": not pets_answer},
         {"role": "assistant", "content": "Porto is a lovely city for a wedding."}],
    ]


QUESTIONS = [
    {"question_id": "q1", "question_type": "single-session-user", "question": "What is the name of the dog I adopted?",
     "question_date": "2023/06/01 (Thu) 10:00", "answer": "Pixel", "answer_session_ids": ["s_pet"],
     "haystack_dates": ["2023/05/20 (Sat) 02:21", "2023/05/21 (Sun) 09:00", "2023/05/22 (Mon) 18:30"],
     "haystack_session_ids": ["s_pet", "s_food", "s_trip"], "haystack_sessions": haystack(True)},
    {"question_id": "q2", "question_type": "temporal-reasoning", "question": "Where is my sister getting married?",
     "question_date": "2023/06/01 (Thu) 10:00", "answer": "Porto", "answer_session_ids": ["s_trip"],
     "haystack_dates": ["2023/05/20 (Sat) 02:21", "2023/05/21 (Sun) 09:00", "2023/05/22 (Mon) 18:30"],
     "haystack_session_ids": ["s_pet", "s_food", "s_trip"], "haystack_sessions": haystack(False)},
    {"question_id": "q3_abs", "question_type": "single-session-user", "question": "What is my cat's name?",
     "question_date": "2023/06/01 (Thu) 10:00", "answer": "unknown", "answer_session_ids": [],
     "haystack_dates": ["2023/05/20 (Sat) 02:21", "2023/05/21 (Sun) 09:00", "2023/05/22 (Mon) 18:30"],
     "haystack_session_ids": ["s_pet", "s_food", "s_trip"], "haystack_sessions": haystack(True)},
]


def test_loader_keeps_ids_dates_and_answers(tmp_path):
    questions = parse_longmemeval(tmp_path / "x.json", json.loads(json.dumps(QUESTIONS)))
    q1 = questions[0]
    assert [s.key for s in q1.conversation.sessions] == ["s_pet", "s_food", "s_trip"]
    assert q1.conversation.sessions[0].started_at.isoformat() == "2023-05-20T02:21:00"
    assert q1.answer_turn_ids == ("s_pet:0",)
    food = q1.conversation.sessions[1]
    assert [t.source_id for t in food.turns] == ["s_food:0", "s_food:2"]  # the empty message is skipped, ids stay stable
    assert questions[2].is_abstention and not q1.is_abstention


def test_an_empty_gold_message_and_a_question_date_that_is_no_date(tmp_path):
    """An empty message marked has_answer was kept in the turn gold though never stored (the question
    could not score at any k); a question_date that is a number raised AttributeError from the eval."""
    marked = json.loads(json.dumps(QUESTIONS[:1]))
    marked[0]["haystack_sessions"][1][1]["has_answer"] = True  # the empty assistant message of s_food
    assert parse_longmemeval(tmp_path / "x.json", marked)[0].answer_turn_ids == ("s_pet:0",)
    for date, said in ((20230520, r"\[0\]\.question_date: expected a date text, got 20230520"),
                       ("soon", r"\[0\]\.question_date: 'soon' is not a date")):
        bad = json.loads(json.dumps(QUESTIONS[:1]))
        bad[0]["question_date"] = date
        with pytest.raises(InputError, match=said):
            parse_longmemeval(tmp_path / "x.json", bad)


def test_eval_warns_of_a_kept_namespace_holding_another_files_haystack(tmp_path, caplog):
    """--store --keep scored a later file against the kept haystack of an earlier one, silently."""
    import logging

    path, store, runner = tmp_path / "lme.json", tmp_path / "store", CliRunner()
    path.write_text(json.dumps(QUESTIONS[:1]), encoding="utf-8")
    assert runner.invoke(app, ["eval", "longmemeval", str(path), "--strategy", "dense", "--store", str(store), "--keep"]).exit_code == 0
    other = json.loads(json.dumps(QUESTIONS[:1]))
    other[0]["haystack_sessions"] = other[0]["haystack_sessions"][:1]
    other[0]["haystack_session_ids"], other[0]["haystack_dates"] = ["s_pet"], other[0]["haystack_dates"][:1]
    path.write_text(json.dumps(other), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="graphmem.eval.harness"):
        result = runner.invoke(app, ["eval", "longmemeval", str(path), "--strategy", "dense", "--store", str(store), "--keep"])
    assert result.exit_code == 0 and "its namespace holds 6 turns, the case 2" in caplog.text, caplog.text


def test_loader_rejects_mismatched_haystack(tmp_path):
    bad = json.loads(json.dumps(QUESTIONS[:1]))
    bad[0]["haystack_session_ids"] = ["only-one"]
    with pytest.raises(InputError, match=r"x\.json: \[0\]: haystack_session_ids \(1\), haystack_sessions \(3\)"):
        parse_longmemeval(tmp_path / "x.json", bad)


def test_eval_harness_rankings_and_metrics(tmp_path):
    path = tmp_path / "longmemeval_s.json.gz"
    path.write_bytes(gzip.compress(json.dumps(QUESTIONS).encode("utf-8")))
    rankings, metrics = tmp_path / "r.jsonl", tmp_path / "m.json"
    store = tmp_path / "store"
    result = CliRunner().invoke(app, ["eval", "longmemeval", str(path), "--strategy", "dense", "--rankings", str(rankings),
                                      "--json", str(metrics), "--store", str(store)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "1 abstention questions skipped" in result.stderr
    lines = [json.loads(line) for line in rankings.read_text().splitlines()]
    assert [line["question_id"] for line in lines] == ["q1", "q2"]
    assert lines[0]["question_type"] == "single-session-user"
    assert lines[0]["sessions"][0] == "s_pet" and set(lines[0]["sessions"]) == {"s_pet", "s_food", "s_trip"}
    assert lines[0]["turns"][0] == "s_pet:0"
    assert lines[1]["sessions"][0] == "s_trip"
    data = json.loads(metrics.read_text())
    assert data["questions"] == 2
    session = data["strategies"]["dense"]["session"]
    assert session["overall"]["R_all@1"] == 100.0
    assert set(session["by_category"]) == {"single-session-user", "temporal-reasoning"}
    # each question's ingest and query time, printed and in the JSON
    assert [c["case"] for c in data["cases"]] == ["q1", "q2"]
    assert all(c["ingest_seconds"] > 0 and c["query_seconds"] > 0 and c["turns"] == 6 for c in data["cases"])
    assert "q1: 6 turns, ingest" in result.stderr and "q2: 6 turns, ingest" in result.stderr
    # evaluation namespaces are removed afterwards unless --keep
    with Memory.open(store, namespace="eval-longmemeval:q1") as memory:
        assert memory.stats()["nodes"] == {}


def test_eval_keep_leaves_namespaces(tmp_path):
    path = tmp_path / "lme.json"
    path.write_text(json.dumps(QUESTIONS[:1]), encoding="utf-8")
    store = tmp_path / "store"
    result = CliRunner().invoke(app, ["eval", "longmemeval", str(path), "--strategy", "dense", "--store", str(store), "--keep"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with Memory.open(store, namespace="eval-longmemeval:q1") as memory:
        assert memory.stats()["nodes"]["Turn"] == 6


def test_a_longmemeval_file_ingests_with_each_haystack_a_conversation(tmp_path, test_settings, embedder):
    """``ingest`` (and so ``bench ingest``) reads LongMemEval files: auto-detected or named."""
    from graphmem.loaders import load

    path = tmp_path / "longmemeval_s.json.gz"
    path.write_bytes(gzip.compress(json.dumps(QUESTIONS).encode("utf-8")))
    records = load(path)
    assert [r.key for r in records] == ["q1", "q2", "q3_abs"]
    assert [r.key for r in load(path, format="longmemeval")] == ["q1", "q2", "q3_abs"]
    assert [s.key for s in records[0].sessions] == ["s_pet", "s_food", "s_trip"]
    with Memory.open(tmp_path / "store", namespace="lme", settings=test_settings) as memory:
        report = memory.ingest(path)
        assert report.conversations == 3
        assert report.turns_added == sum(r.turn_count for r in records)
        assert memory.stats()["nodes"]["Conversation"] == 3


def test_eval_longmemeval_scores_auto_dense_and_bm25_by_default(tmp_path):
    path = tmp_path / "lme.json"
    path.write_text(json.dumps(QUESTIONS[:1]), encoding="utf-8")
    metrics = tmp_path / "m.json"
    result = CliRunner().invoke(app, ["eval", "longmemeval", str(path), "--json", str(metrics), "--store", str(tmp_path / "store")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert list(json.loads(metrics.read_text())["strategies"]) == ["auto", "dense", "bm25"]
