"""The graphmem CLI, in-process through typer's runner, on the real embedded store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from samples import write_native

from graphmem import Memory
from graphmem.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_ingest_search_stats_cypher(tmp_path):
    store = str(tmp_path / "store")
    source = write_native(tmp_path)
    result = invoke("ingest", str(source), "--store", store, "--namespace", "cli", "--json")
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)
    assert report["turns_added"] == 10

    result = invoke("stats", "--store", store, "--namespace", "cli", "--json")
    stats = json.loads(result.stdout)
    assert {k: stats["nodes"][k] for k in ("Conversation", "Session", "Turn")} == {"Conversation": 1, "Session": 2, "Turn": 10}
    assert stats["nodes"]["Event"] >= 8 and stats["nodes"]["Episode"] >= 2 and stats["topics"]

    again = invoke("ingest", str(source), "--store", store, "--namespace", "cli", "--json")
    assert json.loads(again.stdout)[0]["turns_added"] == 0
    assert json.loads(invoke("stats", "--store", store, "--namespace", "cli", "--json").stdout) == stats

    result = invoke("search", "copper tape for slugs", "--store", store, "--namespace", "cli", "-k", "2", "--json")
    hits = json.loads(result.stdout)
    assert len(hits) == 2 and hits[0]["source_id"] == "G2:3"
    assert {"node_id", "unit", "text", "score", "strategy", "source_id", "session_number", "speaker", "timestamp"} <= set(hits[0])

    result = invoke("search", "copper tape for slugs", "--store", store, "--namespace", "cli", "-k", "2")
    assert result.exit_code == 0 and "G2:3" in result.stdout
    asked = invoke("search", "copper tape for slugs last week", "--store", store, "--namespace", "cli", "-k", "2", "--json",
                   "--as-of", "2024-01-10", "--explain")
    assert asked.exit_code == 0 and "days 2024-01-01..2024-01-07" in json.loads(asked.stdout)[0]["explanation_text"]
    bad = invoke("search", "copper tape", "--store", store, "--namespace", "cli", "--as-of", "last week")
    assert bad.exit_code == 2 and "as_of 'last week' is not a date" in bad.stderr

    result = invoke("cypher", "MATCH (t:Turn) WHERE t.namespace = $namespace AND t.speaker = $who RETURN count(t) AS n",
                    "--param", "who=Alice", "--store", store, "--namespace", "cli", "--json")
    assert json.loads(result.stdout) == [{"n": 5}]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"id": "x", "sessions": [', "malformed JSON"),
        ('{"id": "x", "sessions": [{"turns": [{"speaker": "A"}]}]}', "'text' is a required property"),
        ('[]', "unrecognised JSON layout"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_stores_nothing(tmp_path, content, expected):
    store = str(tmp_path / "store")
    good = write_native(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    result = invoke("ingest", str(good), str(bad), "--store", store, "--namespace", "cli-bad")
    assert result.exit_code == 2
    assert expected in result.stderr and "bad.json" in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) <= 3  # one message (rich may wrap it)
    stats = invoke("stats", "--store", store, "--namespace", "cli-bad", "--json")
    assert stats.exit_code == 2 and "no memory at" in stats.stderr  # the bad file kept the store from being created


def test_cli_add_with_caption_and_metadata_and_a_correction_that_keeps_its_time(tmp_path):
    """`graphmem add` sends what `Memory.add` takes (--caption, --meta); fixing a message's text
    with --id keeps the time it was said (a new message is said now), and the hit shows both."""
    base = ("add", "--store", str(tmp_path / "store"), "--namespace", "cli", "--conversation", "c")
    first = invoke(*base, "--id", "k1", "--timestamp", "2024-01-05T10:00:00", "--caption", "a kitten asleep on a sofa",
                   "--meta", "src=ios", "--meta", "rating=4", "--json", "Look!")
    assert first.exit_code == 0, first.output
    fixed = invoke(*base, "--id", "k1", "--caption", "a kitten asleep on a sofa", "--meta", "src=ios", "--json", "Look at him!")
    assert json.loads(fixed.stdout)["corrected"] == 1
    assert invoke(*base, "--json", "Now he is awake.").exit_code == 0
    hits = json.loads(invoke("search", "kitten on a sofa", "--store", str(tmp_path / "store"), "--namespace", "cli",
                             "-k", "1", "--json").stdout)
    assert (hits[0]["text"], hits[0]["timestamp"], hits[0]["caption"], hits[0]["metadata"]) == (
        "Look at him!", "2024-01-05T10:00:00", "a kitten asleep on a sofa", {"src": "ios"})
    with Memory.open(str(tmp_path / "store"), "cli") as memory:
        times = [r["ts"] for r in memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.timestamp AS ts ORDER BY t.seq")]
        assert times[0] == "2024-01-05T10:00:00" and times[1] > "2026"  # the new message: now
        assert [h["metadata"] for h in memory.history(hits[0]["node_id"])] == [{"rating": 4, "src": "ios"}, {"src": "ios"}]
    bad = runner.invoke(app, [*base, "--meta", "no-equals", "x"])
    assert bad.exit_code == 2 and "--meta 'no-equals': expected key=value" in bad.output
    mixed = runner.invoke(app, [*base, "--caption", "c", "-"], input='{"role": "user", "content": "x"}\n')
    assert mixed.exit_code == 2 and "with - each JSONL message carries its own" in mixed.output
    when = runner.invoke(app, [*base, "--timestamp", "yesterday", "x"])
    assert when.exit_code == 2 and "--timestamp: not a date: 'yesterday'" in when.output


def test_cli_in_the_users_time_zone(tmp_path):
    """GRAPHMEM_TIMEZONE: a time given without an offset is New York's, stored in UTC and shown
    back with New York's offset; an unknown zone is a clear error."""
    base = ("--store", str(tmp_path / "store"), "--namespace", "tz")
    env = {"GRAPHMEM_TIMEZONE": "America/New_York"}
    added = runner.invoke(app, ["add", *base, "--conversation", "c", "--timestamp", "2024-01-05T22:00:00", "--json",
                                "We baked bread."], env=env)
    assert added.exit_code == 0, added.output
    hits = json.loads(runner.invoke(app, ["search", "bread", *base, "-k", "1", "--json"], env=env).stdout)
    assert hits[0]["timestamp"] == "2024-01-05T22:00:00-05:00"
    stored = json.loads(runner.invoke(app, ["cypher", "MATCH (t:Turn) RETURN t.timestamp AS ts", *base, "--json"]).stdout)
    assert [row["ts"] for row in stored] == ["2024-01-06T03:00:00"]
    bad = runner.invoke(app, ["search", "bread", *base], env={"GRAPHMEM_TIMEZONE": "Atlantis/Capital"})
    assert bad.exit_code == 2 and "'Atlantis/Capital' is not a time zone name" in bad.output


def test_missing_file_exits_2(tmp_path):
    result = invoke("ingest", str(tmp_path / "nope.jsonl"), "--store", str(tmp_path / "s"))
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_bad_param_and_bad_cypher(tmp_path):
    store = str(tmp_path / "store")
    assert invoke("ingest", str(write_native(tmp_path)), "--store", store).exit_code == 0
    assert invoke("cypher", "RETURN 1 AS x", "--param", "oops", "--store", store).exit_code == 2
    result = invoke("cypher", "MATCH (n RETURN n", "--store", store)  # the query's fault: exit 2 (it was 1, a store error)
    assert result.exit_code == 2 and "cypher: Syntax error" in result.stderr and "(caused by )" not in result.stderr


def test_demo_runs_end_to_end(tmp_path):
    result = invoke("demo", "--store", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.output
    assert "Biscuit" in result.stdout  # the dog's name comes back for "What is the name of Tom's dog?"
    assert any([c.strip() for c in line.split("│")[1:4]] == ["node", "Turn", "42"] for line in result.stdout.splitlines())
    assert "temporary" not in result.stdout and (tmp_path / "demo").is_dir()


def test_demo_without_a_store_says_its_store_is_removed():
    """The demo printed the path of its temporary store and removed it: the README's next command,
    graphmem show --store <that path>, found no memory."""
    result = invoke("demo")
    said = " ".join(result.stdout.split())
    assert result.exit_code == 0 and "(temporary: removed when the demo ends; give --store DIR to keep it)" in said
    location = re.search(r"embedded store at (\S+)", said)
    assert location and not Path(location.group(1)).exists()


def test_default_store_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHMEM_STORE", str(tmp_path / "env-store"))
    assert invoke("ingest", str(write_native(tmp_path))).exit_code == 0
    result = invoke("stats", "--json", "--namespace", "default")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["store"] == f"embedded:{tmp_path / 'env-store'}"


@pytest.mark.slow
def test_bench_ingest_reports_every_cold_run(tmp_path):
    """The figures of `graphmem bench ingest` hang together (no timing is asserted): the
    texts it embedded alone are the ones the ingest embedded, and each run is listed."""
    source = write_native(tmp_path)
    result = invoke("bench", "ingest", str(source), "--runs", "2", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # events whose text is the whole turn reuse its vector, so fewer events than turns are embedded
    assert data["units_embedded"]["turn"] == 10 and data["units_embedded"]["event"] >= 1
    assert data["texts_embedded"] == sum(data["units_embedded"].values())
    assert len(data["runs"]) == 2 and data["ratio_median"] in [r["ratio"] for r in data["runs"]]
    for run in data["runs"]:  # the ratio of the unrounded seconds, shown to 2 decimals
        ingest, alone = run["ingest_seconds"], run["embed_alone_seconds"]
        assert (ingest - 0.005) / (alone + 0.005) <= run["ratio"] <= (ingest + 0.005) / (alone - 0.005)
        assert run["ratio_with_writer_loads"] >= run["ratio"]  # the one-time loads, counted in
    assert data["turns"] == 10 and data["peak_rss_mb"] > 0
    assert set(data["setup_seconds"]) == {"embedding_model", "writer_loads"}


@pytest.mark.slow
def test_bench_add_times_adds_and_the_search_after_an_add(tmp_path, monkeypatch):
    """`graphmem bench add` on a small synthetic memory (cached under $XDG_CACHE_HOME): every
    figure is there and ordered (no timing is asserted), the search rows only when asked for,
    and the cached memory does not grow from one run to the next."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    result = invoke("bench", "add", "--sizes", "200", "--adds", "5", "--searches", "3", "--forgets", "2", "--corrections", "1",
                    "--ingests", "1", "--json")
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)["sizes"]["200"]
    for figures in (entry, entry["search_after_add"], entry["search_warm"], entry["recall"], entry["forget"],
                    entry["search_after_forget"], entry["correct"], entry["ingest"]):
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"]
    assert {"embed", "write"} <= set(entry["stage_median_ms"])
    assert "build" in entry  # the first run builds the memory

    result = invoke("bench", "add", "--sizes", "200", "--adds", "5", "--searches", "0", "--json")
    assert result.exit_code == 0, result.output
    again = json.loads(result.stdout)["sizes"]["200"]
    assert "build" not in again and not {"search_after_add", "search_warm", "recall", "forget", "search_after_forget", "correct",
                                         "ingest"} & set(again)
    result = invoke("bench", "add", "--sizes", "200", "--adds", "5", "--searches", "1", "--forgets", "0")
    assert result.exit_code == 0 and "search" in result.stdout and "forget" not in result.stdout, result.output

    cached = tmp_path / "cache" / "graphmem" / "bench" / "add-200-v4" / "store"
    # its ANN indexes are saved as of its change marker (the first add loads them, not rebuilds
    # them), and its topic-placement ledger is settled (the first ingest looks in no old session)
    manifests = [json.loads(path.read_text(encoding="utf-8")) for path in cached.glob("cache/*/turn.json")]
    assert len(manifests) == 1 and manifests[0]["version"] == 2 and manifests[0]["epoch"], manifests
    with Memory.open(str(cached), "bench-add") as memory:
        marker = memory.cypher("MATCH (m:ChangeMarker) WHERE m.namespace = $namespace RETURN m.version AS v, m.placing_unknown AS u")
        assert marker == [{"v": 2, "u": False}], marker
        # its synthetic vectors are the model's, recorded as the namespace's (a Memory of another model refuses it)
        from graphmem.embed import Embedder
        from graphmem.model_identity import identity_of, stored_identity

        assert stored_identity(memory.store, "bench-add").same_model(identity_of(Embedder()))
        assert memory.cypher("MATCH (s:Session) WHERE s.namespace = $namespace AND (s.placing IS NULL OR s.placing <> 0) "
                             "RETURN count(s) AS n")[0]["n"] == 0
    result = invoke("stats", "--store", str(cached), "--namespace", "bench-add", "--json")
    assert json.loads(result.stdout)["nodes"]["Turn"] == 200
    result = invoke("check", "--store", str(cached), "--namespace", "bench-add")  # a whole memory, its order included
    assert result.exit_code == 0, result.output


def test_python_dash_m_graphmem_is_the_command():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "graphmem", "--help"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "ingest" in done.stdout and "search" in done.stdout, done.stderr



def test_check_and_forget_take_a_namespace_whose_conversation_node_was_deleted(tmp_path, monkeypatch):
    """A Conversation node deleted outside graphmem while its sessions and turns remain: `graphmem check`,
    the command meant to find damage, refused the namespace ("holds no conversation ... add or ingest
    messages first", exit 2). check now looks at it and names the damage; forget clears it; the other
    commands say the namespace is damaged and to run check."""
    monkeypatch.setenv("GRAPHMEM_INDEX_DIR", str(tmp_path / "index"))
    store = str(tmp_path / "store")
    assert invoke("ingest", str(write_native(tmp_path)), "--store", store, "-n", "cli").exit_code == 0
    with Memory.open(store, "cli", create=False) as memory:
        memory.cypher("MATCH (c:Conversation) WHERE c.namespace = $namespace DETACH DELETE c", write=True)
    checked = invoke("check", "--store", store, "-n", "cli", "--json")
    assert checked.exit_code == 1, checked.output
    (report,) = json.loads(checked.stdout)
    assert report["problems"]["sessions_without_conversation"]["count"] == 2
    searched = invoke("search", "slugs", "--store", store, "-n", "cli")
    said = " ".join(searched.output.split())
    assert searched.exit_code == 2 and "no Conversation: it is damaged" in said and "graphmem check --namespace cli" in said
    forgotten = invoke("forget", "--before", "2100-01-01", "--yes", "--store", store, "-n", "cli", "--json")
    assert forgotten.exit_code == 0, forgotten.output
    assert json.loads(forgotten.stdout)["turns"] == 10
    assert invoke("check", "--store", store, "-n", "cli").exit_code == 0
    missing = invoke("check", "--store", store, "-n", "nobody")  # a namespace holding nothing is still refused
    assert missing.exit_code == 2 and "no namespace 'nobody'" in " ".join(missing.output.split())
