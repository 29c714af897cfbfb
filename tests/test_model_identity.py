"""A namespace stores the identity of the embedding model its vectors come from, and another model
is refused (graphmem.model_identity).

The second model is real: a copy of the bundled all-MiniLM-L6-v2 directory with its last layer's
output matrix scaled by 1.2, so it makes 384-dimensional vectors as the bundled model does (the
dimension check cannot tell them apart), and other ones (a probe sentence's vectors agree to
cosine 0.997). Before identities, a store written with one model and searched or added to with the
other was used silently: new vectors beside old ones, wrong answers, and check said clean.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from conftest import settings_for
from graphmem import AsyncMemory, ConfigurationError, Memory
from graphmem.embed import Embedder, resolve_model_path
from graphmem.model_identity import PROBE_AGREEMENT, identity_of, stored_identity
from graphmem.namespace_settings import settings_id

PEPPER = {"speaker": "Ana", "text": "I adopted a beagle named Pepper."}
TURNS = "MATCH (t:Turn) WHERE t.namespace = $namespace RETURN count(t) AS n"


def _other_model(directory: Path, scale: float = 1.2) -> Path:
    """A copy of the bundled model directory whose last layer's output matrix is scaled by ``scale``."""
    from safetensors.torch import load_file, save_file

    bundled = Path(resolve_model_path("all-MiniLM-L6-v2"))
    shutil.copytree(bundled, directory, ignore=shutil.ignore_patterns("model.safetensors"))
    weights = load_file(str(bundled / "model.safetensors"))
    weights["encoder.layer.5.output.dense.weight"] = weights["encoder.layer.5.output.dense.weight"] * scale
    save_file(weights, str(directory / "model.safetensors"))
    return directory


@pytest.fixture(scope="module")
def other_model(tmp_path_factory) -> str:
    return str(_other_model(tmp_path_factory.mktemp("models") / "other-minilm"))


@pytest.fixture
def settings(tmp_path):
    return settings_for(tmp_path)


def _made(tmp_path: Path, settings, namespace: str = "made") -> Path:
    """A store whose namespace ``namespace`` holds one message embedded by the bundled model."""
    store = tmp_path / "store"
    with Memory.open(store, namespace, settings=settings) as memory:
        memory.add(PEPPER, conversation="chat")
    return store


def test_the_second_model_makes_vectors_of_the_same_length_and_another_probe(other_model):
    bundled, other = identity_of(Embedder()), identity_of(Embedder(other_model))
    assert len(bundled.probe) == len(other.probe) == 384
    assert bundled.same_model(identity_of(Embedder(resolve_model_path("all-MiniLM-L6-v2"))))  # another name, same weights
    assert not bundled.same_model(other) and 0.99 < bundled.agreement(other) < PROBE_AGREEMENT


def test_a_namespace_opened_with_another_model_of_the_same_length_is_refused_naming_both(tmp_path, settings, other_model):
    store = _made(tmp_path, settings)
    other = replace(settings, embedding_model=other_model)
    with Memory.open(store, "made", settings=other) as memory:
        version = memory.cypher("MATCH (m:ChangeMarker) WHERE m.namespace = $namespace RETURN m.version AS v")
        calls = {"search": lambda: memory.search("beagle", k=1),
                 "add": lambda: memory.add({"speaker": "Ana", "text": "A red bicycle."}, conversation="chat2"),
                 "ingest": lambda: memory.ingest([]),
                 "recluster": memory.recluster}
        for name, call in calls.items():
            with pytest.raises(ConfigurationError) as caught:
                call()
            message = str(caught.value)
            assert "namespace 'made'" in message and "'all-MiniLM-L6-v2'" in message and repr(other_model) in message, name
            assert "--reembed" in message and "\n" not in message
        # nothing was written: one turn, the marker where it was
        assert memory.cypher(TURNS) == [{"n": 1}]
        assert memory.cypher("MATCH (m:ChangeMarker) WHERE m.namespace = $namespace RETURN m.version AS v") == version
    # the model it was made with still opens it, and so does the same model named by its directory
    for model in ("all-MiniLM-L6-v2", resolve_model_path("all-MiniLM-L6-v2")):
        with Memory.open(store, "made", settings=replace(settings, embedding_model=model)) as memory:
            assert memory.search("beagle", k=1)[0].text == PEPPER["text"]
    # a namespace holding no vectors takes the other model, and records it
    with Memory.open(store, "fresh", settings=other) as memory:
        memory.add(PEPPER, conversation="chat")
        assert memory.search("beagle", k=1)[0].text == PEPPER["text"]
        assert stored_identity(memory.store, "fresh").model == other_model


def test_the_first_write_records_the_model_with_the_namespace(tmp_path, settings):
    store = tmp_path / "store"
    with Memory.open(store, "new", settings=settings) as memory:
        assert memory.search("anything", k=1) == []
        assert stored_identity(memory.store, "new") is None  # a search of nothing writes nothing
        assert memory.cypher("MATCH (n) WHERE n.namespace = $namespace RETURN count(n) AS n") == [{"n": 0}]
        memory.add(PEPPER, conversation="chat")
        stored = stored_identity(memory.store, "new")
        assert stored is not None and stored.model == "all-MiniLM-L6-v2" and stored.same_model(identity_of(Embedder()))
        version = memory.cypher("MATCH (m:ChangeMarker) WHERE m.namespace = $namespace RETURN m.version AS v")
        memory.add({"speaker": "Ana", "text": "Pepper chewed my slippers."}, conversation="chat")
        # recorded once: the next add is one transaction, as before
        after = memory.cypher("MATCH (m:ChangeMarker) WHERE m.namespace = $namespace RETURN m.version AS v")
        assert after[0]["v"] == version[0]["v"] + 1
        assert memory.check().ok


def test_a_store_from_before_identities_is_adopted_at_its_next_write(tmp_path, settings, other_model):
    store = _made(tmp_path, settings)
    with Memory.open(store, "made", settings=settings) as memory:  # as a store written before identities
        memory.cypher("MATCH (s:NamespaceSettings) WHERE s.namespace = $namespace DETACH DELETE s", write=True)
    with Memory.open(store, "made", settings=settings) as memory:
        assert memory.search("beagle", k=1)[0].text == PEPPER["text"]  # no error
        assert stored_identity(memory.store, "made") is None
        memory.add({"speaker": "Ana", "text": "Pepper chewed my slippers."}, conversation="chat")
        assert stored_identity(memory.store, "made").model == "all-MiniLM-L6-v2"
    with Memory.open(store, "made", settings=replace(settings, embedding_model=other_model)) as memory:
        with pytest.raises(ConfigurationError, match="namespace 'made' was embedded with the embedding model 'all-MiniLM-L6-v2'"):
            memory.search("beagle", k=1)


def test_check_names_a_namespace_of_another_model(tmp_path, settings, other_model):
    store = _made(tmp_path, settings)
    with Memory.open(store, "made", settings=settings) as memory:
        assert memory.check().ok
    with Memory.open(store, "made", settings=replace(settings, embedding_model=other_model)) as memory:
        report = memory.check()
    assert not report.ok and list(report.problems) == ["embeddings_of_another_model"]
    [entry] = report.problems["embeddings_of_another_model"]
    assert entry.startswith(settings_id("made")) and "'all-MiniLM-L6-v2'" in entry and repr(other_model) in entry
    assert "embeddings of another model" in report.summary()


def test_check_names_an_identity_that_cannot_be_read(tmp_path, settings):
    store = _made(tmp_path, settings)
    with Memory.open(store, "made", settings=settings) as memory:
        memory.cypher("MATCH (s:NamespaceSettings) WHERE s.namespace = $namespace SET s.embedding_probe = 'x'", write=True)
        assert memory.check().problems == {"namespace_settings_with_malformed_embedding_probe": [settings_id("made")]}


def test_reembedding_an_import_records_the_new_model(tmp_path, settings, other_model):
    store = _made(tmp_path, settings)
    dump = tmp_path / "made.jsonl.gz"
    with Memory.open(store, "made", settings=settings) as memory:
        memory.export(dump)
    other = replace(settings, embedding_model=other_model)
    with Memory.open(tmp_path / "other-store", "made", settings=other) as memory:
        with pytest.raises(ConfigurationError, match="--reembed"):
            memory.import_dump(dump)
        memory.import_dump(dump, reembed=True)
        stored = stored_identity(memory.store, "made")
        assert stored.model == other_model and stored.same_model(identity_of(Embedder(other_model)))
        assert memory.search("beagle", k=1)[0].text == PEPPER["text"]
        assert memory.check().ok
    # re-embedding into the store the dump came from, another namespace: that namespace is the other model's
    with Memory.open(store, "made", settings=other) as memory:
        memory.import_dump(dump, namespace="again", reembed=True)
        assert stored_identity(memory.store, "again").model == other_model
        assert stored_identity(memory.store, "made").model == "all-MiniLM-L6-v2"
        # and a namespace that holds the bundled model's vectors takes nothing re-embedded by another
        with pytest.raises(ConfigurationError, match="namespace 'made' was embedded with the embedding model 'all-MiniLM-L6-v2'"):
            memory.import_dump(dump, reembed=True)
        assert memory.cypher(TURNS) == [{"n": 1}]


def test_an_import_into_a_namespace_of_another_model_writes_nothing(tmp_path, settings, other_model):
    store = tmp_path / "store"
    dump = tmp_path / "made.jsonl.gz"
    with Memory.open(store, "made", settings=settings) as memory:
        memory.add(PEPPER, conversation="chat")
        memory.export(dump)
    with Memory.open(store, "target", settings=replace(settings, embedding_model=other_model)) as memory:
        memory.add({"speaker": "Bo", "text": "The red bicycle has a flat tyre."}, conversation="bikes")
    with Memory.open(store, "made", settings=settings) as memory:
        with pytest.raises(ConfigurationError, match=f"namespace 'target' was embedded with the embedding model {other_model!r}"):
            memory.import_dump(dump, namespace="target")
        assert memory.cypher(TURNS, {"namespace": "target"}) == [{"n": 1}]


def test_async_and_http_paths_refuse_another_model(tmp_path, settings, other_model):
    from graphmem.server import MemoryHub
    from serving import running

    store = _made(tmp_path, settings)
    other = replace(settings, embedding_model=other_model)

    async def search() -> None:
        memory = await AsyncMemory.open(store, "made", settings=other)
        try:
            with pytest.raises(ConfigurationError, match="namespace 'made' was embedded"):
                await memory.search("beagle", k=1)
        finally:
            await memory.close()

    asyncio.run(search())
    hub = MemoryHub.open(str(store), other)
    try:
        with running(hub) as url:
            answer = httpx.post(f"{url}/v1/namespaces/made/search", json={"query": "beagle", "k": 1})
            assert answer.status_code == 400, answer.text
            error = answer.json()["error"]
            assert "namespace 'made'" in error and "'all-MiniLM-L6-v2'" in error and repr(other_model) in error
            answer = httpx.post(f"{url}/v1/namespaces/made/messages",
                                json={"conversation": "chat", "messages": [{"speaker": "Ana", "text": "A red bicycle."}]})
            assert answer.status_code == 400, answer.text
    finally:
        hub.close()
    with Memory.open(store, "made", settings=settings) as memory:
        assert memory.cypher(TURNS) == [{"n": 1}]


def test_other_weights_under_the_same_name_are_refused_in_the_next_process(tmp_path, settings, other_model):
    """The model setting names a directory whose weights were replaced: the name is the same, the
    vectors are not. A process loads a model once, so the next process (the CLI) meets the new weights."""
    model = tmp_path / "model"
    shutil.copytree(resolve_model_path("all-MiniLM-L6-v2"), model)
    named = replace(settings, embedding_model=str(model))
    store = _made(tmp_path, named)
    shutil.copy(Path(other_model) / "model.safetensors", model / "model.safetensors")
    env = {**os.environ, "GRAPHMEM_EMBEDDING_MODEL": str(model), "GRAPHMEM_INDEX_DIR": settings.index_dir,
           "GRAPHMEM_JVM_HEAP": settings.jvm_heap}
    result = subprocess.run([sys.executable, "-m", "graphmem", "search", "beagle", "--store", str(store), "-n", "made"],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode != 0, result.stdout
    error = " ".join(result.stderr.split())
    assert f"model of the same name, {str(model)!r}, gives other vectors" in error, result.stderr
    assert "Traceback" not in result.stderr


def test_a_copy_into_a_namespace_of_another_model_writes_nothing(tmp_path, settings, other_model):
    with Memory.open(tmp_path / "target", "target", settings=replace(settings, embedding_model=other_model)) as memory:
        memory.add({"speaker": "Bo", "text": "The red bicycle has a flat tyre."}, conversation="bikes")
    store = _made(tmp_path, settings)
    with Memory.open(store, "made", settings=settings) as source, \
            Memory.open(tmp_path / "target", "target", settings=settings) as target:
        with pytest.raises(ConfigurationError, match=f"namespace 'target' was embedded with the embedding model {other_model!r}"):
            source.copy_to(target, namespace="target")
        assert target.cypher(TURNS) == [{"n": 1}]
        source.copy_to(target, namespace="copied")  # a namespace of no model takes it, with the identity it carries
        assert stored_identity(target.store, "copied").model == "all-MiniLM-L6-v2"
        assert target.cypher(TURNS, {"namespace": "copied"}) == [{"n": 1}]


def test_a_memory_that_met_its_namespace_empty_refuses_another_models_writes_later(tmp_path, settings, other_model):
    """A Memory of another model that first searched the namespace empty checked the model once: after
    a writer of the first model recorded its identity, its add mixed its vectors in and overwrote the
    stored identity with its own (check then called the namespace clean, and the first model's Memory
    was refused)."""
    first = Memory.open(tmp_path / "store", "mixed", settings=settings)
    other = Memory.attach(first.store, "mixed", settings=replace(settings, embedding_model=other_model))
    try:
        assert other.search("beagle", k=1) == []  # the empty namespace: nothing to check against
        first.add({"speaker": "Ana", "text": "I adopted a beagle named Pepper."}, conversation="chat")
        with pytest.raises(ConfigurationError, match="was embedded with the embedding model 'all-MiniLM-L6-v2'"):
            other.add({"speaker": "Ana", "text": "A red bicycle."}, conversation="chat2")
        assert stored_identity(first.store, "mixed").model == "all-MiniLM-L6-v2"
        assert first.stats()["nodes"]["Turn"] == 1
        assert first.search("beagle", k=1)  # the first model's Memory still searches
    finally:
        other.close()
        first.close()
