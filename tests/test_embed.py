"""The embedder: bundled model, local only, float32 vectors whatever the compute precision."""

from __future__ import annotations

import numpy as np
import pytest

from graphmem.embed import Embedder
from graphmem.errors import ConfigurationError
from graphmem.settings import Settings

TEXTS = [
    "I adopted a greyhound named Pixel last week.",
    "Here is a Python function:\n```python\ndef add(a, b):\n    return a + b\n```",
    "| city | population |\n|---|---|\n| Lisbon | 545k |",
    "ok",
]


def test_bfloat16_vectors_are_float32_unit_vectors_next_to_the_float32_ones(embedder):
    exact = Embedder(precision="float32")
    fast = Embedder(precision="bfloat16")
    assert not exact.bfloat16 and fast.bfloat16
    texts = [*TEXTS, "The ferry to the island leaves at nine."]  # more than a call computed in float32 anyway
    a, b = exact.encode(texts), fast.encode(texts)
    assert a.dtype == b.dtype == np.float32 and a.shape == b.shape == (5, 384)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    cosine = (a * b).sum(axis=1)
    assert cosine.min() > 0.999  # measured >= 0.99995 on LongMemEval turns
    assert not np.array_equal(a, b)  # the precision really changed


def test_a_call_of_a_few_texts_computes_in_float32_where_bfloat16_is_chosen():
    """A query (or a live add's few texts) gets the float32 vectors even from a bfloat16 embedder;
    a longer call gets bfloat16 ones, the same in every slice of a call made with progress."""
    from graphmem.embed import FLOAT32_CALL_TEXTS

    exact = Embedder("all-MiniLM-L6-v2", 2, "cpu", precision="float32")  # the same batches
    fast = Embedder("all-MiniLM-L6-v2", 2, "cpu", precision="bfloat16")
    few = TEXTS[:FLOAT32_CALL_TEXTS]
    np.testing.assert_array_equal(fast.encode(few), exact.encode(few))
    np.testing.assert_array_equal(fast.encode(few[:1]), exact.encode(few[:1]))
    many = [*TEXTS, "the ferry leaves at nine", "a sixth text"]
    assert len(many) > FLOAT32_CALL_TEXTS
    whole = fast.encode(many)
    assert not np.array_equal(whole, exact.encode(many))  # bfloat16
    sliced = fast.encode(many, progress=lambda done, total: None)  # slices of 4 texts (2 batches of 2)
    np.testing.assert_array_equal(sliced, whole)


def test_precision_is_a_validated_setting():
    assert Settings().embedding_precision == "auto"
    assert Settings.from_env({"GRAPHMEM_EMBEDDING_PRECISION": "float32"}).embedding_precision == "float32"
    assert Embedder.from_settings(Settings(embedding_precision="float32")).precision == "float32"
    with pytest.raises(ConfigurationError, match="embedding_precision"):
        Settings(embedding_precision="int8")


def test_an_empty_jvm_options_variable_asks_for_the_jvms_defaults():
    """`GRAPHMEM_JVM_OPTIONS=""` is how the README says to get the JVM's defaults; it was skipped as
    unset (the built-in options stayed). Other empty variables stay unset."""
    assert Settings.from_env({"GRAPHMEM_JVM_OPTIONS": ""}).jvm_options == ""
    assert Settings.from_env({}).jvm_options == Settings().jvm_options != ""
    assert Settings.from_env({"GRAPHMEM_EMBEDDING_MODEL": ""}).embedding_model == Settings().embedding_model


def test_a_directory_that_holds_no_model_is_a_configuration_error_naming_the_setting(tmp_path):
    """An empty or half-copied model directory ended in transformers' own ValueError and a traceback."""
    from graphmem.embed import Embedder
    from graphmem.errors import ConfigurationError

    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"embedding model \(embedding_model, GRAPHMEM_EMBEDDING_MODEL\) .* cannot be loaded"):
        Embedder(str(tmp_path / "model")).encode(["hello"])
