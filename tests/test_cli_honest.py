"""An honest CLI (issue 17, item 5): it never creates a store by accident, names the namespaces
present when given an unknown one, prints user text verbatim (never as rich markup), says to
add ``--write`` for a write, prints tables instead of Python reprs, and its ingest progress moves
inside one long conversation. All on the real embedded store, in-process through typer's runner."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import numpy as np
import pytest
from samples import write_native
from typer.testing import CliRunner

from graphmem.cli import app
from graphmem.embed import PROGRESS_BATCHES, Embedder
from graphmem.memory import Memory
from graphmem.records import ConversationRecord, SessionRecord, TurnRecord

runner = CliRunner()
NAMESPACE = "honest"


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    """GARDEN ingested into namespace ``honest`` of a fresh embedded store, through the CLI."""
    directory = tmp_path_factory.mktemp("honest")
    location = str(directory / "store")
    result = invoke("ingest", str(write_native(directory)), "--store", location, "--namespace", NAMESPACE)
    assert result.exit_code == 0, result.output
    return location


READERS = {
    "search": ["search", "slugs"],
    "stats": ["stats"],
    "cypher": ["cypher", "RETURN 1 AS one"],
    "check": ["check"],
    "forget": ["forget", "--conversation", "garden-chat", "--yes"],
    "drop": ["drop", "--yes"],
    "recluster": ["recluster"],
    "namespaces": ["namespaces"],
    "timezone": ["timezone"],
}


@pytest.mark.parametrize("command", sorted(READERS))
def test_a_reading_command_on_a_missing_store_exits_2_and_creates_nothing(tmp_path, command):
    missing = tmp_path / "typo" / "store"
    result = invoke(*READERS[command], "--store", str(missing))
    assert result.exit_code == 2, result.output
    assert f"no memory at {missing}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert not missing.exists() and not missing.parent.exists()


def test_the_default_store_is_not_created_by_stats(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHMEM_STORE", str(tmp_path / "env-store"))
    result = invoke("stats")
    assert result.exit_code == 2 and "no memory at" in result.stderr
    assert not (tmp_path / "env-store").exists()


@pytest.mark.parametrize("command", ["search", "stats", "check", "forget", "drop", "recluster", "export"])
def test_an_unknown_namespace_exits_2_naming_the_namespaces_present(store, command, tmp_path):
    args = READERS.get(command) or ["export", "-o", str(tmp_path / "empty.jsonl.gz")]  # an empty dump of a typo is no backup
    result = invoke(*args, "--store", store, "--namespace", "honset")
    assert result.exit_code == 2, result.output
    assert "no namespace 'honset'" in result.stderr and f"(did you mean '{NAMESPACE}'?)" in result.stderr
    assert f"namespaces present: '{NAMESPACE}' (10 turns)" in result.stderr


def test_cypher_on_an_unknown_namespace_runs_with_a_note(store):
    result = invoke("cypher", "MATCH (t:Turn) WHERE t.namespace = $namespace RETURN count(t) AS n",
                    "--store", store, "--namespace", "honset", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [{"n": 0}]
    assert "note: no namespace 'honset'" in result.stderr and f"'{NAMESPACE}'" in result.stderr


def test_namespaces_lists_each_namespace_with_its_counts(store, tmp_path):
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"id": "o", "sessions": [{"id": "1", "turns": [
        {"speaker": "Zoe", "text": "Only one turn lives here."}]}]}), encoding="utf-8")
    assert invoke("ingest", str(other), "--store", store, "--namespace", "second").exit_code == 0
    listed = json.loads(invoke("namespaces", "--store", store, "--json").stdout)
    by_name = {row["namespace"]: row for row in listed}
    assert set(by_name) == {NAMESPACE, "second"}
    assert by_name[NAMESPACE]["labels"]["Turn"] == 10 and by_name[NAMESPACE]["labels"]["Conversation"] == 1
    assert by_name["second"]["labels"]["Turn"] == 1 and by_name["second"]["nodes"] == sum(by_name["second"]["labels"].values())
    table = invoke("namespaces", "--store", store)
    assert table.exit_code == 0
    line = next(line for line in table.stdout.splitlines() if f" {NAMESPACE} " in line)
    assert [cell.strip() for cell in line.split("│")[2:5]] == ["1", "2", "10"]


def test_a_markup_line_in_a_transcript_is_the_usual_one_line_error(tmp_path):
    path = tmp_path / "chat.txt"
    path.write_text("Alice: hi there\n[/i] this line has no speaker\n", encoding="utf-8")
    result = invoke("ingest", str(path), "--store", str(tmp_path / "store"))
    assert result.exit_code == 2, result.output
    assert "chat.txt:2" in result.stderr and "[/i] this line has no speaker" in result.stderr
    assert "Traceback" not in result.output and "MarkupError" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "store").exists()  # validated before the store is opened


def test_user_text_with_markup_is_printed_verbatim(tmp_path):
    store = str(tmp_path / "store")
    path = tmp_path / "chat.txt"
    path.write_text("Alice: [bold red]x marks the map\nBob: [b]map[/b]\nAlice: [/i] map\n", encoding="utf-8")
    assert invoke("ingest", str(path), "--store", store).exit_code == 0
    result = invoke("search", "map [red]", "--store", store, "-k", "3")
    assert result.exit_code == 0, result.output
    assert "[b]map[/b]" in result.stdout and "[/i] map" in result.stdout  # short enough not to wrap
    assert "map [red]" in result.stdout  # the query, in the title
    result = invoke("cypher", "MATCH (t:Turn) RETURN t.text AS text ORDER BY text", "--store", store, "--wide")
    assert result.exit_code == 0
    assert "[bold red]x marks the map" in result.stdout and "[/i] map" in result.stdout
    bad = invoke("search", "x", "--store", store, "--unit", "[bold red]x")
    assert bad.exit_code == 2 and "[bold red]x" in bad.stderr


def test_a_write_without_write_says_to_add_write_and_changes_nothing(store):
    create = "CREATE (n:Scratch {namespace: $namespace, id: 'scratch'}) RETURN n.id AS id"
    result = invoke("cypher", create, "--store", store, "--namespace", NAMESPACE)
    assert result.exit_code == 2
    assert "add --write" in result.stderr and "Exception" not in result.stderr
    count = "MATCH (n:Scratch) WHERE n.namespace = $namespace RETURN count(n) AS n"
    assert json.loads(invoke("cypher", count, "--store", store, "--namespace", NAMESPACE, "--json").stdout) == [{"n": 0}]


def test_ingest_report_and_stats_are_tables_not_reprs(tmp_path):
    store = str(tmp_path / "store")
    result = invoke("ingest", str(write_native(tmp_path)), "--store", store)
    assert result.exit_code == 0
    assert "{" not in result.stdout and "'" not in result.stdout
    rows = {cells[0]: cells[1] for cells in (
        [c.strip() for c in line.strip("│ ").split("│")] for line in result.stdout.splitlines() if line.count("│") == 3)}
    assert rows["turns_added"] == "10" and rows["units_embedded.turn"] == "10" and int(rows["units_embedded.event"]) >= 1
    stats = invoke("stats", "--store", store)
    assert stats.exit_code == 0 and "{" not in stats.stdout
    assert any(line.split("│")[1:4] and [c.strip() for c in line.split("│")[1:4]] == ["node", "Turn", "10"]
               for line in stats.stdout.splitlines())


def _long_conversation(turns: int) -> ConversationRecord:
    start = datetime(2024, 1, 1, 9, 0)
    topics = ["the garden", "a violin lesson", "the new kitchen", "a hiking trip", "the cat Biscuit", "a pottery class"]
    rows = tuple(TurnRecord(speaker="Ann" if i % 2 == 0 else "Bo",
                            text=f"Turn {i}: I keep thinking about {topics[i % len(topics)]} and what happened on day {i // 7}.",
                            source_id=f"L:{i}", timestamp=start + timedelta(minutes=i)) for i in range(turns))
    return ConversationRecord(key="long-one", sessions=(SessionRecord(key="1", number=1, started_at=start, turns=rows),),
                              speakers=("Ann", "Bo"))


def test_ingest_progress_moves_inside_one_long_conversation(tmp_path):
    turns = 3 * 64 * PROGRESS_BATCHES + 10  # four embedding slices at the default batch size (64)
    calls: list[tuple[str, int, int]] = []
    with Memory.open(str(tmp_path / "store"), "long") as memory:
        report = memory.ingest(_long_conversation(turns), progress=lambda stage, done, total: calls.append((stage, done, total)))
    assert report.turns_added == turns
    embed = [done for stage, done, total in calls if stage == "embed" and total == turns]
    assert len(embed) >= 4 and embed == sorted(embed) and embed[0] < turns and embed[-1] == turns
    assert [c for c in calls if c[0] == "ingest"] == [("ingest", turns, turns)]


@pytest.mark.parametrize("precision", ["bfloat16", "float32"])
def test_encoding_in_progress_slices_gives_the_vectors_of_one_call(precision):
    embedder = Embedder("all-MiniLM-L6-v2", 8, "cpu", precision=precision)
    texts = [("word " * (i % 13 + 1)) + f"number {i}" for i in range(8 * PROGRESS_BATCHES * 2 + 5)]
    seen: list[int] = []
    sliced = embedder.encode(texts, progress=lambda done, total: seen.append(done))
    whole = embedder.encode(texts)
    step = 8 * PROGRESS_BATCHES
    assert seen == [step, 2 * step, 2 * step + 5]
    # the same batches, so the same vectors, bit for bit (in bfloat16 a tie padded in another batch differed by 6e-4)
    assert np.array_equal(sliced, whole)


def test_an_import_refused_creates_no_store(tmp_path):
    """A damaged dump imported to a path with no store: exit 2 naming the line, and no empty store
    left behind (the store was created before the file was read)."""
    import gzip

    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(gzip.compress(b"not a dump\n"))
    missing = tmp_path / "restored"
    result = invoke("import", str(bad), "--store", str(missing))
    assert result.exit_code == 2 and "bad.jsonl.gz: line 1" in result.stderr
    assert not missing.exists()


def test_what_a_user_types_wrong_is_named_before_any_work(store, tmp_path):
    """Found by a bug hunt, each refused after the work or not at all before: `export -o FOLDER` (a
    traceback after the whole export), `eval --json`/`--rankings` to a folder or a missing one (a
    traceback after the whole run), `eval --strategy bogus` (checked after the ingest), `copy` of a
    mistyped namespace (exit 0, an empty target store made), a LongMemEval file with a repeated question
    id (the second haystack replaced the first's messages) or a date that is no date (stored undated)."""
    folder = tmp_path / "out"
    folder.mkdir()
    result = invoke("export", "--store", store, "-n", NAMESPACE, "-o", str(folder))
    assert result.exit_code == 2 and "is a folder" in result.stderr and "Traceback" not in result.output
    qa = tmp_path / "qa.json"
    qa.write_text(json.dumps([{"sample_id": "x", "qa": [], "conversation": {"speaker_a": "A", "speaker_b": "B",
                  "session_1_date_time": "1:56 pm on 8 May, 2023", "session_1": [{"speaker": "A", "dia_id": "D1:1", "text": "hi"}]}}]))
    for args, said in ((["--json", str(folder)], "is a folder"), (["--rankings", str(tmp_path / "none" / "r.jsonl")], "does not exist"),
                       (["--strategy", "bogus"], "unknown strategy 'bogus'")):
        result = invoke("eval", "locomo", str(qa), *args)
        assert result.exit_code == 2 and said in result.stderr, (args, result.output)
    result = invoke("copy", "--from", store, "--to", str(tmp_path / "copy"), "--namespace", "nope")
    assert result.exit_code == 2 and "no namespace 'nope'" in result.stderr and not (tmp_path / "copy").exists()
    haystack = {"question_id": "q1", "question_type": "single-session-user", "question": "Where?", "answer": "Lisbon",
                "haystack_session_ids": ["s1"], "haystack_dates": ["2023/05/20 (Sat) 02:21"],
                "haystack_sessions": [[{"role": "user", "content": "I moved to Lisbon."}]], "answer_session_ids": ["s1"]}
    for items, said in (([haystack, dict(haystack, haystack_sessions=[[{"role": "user", "content": "Porto."}]])],
                         "duplicate question id 'q1'"), ([dict(haystack, haystack_dates=["garbage"])], "'garbage' is not a date")):
        path = tmp_path / "lme.json"
        path.write_text(json.dumps(items))
        result = invoke("ingest", str(path), "--store", str(tmp_path / "lme"), "--format", "longmemeval")
        assert result.exit_code == 2 and said in result.stderr, result.output
    assert not (tmp_path / "lme").exists()


def test_search_context_as_json_and_the_short_conversation_option(store):
    """`search --context --json` printed the plain text block; `-c`, listed among the short forms, was
    no option of search, forget or show."""
    result = invoke("search", "tomatoes", "--store", store, "-n", NAMESPACE, "-c", "garden-chat", "--context", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["context"].startswith("Memories relevant to: tomatoes") and shown["hits"]
    assert {h["conversation_id"] for h in shown["hits"]} == {"garden-chat"}
    result = invoke("forget", "--store", store, "-n", NAMESPACE, "-c", "nothing-here", "-y")
    assert result.exit_code == 0 and "nothing matches" in result.output, result.output


def test_terminal_escape_sequences_in_a_memory_are_shown_not_obeyed(tmp_path):
    """A stored message holding ESC [31m reached the terminal raw from the messages and search tables
    (its colours, or its title, changed); control characters are shown as escapes now."""
    location = str(tmp_path / "store")
    assert invoke("add", "Look: \x1b[31mRED\x1b[0m and \x1b]0;pwned\x07", "-c", "esc", "--speaker", "Eve",
                  "--store", location).exit_code == 0
    for args in (["messages", "-c", "esc"], ["search", "RED", "-k", "1"], ["search", "RED", "-k", "1", "--context"],
                 ["search", "RED", "-k", "1", "--explain"], ["recall", "-c", "esc", "RED"]):  # (the last three printed it raw)
        result = invoke(*args, "--store", location)
        assert result.exit_code == 0 and "\x1b" not in result.stdout and "\\x1b[31mRED" in result.stdout, result.stdout
    shown = json.loads(invoke("messages", "-c", "esc", "--store", location, "--json").stdout)
    assert shown[0]["text"] == "Look: \x1b[31mRED\x1b[0m and \x1b]0;pwned\x07"  # stored verbatim, JSON carries it


def test_files_named_alike_are_refused_and_a_refused_file_is_named(tmp_path):
    """alice/chat.jsonl and bob/chat.jsonl in one ingest both took the key "chat": Bob's messages
    corrected Alice's by position, silently. A file refused once the store was read (exit 2) was
    not named, and the files stored before it were not mentioned."""
    location = str(tmp_path / "store")
    for who, text in (("alice", "Alice planted tulips."), ("bob", "Bob fixed the bike.")):
        (tmp_path / who).mkdir()
        (tmp_path / who / "chat.jsonl").write_text(json.dumps({"speaker": who, "text": text}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(tmp_path / "alice" / "chat.jsonl"), str(tmp_path / "bob" / "chat.jsonl"),
                                 "--store", location])
    assert result.exit_code == 2 and "take the key 'chat' from their names" in " ".join(result.stderr.split())
    assert not (tmp_path / "store").exists()
    (tmp_path / "first.jsonl").write_text(json.dumps({"speaker": "a", "text": "One.", "conversation": "c",
                                                     "timestamp": "2024-01-01T10:00:00"}) + "\n", encoding="utf-8")
    (tmp_path / "moved.jsonl").write_text(json.dumps({"speaker": "b", "text": "Inserted.", "conversation": "c",
                                                     "timestamp": "2024-01-01T09:00:00"}) + "\n", encoding="utf-8")
    assert invoke("ingest", str(tmp_path / "first.jsonl"), "--store", location).exit_code == 0
    (tmp_path / "new.jsonl").write_text(json.dumps({"speaker": "c", "text": "New chat."}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(tmp_path / "new.jsonl"), str(tmp_path / "moved.jsonl"), "--store", location])
    said = " ".join(result.stderr.split())
    assert result.exit_code == 2 and f"{tmp_path / 'moved.jsonl'}: " in said, said
    assert "stored before the error: " in said and "new.jsonl (1 turns added)" in said


def test_files_given_one_conversation_id_are_refused_and_a_correction_by_ingest_is_counted(tmp_path):
    """Two files ingested with one --conversation-id: the second's messages silently corrected the
    first's by position (or, with ids of their own, the second failed after the first was stored),
    and the table said only "turns_added 0" (the file's changed message corrected a stored one)."""
    location = str(tmp_path / "store")
    for who, text in (("alice", "My sister lives in Lisbon."), ("bob", "My sister lives in Oslo.")):
        (tmp_path / who).mkdir()
        (tmp_path / who / "chat.jsonl").write_text(json.dumps({"speaker": who, "text": text}) + "\n", encoding="utf-8")
    files = [str(tmp_path / "alice" / "chat.jsonl"), str(tmp_path / "bob" / "chat.jsonl")]
    result = runner.invoke(app, ["ingest", *files, "--conversation-id", "support", "--store", location])
    assert result.exit_code == 2 and "take the key 'support' from --conversation-id" in " ".join(result.stderr.split())
    assert not (tmp_path / "store").exists()
    assert invoke("ingest", files[0], "--conversation-id", "support", "--store", location).exit_code == 0
    result = invoke("ingest", files[1], "--conversation-id", "support", "--store", location)  # one at a time: a correction
    assert result.exit_code == 0 and re.search(r"turns_corrected\W+1\b", result.stdout), result.stdout


def test_forget_json_is_one_document_and_names_are_never_markup(tmp_path):
    """forget --json without --yes printed its preview table before the JSON (no JSON reader took it);
    a namespace or file name in brackets was read as rich markup ("[admin]" vanished, "a[/b]" raised)."""
    location = str(tmp_path / "store")
    assert invoke("add", "I sail on Sundays.", "-c", "c", "--store", location, "--namespace", "[admin]").exit_code == 0
    result = runner.invoke(app, ["forget", "-c", "c", "--store", location, "--namespace", "[admin]", "--json"], input="y\n")
    document = result.stdout[result.stdout.index("{"):]  # (the test runner echoes the typed answer to its stdout)
    assert result.exit_code == 0 and json.loads(document)["turns"] == 1, result.stdout
    assert "will forget" in result.stderr and "will forget" not in result.stdout
    assert invoke("add", "I sail on Sundays.", "-c", "c", "--store", location, "--namespace", "[admin]").exit_code == 0
    dump = tmp_path / "backup[v2].jsonl.gz"
    result = invoke("export", "--store", location, "--namespace", "[admin]", "-o", str(dump))
    shown = "".join(result.stdout.split())  # (the title wraps at the table's width, wherever the path falls)
    assert result.exit_code == 0 and "backup[v2].jsonl.gz" in shown and "[admin]" in result.stdout, result.stdout


def test_bad_input_to_add_or_timezone_makes_no_store(tmp_path):
    missing = tmp_path / "new"
    for args in (["add", "", "-c", "c"], ["add", "hi", "-c", "c", "--timestamp", "yesterday"], ["timezone", "Mars/Olympus"]):
        result = runner.invoke(app, [*args, "--store", str(missing)])
        assert result.exit_code == 2 and not missing.exists(), (args, result.output)
    result = runner.invoke(app, ["add", "-", "-c", "c", "--store", str(missing)], input='{"role": "user", "content": ""}\n')
    assert result.exit_code == 2 and not missing.exists(), result.output
    assert "<stdin>:1: content: empty" in result.output  # JSONL messages are named by their line
    result = runner.invoke(app, ["add", "-", "-c", "c", "--store", str(missing)],
                           input='{"role": "user", "content": "a", "id": "x"}\n\n{"role": "user", "content": "b", "id": "x"}\n')
    assert result.exit_code == 2 and "<stdin>:3: id: message id 'x' repeats the message of line 1" in result.output, result.output


def test_a_bad_argument_to_add_is_named_as_the_command_line_gives_it(tmp_path):
    """``graphmem add ""`` said "messages[0].text: empty", the Python API's words."""
    missing = tmp_path / "new"
    for args, said in ((["", "-c", "c"], "TEXT: empty"), (["hi", "-c", "c", "--speaker", " "], "--speaker: empty"),
                       (["hi", "-c", "c", "--meta", 'a={"x": 1}'], "--meta a: values must be scalars")):
        result = runner.invoke(app, ["add", *args, "--store", str(missing)])
        assert result.exit_code == 2 and said in result.output and "messages[" not in result.output, (args, result.output)
    assert not missing.exists()


def test_a_jvm_setting_it_cannot_start_with_is_one_line_naming_it(tmp_path):
    """A bad GRAPHMEM_JVM_OPTIONS or GRAPHMEM_JVM_HEAP ended in a Python traceback (a fresh process:
    the JVM starts once per process)."""
    import os
    import subprocess
    import sys

    location = str(tmp_path / "store")
    assert invoke("add", "I sail on Sundays.", "-c", "c", "--store", location).exit_code == 0
    for variable, value, said in (("GRAPHMEM_JVM_OPTIONS", "-Dx='a", "No closing quotation"),
                                  ("GRAPHMEM_JVM_HEAP", "lots", "a size such as 512m"),
                                  ("GRAPHMEM_JVM_HEAP", "1k", "at least 16m"),  # (the JVM ended the process: exit 1)
                                  ("GRAPHMEM_JVM_HEAP", "999999g", "at most four times")):
        done = subprocess.run([sys.executable, "-c", "from graphmem.cli import main; main()", "stats", "--store", location],
                              env={**os.environ, variable: value}, capture_output=True, text=True, timeout=300)
        assert done.returncode == 2 and said in done.stderr and variable in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1



def test_drop_asks_then_deletes_the_namespace_alone_and_finishes_a_stopped_drop(tmp_path):
    """A namespace could be deleted only from Python (Memory.drop_namespace), so a drop stopped part
    way, which every command but check refuses as damaged, could not be finished from the shell."""
    from graphmem.changes import bump_if_present, marker_id

    location = str(tmp_path / "store")
    for namespace in ("kept", "gone"):
        assert invoke("ingest", str(write_native(tmp_path)), "--store", location, "--namespace", namespace).exit_code == 0
    refused = runner.invoke(app, ["drop", "--store", location, "--namespace", "gone"], input="n\n")
    assert refused.exit_code == 1 and "nothing deleted" in refused.stderr and "Turn" in refused.stdout
    with Memory.open(location, "gone") as memory:  # a drop stopped after its first batch (a kill)
        memory.store.write([("tally/delete_namespace_batch", {"namespace": "gone", "marker": marker_id("gone"), "limit": 30}),
                            bump_if_present("gone")])
    assert invoke("check", "--store", location, "--namespace", "gone").exit_code == 1  # part of a namespace: damage
    dropped = invoke("drop", "--yes", "--store", location, "--namespace", "gone", "--json")
    assert dropped.exit_code == 0, dropped.output
    assert json.loads(dropped.stdout)["nodes_deleted"] > 0
    listed = json.loads(invoke("namespaces", "--store", location, "--json").stdout)
    assert [entry["namespace"] for entry in listed] == ["kept"] and listed[0]["labels"]["Turn"] == 10
    assert invoke("check", "--store", location, "--namespace", "kept").exit_code == 0
