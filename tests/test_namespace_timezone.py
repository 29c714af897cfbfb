"""A time zone stored with a namespace (``Memory.set_timezone``): one memory per user, each user in
their own zone, whatever the process's ``Settings.timezone``; every Memory on the store reads it at
its next call, the engine's calendar follows it, ``graphmem check`` names a stored zone this machine
does not know, and an export carries it (into another namespace too)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from conftest import memories
from graphmem import InputError, Settings, StorageError
from graphmem.cli import app
from graphmem.namespace_settings import settings_id
from graphmem.timezones import zone_name

NEW_YORK = "America/New_York"
CHILI = {"role": "user", "content": "We cooked a big pot of chili for the neighbours.", "timestamp": "2024-03-16T21:30:00"}


def _stored_times(memory) -> dict[str, str]:
    return {r["text"]: r["timestamp"] for r in memory.cypher(
        "MATCH (t:Turn) WHERE t.namespace = $namespace RETURN t.text AS text, t.timestamp AS timestamp")}


def test_zone_names_are_stored_canonical_and_bad_ones_refused():
    assert zone_name(" Europe/Berlin ") == "Europe/Berlin"
    assert zone_name("Etc/UTC") == "UTC" and zone_name("utc") == "UTC"
    # tzdata's "localtime" is this machine's zone, as "local" is: stored by its name, the same on every machine
    assert zone_name("localtime") == zone_name("local") != "localtime"
    for bad in ("Mars/Base", "America", "x" * 5000, "../../etc/passwd", "", 5, None, "\ud800"):
        with pytest.raises(InputError, match="timezone"):
            zone_name(bad)


def test_each_namespace_reads_and_shows_times_in_its_own_zone(backend, tmp_path, embedder):
    """Two users of one store under UTC settings: the one whose namespace is set to New York has
    naive times read there, hits, messages and history shown there, "yesterday" resolved in its
    calendar; the other stays in UTC. A second Memory on the namespace sees a zone set after it
    was opened at its next call, and the search engine's calendar follows every change."""
    with memories(backend, Settings(index_dir=str(tmp_path / "index"), jvm_heap="512m")) as factory:
        ny, utc = factory(), factory()
        assert ny.timezone() == "UTC"
        later = factory(ny.namespace)  # opened before the zone is set
        assert ny.set_timezone(NEW_YORK) == NEW_YORK and ny.timezone() == NEW_YORK and utc.timezone() == "UTC"
        chili = ny.add(CHILI, conversation="home").turn_ids[0]
        ny.add({"role": "user", "content": "I went to the dentist yesterday.", "timestamp": "2024-03-18T21:00:00"},
               conversation="home")
        utc.add(CHILI, conversation="home")
        assert _stored_times(ny)[CHILI["content"]] == "2024-03-17T01:30:00"
        assert _stored_times(utc)[CHILI["content"]] == "2024-03-16T21:30:00"

        assert later.search("chili for the neighbours", k=1)[0].timestamp == "2024-03-16T21:30:00-04:00"
        assert later.messages("home")[0]["timestamp"] == "2024-03-16T21:30:00-04:00"
        assert later.history(chili)[-1]["timestamp"] == "2024-03-16T21:30:00-04:00"
        dentist = ny.search("dentist", k=1, unit="event")[0]
        assert (dentist.time_start, dentist.time_end) == ("2024-03-17", "2024-03-17")  # the day before, in New York
        assert utc.search("chili for the neighbours", k=1)[0].timestamp == "2024-03-16T21:30:00"

        def yesterday() -> dict:  # asked on Sunday morning in New York: Saturday the 16th there
            hits = ny.search("What did we cook yesterday?", k=3, as_of="2024-03-17T10:00:00-04:00")
            return next(h for h in hits if h.node_id == chili).explanation

        assert yesterday()["time"]["days"] == ["2024-03-16"]
        assert yesterday()["contributions"]["time"] == pytest.approx(1.0)  # said that day, in New York
        # the same engine, its calendar in UTC: the chili was said on the 17th there, a day off the question's
        assert ny.set_timezone(None) == "UTC"
        assert ny.search("chili for the neighbours", k=1)[0].timestamp == "2024-03-17T01:30:00"
        assert yesterday()["time"]["days"] == ["2024-03-16"]
        assert yesterday()["contributions"]["time"] == pytest.approx(0.5)
        assert later.set_timezone(NEW_YORK) == NEW_YORK
        assert yesterday()["time"]["days"] == ["2024-03-16"]
        assert yesterday()["contributions"]["time"] == pytest.approx(1.0)
        assert ny.forget(before="2024-03-17")["turns"] == 1  # Saturday in New York ends at 04:00 UTC

        with pytest.raises(InputError, match="'Mars/Base' is not a time zone"):
            ny.set_timezone("Mars/Base")
        assert ny.timezone() == NEW_YORK  # nothing changed
        assert ny.check().ok


def test_a_stored_zone_this_machine_does_not_know_is_named(backend, tmp_path, embedder):
    """A zone another tool wrote (or one newer than this machine's zone data): every call that reads
    or shows a time refuses it naming it, check reports it, and setting a zone repairs it."""
    with memories(backend, Settings(index_dir=str(tmp_path / "index"), jvm_heap="512m")) as factory:
        memory = factory()
        memory.set_timezone("Asia/Tokyo")
        memory.add(CHILI, conversation="home")
        memory.cypher("MATCH (s:NamespaceSettings) WHERE s.namespace = $namespace SET s.timezone = 'Mars/Base'", write=True)
        for call in (lambda: memory.search("chili"), lambda: memory.messages("home"), memory.timezone,
                     lambda: memory.add(CHILI, conversation="home")):
            with pytest.raises(StorageError, match="stored time zone 'Mars/Base'"):
                call()
        report = memory.check()
        assert report.problems == {"namespace_settings_with_unknown_timezone": [settings_id(memory.namespace)]}
        memory.set_timezone("Asia/Tokyo")
        assert memory.check().ok and memory.search("chili", k=1)[0].timestamp == "2024-03-16T21:30:00+09:00"


def test_an_export_carries_the_zone_into_another_namespace(tmp_path, embedder):
    settings = Settings(index_dir=str(tmp_path / "index"), jvm_heap="512m")
    from graphmem import Memory

    with Memory.open(str(tmp_path / "store"), "source", settings=settings) as source:
        source.set_timezone(NEW_YORK)
        source.add(CHILI, conversation="home")
        dump = tmp_path / "source.dump"
        source.export(dump)
        with Memory.attach(source.store, "copy", settings) as copy:
            for _ in range(2):  # importing twice changes nothing
                copy.import_dump(dump, namespace="copy")
            assert copy.timezone() == NEW_YORK
            assert copy.messages("home")[0]["timestamp"] == "2024-03-16T21:30:00-04:00"
            rows = copy.cypher("MATCH (s:NamespaceSettings) WHERE s.namespace = $namespace RETURN s.id AS id")
            assert [r["id"] for r in rows] == [settings_id("copy")]  # its own id: set_timezone merges the same node
            copy.set_timezone("Europe/Berlin")
            assert len(copy.cypher("MATCH (s:NamespaceSettings) WHERE s.namespace = $namespace RETURN s.id AS id")) == 1
            assert copy.check().ok
        assert source.timezone() == NEW_YORK


def test_graphmem_timezone_prints_sets_and_clears(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHMEM_INDEX_DIR", str(tmp_path / "index"))
    store = str(tmp_path / "store")
    runner = CliRunner()
    assert runner.invoke(app, ["timezone", "--store", store]).exit_code == 2  # no memory there: nothing created
    result = runner.invoke(app, ["timezone", NEW_YORK, "--store", store, "-n", "alice"])
    assert result.exit_code == 0, result.output
    assert "America/New_York (set for namespace 'alice')" in result.output
    # a namespace holding only its zone: said so (it was "no namespace 'alice' (did you mean 'alice'?)")
    empty = runner.invoke(app, ["stats", "--store", store, "-n", "alice"])
    assert empty.exit_code == 2 and "namespace 'alice'" in empty.output and "holds no conversation" in empty.output
    assert "did you mean" not in empty.output
    shown = runner.invoke(app, ["timezone", "--store", store, "-n", "alice", "--json"])
    assert json.loads(shown.output) == {"namespace": "alice", "timezone": NEW_YORK, "stored": NEW_YORK}
    bad = runner.invoke(app, ["timezone", "Mars/Base", "--store", store, "-n", "alice"])
    assert bad.exit_code == 2 and "'Mars/Base' is not a time zone" in bad.output
    assert runner.invoke(app, ["timezone", "UTC", "--clear", "--store", store, "-n", "alice"]).exit_code == 2
    cleared = runner.invoke(app, ["timezone", "--clear", "--store", store, "-n", "alice", "--json"])
    assert json.loads(cleared.output) == {"namespace": "alice", "timezone": "UTC", "stored": None}


def test_graphmem_forget_previews_what_it_forgets_in_the_namespaces_zone(tmp_path, monkeypatch):
    """The preview read --before in $GRAPHMEM_TIMEZONE while the forget read it in the namespace's zone:
    the count confirmed was not what was deleted."""
    import re

    monkeypatch.setenv("GRAPHMEM_INDEX_DIR", str(tmp_path / "index"))
    store = str(tmp_path / "store")
    runner = CliRunner()
    assert runner.invoke(app, ["timezone", NEW_YORK, "--store", store, "-n", "ny"]).exit_code == 0
    lines = "\n".join(json.dumps({"speaker": "A", "text": text, "timestamp": at}) for text, at in (
        ("Saturday evening.", "2024-03-09T20:00:00"), ("Saturday night.", "2024-03-09T22:00:00"),
        ("Sunday morning.", "2024-03-10T09:00:00")))  # the first two are on the 10th in UTC
    assert runner.invoke(app, ["add", "-", "-c", "chat", "--store", store, "-n", "ny"], input=lines + "\n").exit_code == 0
    declined = runner.invoke(app, ["forget", "--before", "2024-03-10", "--store", store, "-n", "ny"], input="n\n")
    assert declined.exit_code == 1 and re.search(r"turns\s*│\s*2\b", declined.output), declined.output
    done = runner.invoke(app, ["forget", "--before", "2024-03-10", "--store", store, "-n", "ny", "--yes", "--json"])
    assert json.loads(done.stdout)["turns"] == 2


def test_async_memory_has_every_method_of_memory(tmp_path, test_settings):
    """AsyncMemory lacked timezone, set_timezone, show and copy_to though the README says it has every
    method of Memory; a zone set through it applies to the Memory beside it."""
    import asyncio

    from graphmem import AsyncMemory, Memory

    public = {name for name in dir(Memory) if not name.startswith("_")}
    assert public - set(dir(AsyncMemory)) <= {"attach", "settings", "store"}  # (the Memory is AsyncMemory.memory)
    store = str(tmp_path / "store")

    async def main() -> tuple[str, str]:
        memory = await AsyncMemory.open(store, "async-zone", settings=test_settings)
        try:
            set_to = await memory.set_timezone("Europe/Berlin")
            await memory.add(CHILI, conversation="home")
            return set_to, (await memory.messages("home"))[0]["timestamp"]
        finally:
            await memory.close()

    assert asyncio.run(main()) == ("Europe/Berlin", "2024-03-16T21:30:00+01:00")
    with Memory.open(store, "async-zone", settings=test_settings) as memory:
        assert memory.timezone() == "Europe/Berlin"


def test_an_attached_memory_reads_the_environment_as_an_opened_one(tmp_path, monkeypatch, embedder):
    """Memory.open read GRAPHMEM_TIMEZONE; Memory.attach on the same store did not (UTC)."""
    from graphmem import Memory

    monkeypatch.setenv("GRAPHMEM_TIMEZONE", "Asia/Tokyo")
    monkeypatch.setenv("GRAPHMEM_JVM_HEAP", "768m")
    with Memory.open(tmp_path / "store", "a") as opened, Memory.attach(opened._store, "a") as attached:
        assert opened.timezone() == attached.timezone() == "Asia/Tokyo"
