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
    a, b = exact.encode(TEXTS), fast.encode(TEXTS)
    assert a.dtype == b.dtype == np.float32 and a.shape == b.shape == (4, 384)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    cosine = (a * b).sum(axis=1)
    assert cosine.min() > 0.999  # measured >= 0.99995 on LongMemEval turns
    assert not np.array_equal(a, b)  # the precision really changed


def test_precision_is_a_validated_setting():
    assert Settings().embedding_precision == "auto"
    assert Settings.from_env({"GRAPHMEM_EMBEDDING_PRECISION": "float32"}).embedding_precision == "float32"
    assert Embedder.from_settings(Settings(embedding_precision="float32")).precision == "float32"
    with pytest.raises(ConfigurationError, match="embedding_precision"):
        Settings(embedding_precision="int8")
