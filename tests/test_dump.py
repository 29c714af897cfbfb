"""Moving a memory: export, import and copy between the embedded store and the real Bolt server.

The memory is built by ingest (two conversations) plus an earlier version of a corrected
turn, ``(TurnVersion)-[:VERSION_OF]->(Turn)``, written by hand. Round trips go through the
CLI in-process and are compared with ``stats --json``, ``check`` and hit-by-hit searches.
"""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import new_namespace, settings_for, write_conversation
from samples import write_native

from graphmem import Memory
from graphmem.cli import app
from graphmem.dump import DUMP_FORMAT, DumpReader, NODE_LABELS, RELATIONSHIPS
from graphmem.dump.format import DumpWriter, encode_line
from graphmem.dump.graph import node_query, relationship_query
from graphmem.errors import ConfigurationError, InputError, StorageError
from graphmem.resources import query_text, schema

runner = CliRunner()

QUERIES = ("What is the name of Maya's cat?", "kitchen renovation cabinets", "Who is the plumber?",
           "copper tape for slugs", "when did they adopt a pet")
SEARCHES = [("auto", "turn"), ("dense", "turn"), ("lexical", "turn"), ("activation", "turn"), ("expansion", "turn"),
            ("auto", "event"), ("auto", "episode"), ("auto", "session")]


def invoke(*args: str, code: int = 0):
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def bolt_args(server) -> list[str]:
    return ["--user", server.auth[0], "--password", server.auth[1], "--database", server.database]


def build_source(directory: Path, namespace: str, settings) -> None:
    """An embedded memory with two ingested conversations and one earlier turn version."""
    with Memory.open(directory, namespace, settings=settings) as memory:
        memory.ingest(write_conversation(directory.parent))
        memory.ingest(write_native(directory.parent))
        memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace AND t.source_id = 'D1:2' "
                      "SET t.version = 1 "  # as a correction leaves it: one earlier text, numbered 0
                      "CREATE (v:TurnVersion {id: $id, namespace: $namespace, turn_id: t.id, speaker: t.speaker, text: $text, version: 0, "
                      "replaced_at: '2024-05-05T09:00:00'})-[:VERSION_OF]->(t)",
                      {"id": f"turnversion:{'0' * 32}", "text": "Yes! My new cat is a grey tabby called Biscuit."}, write=True)


def hits_of(memory: Memory) -> list[list[tuple[str, float, str]]]:
    return [[(h.node_id, round(h.score, 6), h.strategy) for h in memory.search(q, k=8, unit=unit, strategy=strategy)]
            for q in QUERIES for strategy, unit in SEARCHES]


def stats_json(store: str, namespace: str, *extra: str) -> dict:
    data = json.loads(invoke("stats", "--store", store, "--namespace", namespace, "--json", *extra).stdout)
    data.pop("store")
    return data


def records(path: Path) -> list[dict]:
    return [record for _, record in DumpReader(path).records()]


def rewrite(path: Path, target: Path, edit) -> None:
    """Decompress ``path``, apply ``edit(lines) -> lines`` and compress to ``target``."""
    with gzip.open(path, "rb") as handle:
        lines = handle.read().splitlines(keepends=True)
    with gzip.open(target, "wb") as handle:
        handle.write(b"".join(edit(lines)))


@pytest.fixture(scope="module")
def source(tmp_path_factory, embedder):
    """(store directory, namespace, dump path) of the source memory, built once."""
    directory = tmp_path_factory.mktemp("dump-source")
    namespace = new_namespace("dump")
    build_source(directory / "store", namespace, settings_for(directory))
    dump = directory / "memory.jsonl.gz"
    with Memory.open(directory / "store", namespace, settings=settings_for(directory)) as memory:
        summary = memory.export(dump)
    assert summary.nodes > 40 and summary.counts["TurnVersion"] == 1 and summary.counts["rel:VERSION_OF"] == 1
    return directory / "store", namespace, dump


@pytest.fixture(autouse=True)
def _index_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHMEM_INDEX_DIR", str(tmp_path / "index"))


def drop_bolt(server, namespace: str, settings) -> None:
    with Memory.open(server.uri, namespace, settings=settings, auth=server.auth, database=server.database) as memory:
        memory.cypher("MATCH (n) WHERE n.namespace = $namespace DETACH DELETE n", write=True)


# ---------------------------------------------------------------------------- the allow-list
def test_every_allowed_label_and_relationship_has_its_statements():
    for label in NODE_LABELS:
        for action in ("read_nodes", "read_out", "merge_node", "count_all"):
            assert f"(n:{label}" in query_text(node_query(action, label)) or f"(a:{label}" in query_text(node_query(action, label))
    for rel_type, pairs in RELATIONSHIPS.items():
        for start, end in pairs:
            text = query_text(relationship_query(rel_type, start, end))
            assert f"(a:{start} " in text and f"(b:{end} " in text and f"[r:{rel_type}" in text
    with pytest.raises(KeyError):
        node_query("read_nodes", "Foo) DETACH DELETE (n")
    with pytest.raises(KeyError):
        relationship_query("NEXT", "Turn", "Episode")


# ---------------------------------------------------------------------------- round trips
@pytest.mark.bolt
def test_round_trip_embedded_to_bolt_to_embedded(source, bolt_server, tmp_path):
    store, namespace, dump = source
    settings = settings_for(tmp_path)
    bolt = bolt_args(bolt_server)
    try:
        # embedded -> Bolt through the CLI
        exported = json.loads(invoke("export", "--store", store, "--namespace", namespace, "-o", tmp_path / "d1.jsonl.gz", "--json").stdout)
        assert exported["nodes"] == sum(v for k, v in exported["counts"].items() if not k.startswith("rel:"))
        assert records(tmp_path / "d1.jsonl.gz") == records(dump)  # a memory's dump is the same every time
        imported = json.loads(invoke("import", tmp_path / "d1.jsonl.gz", "--store", bolt_server.uri, *bolt, "--json").stdout)
        assert (imported["nodes"], imported["relationships"]) == (exported["nodes"], exported["relationships"])
        expected = stats_json(str(store), namespace)
        assert stats_json(bolt_server.uri, namespace, *bolt) == expected
        invoke("check", "--store", bolt_server.uri, "--namespace", namespace, *bolt)
        with Memory.open(store, namespace, settings=settings) as original:
            expected_hits = hits_of(original)
        assert sum(map(len, expected_hits)) > 200
        with Memory.open(bolt_server.uri, namespace, settings=settings, auth=bolt_server.auth, database=bolt_server.database) as moved:
            assert hits_of(moved) == expected_hits
            versions = moved.cypher("MATCH (v:TurnVersion)-[:VERSION_OF]->(t:Turn) WHERE v.namespace = $namespace "
                                    "RETURN v.text AS old, t.text AS new, t.source_id AS source")
        assert versions == [{"old": "Yes! My new cat is a grey tabby called Biscuit.",
                             "new": "Yes! My new cat is a ginger tabby called Biscuit.", "source": "D1:2"}]

        # Bolt -> a fresh embedded store
        invoke("export", "--store", bolt_server.uri, *bolt, "--namespace", namespace, "-o", tmp_path / "d2.jsonl.gz")
        assert records(tmp_path / "d2.jsonl.gz") == records(dump)  # every property survived, vectors bit for bit
        fresh = tmp_path / "fresh"
        invoke("import", tmp_path / "d2.jsonl.gz", "--store", fresh)
        assert stats_json(str(fresh), namespace) == expected
        invoke("check", "--store", fresh, "--namespace", namespace)
        with Memory.open(fresh, namespace, settings=settings) as back:
            assert hits_of(back) == expected_hits
    finally:
        drop_bolt(bolt_server, namespace, settings)


@pytest.mark.bolt
def test_copy_without_a_file_both_ways(source, bolt_server, tmp_path):
    store, namespace, _ = source
    settings = settings_for(tmp_path)
    bolt = bolt_args(bolt_server)
    renamed = new_namespace("copied")
    try:
        copied = json.loads(invoke("copy", "--from", store, "--to", bolt_server.uri, "--namespace", namespace,
                                   "--to-namespace", renamed, "--to-user", bolt_server.auth[0], "--to-password",
                                   bolt_server.auth[1], "--to-database", bolt_server.database, "--json").stdout)
        assert copied["namespaces"] == [renamed]
        expected = stats_json(str(store), namespace)
        assert stats_json(bolt_server.uri, renamed, *bolt) == dict(expected, namespace=renamed)
        invoke("check", "--store", bolt_server.uri, "--namespace", renamed, *bolt)
        back = tmp_path / "back"
        invoke("copy", "--from", bolt_server.uri, "--from-user", bolt_server.auth[0], "--from-password", bolt_server.auth[1],
               "--from-database", bolt_server.database, "--namespace", renamed, "--to", back)
        assert stats_json(str(back), renamed) == dict(expected, namespace=renamed)
        with Memory.open(store, namespace, settings=settings) as original, Memory.open(back, renamed, settings=settings) as copy:
            for query in QUERIES:
                assert [h.text for h in copy.search(query, k=5)] == [h.text for h in original.search(query, k=5)]
    finally:
        drop_bolt(bolt_server, renamed, settings)


@pytest.mark.bolt
def test_importing_twice_changes_nothing(source, bolt_server, tmp_path):
    _, namespace, dump = source
    settings = settings_for(tmp_path)
    bolt = bolt_args(bolt_server)
    try:
        invoke("import", dump, "--store", bolt_server.uri, *bolt)
        once = stats_json(bolt_server.uri, namespace, *bolt)
        invoke("export", "--store", bolt_server.uri, *bolt, "--namespace", namespace, "-o", tmp_path / "once.jsonl.gz")
        invoke("import", dump, "--store", bolt_server.uri, *bolt)
        assert stats_json(bolt_server.uri, namespace, *bolt) == once
        invoke("export", "--store", bolt_server.uri, *bolt, "--namespace", namespace, "-o", tmp_path / "twice.jsonl.gz")
        assert records(tmp_path / "twice.jsonl.gz") == records(tmp_path / "once.jsonl.gz") == records(dump)
    finally:
        drop_bolt(bolt_server, namespace, settings)


def test_namespace_rename_beside_the_original(source, tmp_path):
    store, namespace, dump = source
    target = tmp_path / "copy"
    invoke("import", dump, "--store", target)
    invoke("import", dump, "--store", target, "--namespace", namespace)  # its own name: the same as no rename
    invoke("import", dump, "--store", target, "--namespace", "renamed")
    invoke("import", dump, "--store", target, "--namespace", "renamed")  # twice: still nothing new
    expected = stats_json(str(store), namespace)
    assert stats_json(str(target), namespace) == expected
    assert stats_json(str(target), "renamed") == dict(expected, namespace="renamed")
    invoke("check", "--store", target, "--namespace", "renamed")
    settings = settings_for(tmp_path)
    with Memory.open(target, "renamed", settings=settings) as renamed, Memory.open(target, namespace, settings=settings) as kept:
        for query in QUERIES:
            assert [h.text for h in renamed.search(query, k=5)] == [h.text for h in kept.search(query, k=5)]
        ids = {r["id"] for r in renamed.cypher("MATCH (n) WHERE n.namespace = $namespace RETURN n.id AS id")}
        kept_ids = {r["id"] for r in kept.cypher("MATCH (n) WHERE n.namespace = $namespace RETURN n.id AS id")}
        assert ids and not ids & kept_ids
        events = renamed.cypher("MATCH (e:Event)-[:FROM]->(t:Turn) WHERE e.namespace = $namespace "
                                "RETURN count(*) AS n, sum(CASE WHEN e.turn_id = t.id THEN 1 ELSE 0 END) AS same")
        assert events[0]["n"] == events[0]["same"] > 0  # id references in properties follow the rename
        # the renamed namespace holds the ids ingestion gives there: the same sources add nothing
        for path in (write_conversation(tmp_path), write_native(tmp_path)):
            assert renamed.ingest(path).turns_added == 0
    assert stats_json(str(target), "renamed") == dict(expected, namespace="renamed")
    result = invoke("import", tmp_path / "nope.jsonl.gz", "--store", target, code=2)
    assert "nope.jsonl.gz: cannot read" in result.output

    # every namespace at once; a rename needs a dump of one namespace
    both = tmp_path / "both.jsonl.gz"
    summary = json.loads(invoke("export", "--store", target, "--all-namespaces", "-o", both, "--json").stdout)
    assert summary["namespaces"] == sorted([namespace, "renamed"])
    result = invoke("import", both, "--store", tmp_path / "all", "--namespace", "x", code=2)
    assert "holds 2 namespaces" in result.output
    assert not (tmp_path / "all").exists()  # refused before a store was made there (an empty one was left)
    invoke("import", both, "--store", tmp_path / "all")
    assert stats_json(str(tmp_path / "all"), namespace) == expected
    assert stats_json(str(tmp_path / "all"), "renamed") == dict(expected, namespace="renamed")


# ---------------------------------------------------------------------------- damaged dumps
def _edit_turn_text(lines: list[bytes]) -> list[bytes]:
    index = next(i for i, line in enumerate(lines) if b'"label":"Turn"' in line)
    lines[index] = lines[index].replace(b"tabby", b"tubby", 1) if b"tabby" in lines[index] else lines[index].replace(b"a", b"o", 1)
    return lines


def _edit_and_fix_crc(lines: list[bytes]) -> list[bytes]:
    index = next(i for i, line in enumerate(lines) if b'"label":"Turn"' in line)
    record = json.loads(lines[index])
    record.pop("crc32")
    record["props"]["text"] = "I never said that."
    lines[index] = encode_line(record)
    return lines


DAMAGES = {
    "truncated inside the data": (None, "the file is truncated"),
    "trailer cut off": (lambda lines: lines[:-1], "no trailer after line"),
    "edited line": (_edit_turn_text, "does not match its crc32"),
    "edited line with its crc recomputed": (_edit_and_fix_crc, "checksum does not match"),
    "line removed": (lambda lines: lines[:5] + lines[6:], "checksum does not match"),
    "unknown label": (lambda lines: [*lines[:3], encode_line({"record": "node", "label": "Foo", "id": "x", "props": {}}), *lines[3:]],
                      "node label 'Foo' is not one a dump may hold"),
    "not a dump": (lambda lines: [b"hello\n"], "not a graphmem dump"),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damaged_dumps_are_refused_naming_the_line_and_store_nothing(source, tmp_path, damage):
    _, namespace, dump = source
    edit, message = DAMAGES[damage]
    damaged = tmp_path / "damaged.jsonl.gz"
    if edit is None:
        data = dump.read_bytes()
        damaged.write_bytes(data[: len(data) // 2])
    else:
        rewrite(dump, damaged, edit)
    target = tmp_path / "target"
    result = invoke("import", damaged, "--store", target, code=2)
    output = " ".join(result.output.split())
    assert message in output and f"{damaged.name}: line " in output
    with Memory.open(target, namespace, settings=settings_for(tmp_path)) as memory:
        assert memory.cypher("MATCH (n) RETURN count(n) AS n") == [{"n": 0}]
    with pytest.raises(InputError, match=r"line \d+: "):
        DumpReader(damaged).validate()


def test_edited_line_is_named(source, tmp_path):
    _, _, dump = source
    damaged = tmp_path / "edited.jsonl.gz"
    rewrite(dump, damaged, _edit_turn_text)
    with gzip.open(dump, "rb") as handle:
        number = next(i for i, line in enumerate(handle, 1) if b'"label":"Turn"' in line)
    with pytest.raises(InputError) as caught:
        DumpReader(damaged).validate()
    assert str(caught.value).startswith(f"{damaged}: line {number}: ")


# ---------------------------------------------------------------------------- embedding model
def _with_model(dump: Path, target: Path, model: str) -> None:
    reader = DumpReader(dump)
    rows = [record for _, record in reader.records()]
    header = {k: v for k, v in reader.header.items() if k != "record"}
    with DumpWriter(target, dict(header, embedding_model=model)) as writer:
        for record in rows:
            writer.write(record)


def test_another_model_is_refused_unless_reembedded(source, tmp_path):
    store, namespace, dump = source
    other = tmp_path / "other-model.jsonl.gz"
    _with_model(dump, other, "some-other-model")
    target = tmp_path / "target"
    result = invoke("import", other, "--store", target, code=2)
    output = " ".join(result.output.split())
    assert "was embedded with 'some-other-model' (384 dimensions) but this memory uses 'all-MiniLM-L6-v2'" in output
    assert "--reembed" in output
    assert not target.exists()  # refused before a store was made there (one was left behind)
    settings = settings_for(tmp_path)
    with Memory.open(target, namespace, settings=settings) as memory:
        assert memory.cypher("MATCH (n) RETURN count(n) AS n") == [{"n": 0}]
        with pytest.raises(ConfigurationError, match="some-other-model"):
            memory.import_dump(other)
        summary = memory.import_dump(other, reembed=True)
        assert summary.reembedded and summary.counts["Turn"] == 20
        assert memory.check().ok
        stored = {r["id"]: np.asarray(r["embedding"]) for r in memory.cypher(
            "MATCH (n) WHERE n.namespace = $namespace AND n.embedding IS NOT NULL RETURN n.id AS id, n.embedding AS embedding")}
        with Memory.open(store, namespace, settings=settings) as original:
            first = {r["id"]: np.asarray(r["embedding"]) for r in original.cypher(
                "MATCH (n) WHERE n.namespace = $namespace AND n.embedding IS NOT NULL RETURN n.id AS id, n.embedding AS embedding")}
            expected = [[h.text for h in original.search(q, k=3, strategy="dense")] for q in QUERIES]
        assert stored.keys() == first.keys()  # same model really: the recomputed vectors are the ingested ones
        assert min(float(stored[k] @ first[k]) for k in stored) > 0.999
        assert [[h.text for h in memory.search(q, k=3, strategy="dense")] for q in QUERIES] == expected


def test_a_dump_whose_header_says_no_dimension_may_hold_no_vectors(source, tmp_path):
    """The model check reads the header's dimension (null: a dump of no vectors): a dump whose header
    says null but holds another model's vectors imported them unchecked, searchable with nothing."""
    _, _, dump = source
    reader = DumpReader(dump)
    rows = [record for _, record in reader.records()]
    header = {k: v for k, v in reader.header.items() if k != "record"}
    unsized = tmp_path / "unsized.jsonl.gz"
    with DumpWriter(unsized, dict(header, embedding_model="some-other-model", embedding_dimension=None)) as writer:
        for record in rows:
            writer.write(record)
    with pytest.raises(InputError, match=r"line \d+: property 'embedding': the header says the dump holds no embeddings"):
        DumpReader(unsized).validate()
    result = invoke("import", unsized, "--store", tmp_path / "target", code=2)
    assert "holds no embeddings" in " ".join(result.output.split())


def test_export_refuses_a_label_it_cannot_carry(tmp_path):
    settings = settings_for(tmp_path)
    with Memory.open(tmp_path / "store", "odd", settings=settings) as memory:
        memory.ingest(write_conversation(tmp_path))
        memory.cypher("CREATE (:Scratch {id: 'scratch:1', namespace: $namespace})", write=True)
        with pytest.raises(StorageError, match="labelled 'Scratch', which a dump cannot carry"):
            memory.export(tmp_path / "odd.jsonl.gz")
    assert not list(tmp_path.glob("*odd.jsonl.gz*"))


def test_dump_layout(source):
    _, namespace, dump = source
    with gzip.open(dump, "rb") as handle:
        lines = handle.read().splitlines()
    header, trailer = json.loads(lines[0]), json.loads(lines[-1])
    assert header["format"] == DUMP_FORMAT and header["namespaces"] == [namespace]
    assert header["embedding_model"] == "all-MiniLM-L6-v2" and header["embedding_dimension"] == 384
    assert trailer["record"] == "trailer" and trailer["lines"] == len(lines) - 1
    assert trailer["nodes"] + trailer["relationships"] == len(lines) - 2
    for line in lines:
        head = line[: line.rindex(b',"crc32":"')]
        assert json.loads(line)["crc32"] == f"{zlib.crc32(head):08x}"
    kinds = [json.loads(line)["record"] for line in lines[1:-1]]
    assert kinds == sorted(kinds, key=lambda k: k != "node")  # nodes first, then relationships
    validator = jsonschema.Draft202012Validator(schema("dump.schema.json"))
    for line in lines:
        validator.validate(json.loads(line))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"record": "node", "label": "Foo", "id": "x", "props": {"namespace": "n"}, "crc32": "00000000"})


def test_id_windows_cover_every_id_once():
    from graphmem.dump.reading import ID_CEILING, id_windows

    assert id_windows("Turn", 300) == [("", ID_CEILING)]
    windows = id_windows("Turn", 100_000)
    assert len(windows) == 256 and windows[0][0] == "" and windows[-1][1] == ID_CEILING
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:]))  # contiguous (after, high] ranges
    ids = [f"turn:{i:032x}" for i in range(0, 2**128, 2**120 + 12345)] + ["turn:", "weird id", "turn:zz", "Turn:00"]
    for node in ids:
        assert sum(after < node <= high for after, high in windows) == 1, node


def _forged(dump: Path, target: Path, change) -> Path:
    """``dump`` with ``change(header, records)`` applied, written with valid checksums (as another tool
    or a hand edit signed again would write it)."""
    reader = DumpReader(dump)
    rows = [record for _, record in reader.records()]
    header = {k: v for k, v in reader.header.items() if k != "record"}
    header, rows = change(header, rows)
    with DumpWriter(target, header) as writer:
        for record in rows:
            writer.write(record)
    return target


def test_a_signed_dump_that_would_move_break_or_strand_nodes_is_refused_whole(source, tmp_path):
    """The checksums only catch damage: a dump written anew with valid ones could move another
    namespace's nodes into its own (its merge on ids took every node of that namespace), replace a
    node's id with a props key, fail with numpy's buffer error mid-import after the check, or import a
    namespace graphmem cannot open (300 characters). Each is refused naming the line; nothing is stored."""
    store, namespace, dump = source

    def moved(header, rows):  # the same ids, put in another namespace
        return dict(header, namespaces=["thief"]), [dict(r, props=dict(r["props"], namespace="thief")) if r.get("record") == "node"
                                                    else r for r in rows]

    def with_id(header, rows):
        first = next(i for i, r in enumerate(rows) if r.get("record") == "node")
        rows[first] = dict(rows[first], props=dict(rows[first]["props"], id="conversation:" + "1" * 32))
        return header, rows

    def bad_vector(header, rows):
        at = next(i for i, r in enumerate(rows) if r.get("record") == "node" and isinstance(r["props"].get("embedding"), dict))
        vector = dict(rows[at]["props"]["embedding"], base64="AAAAAAA=")  # 5 bytes: no whole float32
        rows[at] = dict(rows[at], props=dict(rows[at]["props"], embedding=vector))
        return header, rows

    def long_name(header, rows):
        name = "n" * 300
        return dict(header, namespaces=[name]), [dict(r, props=dict(r["props"], namespace=name)) if r.get("record") == "node"
                                                 else r for r in rows]

    with Memory.open(store, namespace, settings=settings_for(tmp_path)) as memory:
        before = memory.stats()["nodes"]
    for change, said in ((moved, "is stored in namespace"), (with_id, "must not hold 'id'"),
                         (bad_vector, "no whole number of float32 values"), (long_name, "namespace longer than 256")):
        forged = _forged(dump, tmp_path / f"{change.__name__}.jsonl.gz", change)
        result = invoke("import", forged, "--store", store, code=2)
        assert said in " ".join(result.output.split()), (change.__name__, result.output)
    with Memory.open(store, namespace, settings=settings_for(tmp_path)) as memory:
        assert memory.stats()["nodes"] == before and memory.check().ok
        assert memory.cypher("MATCH (n) WHERE n.namespace = 'thief' RETURN count(n) AS n") == [{"n": 0}]


# ---------------------------------------------------------------------------- renaming keeps user data
def test_a_rename_keeps_user_values_that_look_like_ids(tmp_path, embedder):
    """Renaming on import or copy renamed every ``*_id`` property whose value looked like an id
    (``word:<32 hex>``): the conversation key on every turn, session, episode and event, the user's
    message id (``source_id``) and metadata (``meta_user_id``). search(conversation=KEY) then found
    nothing, and the next add to the conversation broke the memory (check: next_against_sequence).
    Only graphmem's own references (an event's turn_id) follow the rename."""
    settings = settings_for(tmp_path)
    hexes = "5d41402abc4b2a76b9719d911017c592"
    key = f"chat:{hexes}"
    messages = [{"role": "user", "content": "I adopted a beagle called Pepper.", "id": f"msg:{hexes}",
                 "timestamp": "2024-03-16T19:30:00", "metadata": {"user_id": f"user:{hexes}"}},
                {"role": "assistant", "content": "Nice! How old is Pepper?", "id": "m2", "timestamp": "2024-03-16T19:31:00"}]
    dump = tmp_path / "alice.jsonl.gz"
    with Memory.open(tmp_path / "store", "alice", settings=settings) as alice:
        alice.add(messages, conversation=key)
        alice.export(dump)
        expected = [(m["source_id"], m["metadata"]) for m in alice.messages(key)]
        with Memory.open(tmp_path / "store", "carol", settings=settings) as carol:
            alice.copy_to(carol, namespace="carol")
    assert expected[0] == (f"msg:{hexes}", {"user_id": f"user:{hexes}"})
    with Memory.open(tmp_path / "store", "bob", settings=settings) as bob:
        bob.import_dump(dump, namespace="bob")
    for name in ("bob", "carol"):
        with Memory.open(tmp_path / "store", name, settings=settings) as renamed:
            assert [(m["source_id"], m["metadata"]) for m in renamed.messages(key)] == expected, name
            keys = renamed.cypher("MATCH (n) WHERE n.namespace = $namespace AND n.conversation_id IS NOT NULL "
                                  "RETURN DISTINCT n.conversation_id AS key")
            assert keys == [{"key": key}], name
            assert len(renamed.search("beagle", k=3, conversation=key)) == 2, name
            events = renamed.cypher("MATCH (e:Event)-[:FROM]->(t:Turn) WHERE e.namespace = $namespace "
                                    "RETURN count(*) AS n, sum(CASE WHEN e.turn_id = t.id THEN 1 ELSE 0 END) AS same")
            assert events[0]["n"] == events[0]["same"] > 0, name  # graphmem's references still follow
            renamed.add({"role": "user", "content": "Ten weeks old.", "id": "m3", "timestamp": "2024-03-16T19:32:00"},
                        conversation=key)
            assert renamed.check().problems == {}, name


# ---------------------------------------------------------------------------- another conversation in the way
def test_a_conversation_at_the_same_positions_is_refused_before_anything_is_written(tmp_path, embedder):
    """Importing (or copying) a conversation into a namespace that holds another conversation under
    the same key (other turns at the same positions) failed on the store's unique Turn.slot with a raw
    DuplicatedKeyException after earlier batches had committed: dump nodes without their relationships,
    and every retry failed at the same place. It is refused first, naming the line and the conversation."""
    settings = settings_for(tmp_path)
    messages = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"Message {i}: Pepper the beagle learned trick {i}.",
                 "id": f"m{i}", "timestamp": f"2024-03-16T10:{i:02d}:00"} for i in range(12)]
    dump = tmp_path / "backup.jsonl.gz"
    with Memory.open(tmp_path / "a", "alice", settings=settings) as alice:
        alice.add(messages, conversation="chat-42")
        alice.export(dump)
        with Memory.open(tmp_path / "b", "alice", settings=settings.with_(write_batch_size=4)) as other:
            other.add({"role": "user", "content": "Hello from a new phone.", "id": "x1", "timestamp": "2024-05-01T10:00:00"},
                      conversation="chat-42")
            before = other.cypher("MATCH (n) WHERE n.namespace = $namespace RETURN n.id AS id, properties(n) AS p ORDER BY id")
            for attempt in range(2):  # the same answer every time, and nothing written
                with pytest.raises(InputError, match=r"backup\.jsonl\.gz: line \d+: turn turn:\w+ of conversation 'chat-42' "
                                                     r"\(position 1000000\) takes the place of another turn"):
                    other.import_dump(dump)
                with pytest.raises(InputError, match=r"copy of alice: namespace 'alice': turn turn:\w+ of conversation 'chat-42'"):
                    alice.copy_to(other)
                after = other.cypher("MATCH (n) WHERE n.namespace = $namespace RETURN n.id AS id, properties(n) AS p ORDER BY id")
                assert after == before and other.check().ok
            assert other.import_dump(dump, namespace="bob").counts["Turn"] == 12  # a namespace of its own takes it
        alice.import_dump(dump)  # and the namespace it came from (the same turns at the same places)
        alice.copy_to(alice)
        assert alice.check().ok


# ---------------------------------------------------------------------------- a write during the export
def test_an_export_across_a_write_is_refused(tmp_path, embedder):
    """A correction made while the export read the namespace (by another process on the same store:
    a server, an agent) gave a dump with the turn's old text, no TurnVersion, and the new text's
    events, and the export reported success (no label's count changed). The namespace's change
    marker is read before and after: it moved, so the export is refused and no file is written."""
    settings = settings_for(tmp_path).with_(write_batch_size=5)  # pages of 5 nodes
    dump = tmp_path / "alice.jsonl.gz"
    with Memory.open(tmp_path / "store", "alice", settings=settings) as alice:
        alice.add([{"role": "user", "content": f"Message {i}: Pepper the beagle learned trick {i}.", "id": f"m{i}",
                    "timestamp": f"2024-03-16T10:{i:02d}:00"} for i in range(6)], conversation="chat")
        turn = alice.messages("chat")[2]["turn_id"]
        nodes = alice.stats()["nodes"]
        upto = nodes["Conversation"] + nodes["Session"] + nodes["Turn"]
        fired = []

        def progress(stage, done, total):
            if done >= upto and not fired:  # the turns are read, their events not yet
                fired.append(stage)
                with Memory.attach(alice._store, "alice", settings) as writer:
                    writer.correct(turn, "Message 2: Pepper the beagle learned to roll over.")

        with pytest.raises(StorageError, match="'alice' was written to during the export"):
            alice.export(dump, progress=progress)
        assert fired and not dump.exists() and not list(tmp_path.glob("*.jsonl.gz*"))
        alice.export(dump)  # nothing writes now: the same export succeeds
    with Memory.open(tmp_path / "restored", "alice", settings=settings) as restored:
        restored.import_dump(dump)
        assert restored.messages("chat")[2]["text"] == "Message 2: Pepper the beagle learned to roll over."
        assert len(restored.history(turn)) == 2 and restored.check().ok


def test_a_damaged_change_marker_does_not_stop_the_export_that_rescues_the_memory(tmp_path, embedder):
    """The export's before-and-after reading of the change marker checked its version: a version that
    is no whole number (damage check names; search fails on it) made export fail too, the way out."""
    settings = settings_for(tmp_path)
    dump = tmp_path / "a.jsonl.gz"
    with Memory.open(tmp_path / "store", "a", settings=settings) as memory:
        memory.add([{"speaker": "Alice", "text": "I adopted a cat named Miso."}], conversation="c")
        memory.cypher("MATCH (m:ChangeMarker) WHERE m.namespace = $namespace SET m.version = 'seven'", write=True)
        assert "change_markers_with_malformed_version" in memory.check().problems
        memory.export(dump)
    with Memory.open(tmp_path / "restored", "a", settings=settings) as restored:
        restored.import_dump(dump)
        assert [m["text"] for m in restored.messages("c")] == ["I adopted a cat named Miso."] and restored.check().ok


# ---------------------------------------------------------------------------- merging two fitted memories
THEMES = ["Pepper the beagle chewed {}.", "The kitchen renovation needs {}.", "We hiked up {} on Saturday.",
          "I practiced {} on the piano."]
THINGS = ["the red slipper", "white cabinets", "Mount Tam", "a Chopin nocturne", "a sore paw", "the leaking pipe",
          "Lake Ediza", "a jazz tune"]


def _fill(memory: Memory, conversation: str, n: int = 40) -> None:
    messages = [{"role": "user" if i % 2 == 0 else "assistant", "id": f"{conversation}-{i}",
                 "content": THEMES[(i // 4) % 4].format(THINGS[(i * 3) % 8]) + f" ({conversation} {i})",
                 "timestamp": f"2024-05-{1 + i // 10:02d}T{8 + i % 10:02d}:00:00"} for i in range(n)]
    for i in range(0, n, 5):
        memory.add(messages[i:i + 5], conversation=conversation)


def _topic_models(memory: Memory) -> dict[str, int]:
    return {r["g"]: r["models"] for r in memory.cypher(
        "MATCH (t:Topic) WHERE t.namespace = $namespace AND t.model_state IS NOT NULL RETURN t.granularity AS g, "
        "count(*) AS models")}


def test_importing_into_a_namespace_with_its_own_topics_leaves_one_model_per_granularity(tmp_path, embedder):
    """Importing a dump into a namespace that had fitted topics of its own (restoring a backup into a
    live namespace, merging two memories) left two topic models per granularity, two topics at each
    index (check: topics_off_their_granularity), until enough later adds refitted them. The import
    refits the namespace's topics on all its units when it leaves two models; importing the same dump
    again leaves the topics as they are."""
    settings = settings_for(tmp_path)
    dump = tmp_path / "work.jsonl.gz"
    with Memory.open(tmp_path / "old", "alice", settings=settings) as old:
        _fill(old, "work-chat")
        old.export(dump)
    with Memory.open(tmp_path / "live", "alice", settings=settings) as live:
        _fill(live, "home-chat")
        assert live.check().ok and set(_topic_models(live).values()) == {1}
        live.import_dump(dump)
        models = _topic_models(live)
        assert models and set(models.values()) == {1}, models
        assert live.check().problems == {}
        units = live.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace AND NOT (t)-[:IN_TOPIC]->() RETURN count(t) AS n")
        assert units == [{"n": 0}]  # every turn, the imported ones and its own, is in the refitted model
        live.import_dump(dump)  # the dump's topics again: merged beside the refitted ones, refitted again
        assert set(_topic_models(live).values()) == {1} and live.check().ok
    with Memory.open(tmp_path / "fresh", "alice", settings=settings) as fresh:
        fresh.import_dump(dump)
        first = fresh.cypher("MATCH (t:Topic) WHERE t.namespace = $namespace RETURN t.id AS id ORDER BY id")
        fresh.import_dump(dump)  # the same dump into the namespace it made: nothing to refit
        assert fresh.cypher("MATCH (t:Topic) WHERE t.namespace = $namespace RETURN t.id AS id ORDER BY id") == first


# ---------------------------------------------------------------------------- re-embedding a session
def test_reembedding_sets_a_sessions_scale_and_count_from_its_new_turns(tmp_path, embedder):
    """``--reembed`` recomputed a session's vector as the mean of its re-embedded turns but kept the
    old model's ``embedding_scale`` (the mean's length before normalising), from which the next live
    add rebuilds the running sum: the session then was not the mean of its turns (check:
    sessions_not_the_mean_of_their_turns), drifting further with every add."""
    settings = settings_for(tmp_path)
    real = tmp_path / "real.jsonl.gz"
    with Memory.open(tmp_path / "old", "alice", settings=settings) as old:
        old.add([{"role": "user" if i % 2 == 0 else "assistant", "content": f"Message {i}: Pepper the beagle learned trick {i}.",
                  "id": f"m{i}", "timestamp": f"2024-03-16T10:{i:02d}:00"} for i in range(6)], conversation="chat")
        old.export(real)

    def old_model(header, rows):  # as another model stored it: its own lengths and counts
        rows = [dict(r, props=dict(r["props"], embedding_scale=0.123, turn_count=2))
                if r.get("record") == "node" and r["label"] == "Session" else r for r in rows]
        return dict(header, embedding_model="old-model"), rows

    dump = _forged(real, tmp_path / "old-model.jsonl.gz", old_model)
    with Memory.open(tmp_path / "new", "alice", settings=settings) as memory:
        memory.import_dump(dump, reembed=True)
        turns = memory.cypher("MATCH (t:Turn)-[:IN]->(s:Session) WHERE t.namespace = $namespace "
                              "RETURN t.embedding AS embedding")
        session = memory.cypher("MATCH (s:Session) WHERE s.namespace = $namespace "
                                "RETURN s.embedding_scale AS scale, s.turn_count AS n")
        raw = np.asarray([r["embedding"] for r in turns], dtype=np.float32).mean(axis=0)
        assert session[0]["n"] == len(turns) == 6
        assert session[0]["scale"] == pytest.approx(float(np.linalg.norm(raw)), rel=1e-5)
        memory.add({"role": "user", "content": "Message 6: Pepper slept all afternoon.", "id": "m6",
                    "timestamp": "2024-03-16T10:06:00"}, conversation="chat")
        assert memory.check().problems == {}


# ---------------------------------------------------------------------------- renaming a corrected turn
def test_a_rename_and_back_gives_a_corrected_turn_its_id_again(tmp_path, embedder):
    """A corrected turn's id is the recipe of its first text, which renaming did not find (its props
    hold the corrected text): it got a hash of the new name, so moving a namespace under another name
    and back gave corrected messages new ids (an app's kept turn id was dead for correct, forget and
    history), and copying the archive back over the unchanged original collided on the turn's
    position. The first text is read from its version-0 TurnVersion."""
    settings = settings_for(tmp_path)

    def turn_ids(memory: Memory) -> list[str]:
        return [r["id"] for r in memory.cypher("MATCH (n) WHERE n.namespace = $namespace AND (n:Turn OR n:TurnVersion "
                                               "OR n:Event) RETURN n.id AS id ORDER BY id")]

    with Memory.open(tmp_path / "store", "alice", settings=settings) as alice:
        alice.add([{"role": "user", "content": "I adopted a beagle called Pepper.", "id": "m1", "timestamp": "2024-03-16T19:30:00"},
                   {"role": "assistant", "content": "How old is Pepper?", "id": "m2", "timestamp": "2024-03-16T19:31:00"}],
                  conversation="chat")
        kept = alice.messages("chat")[0]["turn_id"]
        alice.correct(kept, "I adopted a beagle called Pepper yesterday.")
        before = turn_ids(alice)
        with Memory.attach(alice._store, "archive", settings) as archive:
            alice.copy_to(archive, namespace="archive")
            assert archive.messages("chat")[0]["turn_id"] != kept
            archive.copy_to(alice, namespace="alice")  # over the unchanged original: the same nodes
            assert turn_ids(alice) == before and alice.check().ok
            archive.export(tmp_path / "archive.jsonl.gz")
        alice.import_dump(tmp_path / "archive.jsonl.gz", namespace="alice")  # from a file, the same
        assert turn_ids(alice) == before and alice.check().ok
        alice.drop_namespace()
    for how in ("copy", "import"):
        with Memory.open(tmp_path / "store", "alice", settings=settings) as alice:
            alice.drop_namespace()
            if how == "copy":
                with Memory.attach(alice._store, "archive", settings) as archive:
                    archive.copy_to(alice, namespace="alice")
            else:
                alice.import_dump(tmp_path / "archive.jsonl.gz", namespace="alice")
            assert turn_ids(alice) == before, how
            assert [v["text"] for v in alice.history(kept)] == ["I adopted a beagle called Pepper.",
                                                              "I adopted a beagle called Pepper yesterday."], how
            assert alice.check().ok, how
