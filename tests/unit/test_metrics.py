"""Retrieval metrics on hand-computed rankings."""

from __future__ import annotations

import math

import pytest

from graphmem.eval.metrics import (
    QuestionResult,
    aggregate,
    evaluate_ranking,
    ndcg,
    parse_evidence_ids,
    recall_all,
    recall_any,
    session_of_dia_id,
)


def test_parse_evidence_ids_handles_malformed_ids():
    assert parse_evidence_ids(["D8:6; D9:17"]) == ["D8:6", "D9:17"]
    assert parse_evidence_ids("D:11:26") == ["D11:26"]
    assert parse_evidence_ids(["D1:3", "D1:3", "D2:05"]) == ["D1:3", "D2:5"]
    assert parse_evidence_ids(None) == []
    assert parse_evidence_ids(["", "no id here"]) == []


def test_session_of_dia_id():
    assert session_of_dia_id("D3:12") == 3
    assert session_of_dia_id("D:11:26") == 11
    with pytest.raises(ValueError):
        session_of_dia_id("turn 3")


def test_recall_all_and_any():
    ranked = ["a", "b", "c", "d"]
    assert recall_all(ranked, {"a", "c"}, 2) == 0.0
    assert recall_all(ranked, {"a", "c"}, 3) == 1.0
    assert recall_any(ranked, {"c", "z"}, 2) == 0.0
    assert recall_any(ranked, {"c", "z"}, 3) == 1.0


def test_duplicates_count_once():
    # "a" repeated must not push "b" out of the top 2
    assert recall_all(["a", "a", "b"], {"b"}, 2) == 1.0


def test_ndcg_binary_relevance():
    # relevant at ranks 2 and 4: DCG = 1/log2(3) + 1/log2(5); ideal = 1 + 1/log2(3)
    value = ndcg(["x", "a", "y", "b"], {"a", "b"}, 4)
    assert value == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3)))
    assert value == pytest.approx(0.650921, abs=1e-6)
    # ideal DCG over min(len(gold), k): one relevant hit at rank 1 with k=1 is perfect
    assert ndcg(["a", "x"], {"a", "b", "c"}, 1) == 1.0
    assert ndcg(["x", "y"], {"a"}, 2) == 0.0


def test_metrics_reject_empty_gold_and_bad_k():
    with pytest.raises(ValueError):
        recall_all(["a"], [], 1)
    with pytest.raises(ValueError):
        ndcg(["a"], ["a"], 0)


def test_evaluate_and_aggregate_by_category():
    r1 = evaluate_ranking(["a", "b"], ["b"], category=1, ks=(1, 2))
    r2 = evaluate_ranking(["a", "b"], ["a"], category=2, ks=(1, 2))
    assert r1.values["R_all@1"] == 0.0 and r1.values["R_all@2"] == 1.0
    assert r1.values["NDCG@2"] == pytest.approx(1 / math.log2(3))
    report = aggregate([r1, r2, QuestionResult(2, dict(r2.values))])
    assert report.overall["R_all@1"] == pytest.approx(200 / 3)
    assert report.by_category[1]["R_all@1"] == 0.0
    assert report.by_category[2]["R_all@1"] == 100.0
    assert report.counts == {"all": 3, 1: 1, 2: 2}
