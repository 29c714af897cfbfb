"""Settings refuse what they cannot use, naming the setting, before any store is made."""

from __future__ import annotations

import pytest

from graphmem.errors import ConfigurationError
from graphmem.settings import Settings


@pytest.mark.parametrize(("given", "said"), [
    # a heap the JVM ends the whole process on ("Too small maximum heap", "Could not reserve enough space")
    ({"jvm_heap": "1k"}, "jvm_heap (GRAPHMEM_JVM_HEAP) '1k': at least 16m"),
    ({"jvm_heap": "999999g"}, "at most four times this machine's memory"),
    ({"jvm_heap": "2 g"}, "a size such as 512m or 2g"),
    # values that failed deep inside, a store made first
    ({"embedding_batch_size": "64"}, "embedding_batch_size must be a whole number, got '64'"),
    ({"embedding_batch_size": 2.5}, "embedding_batch_size must be a whole number"),
    ({"hnsw_m": True}, "hnsw_m must be a whole number"),
    ({"embedding_model": ""}, "embedding_model must name a model"),  # (it loaded the working directory as a model)
    ({"embedding_model": None}, "embedding_model must be text"),
    ({"retrieval": None}, "a SegmenterConfig and a RetrievalConfig"),
    ({"segmenter": None}, "a SegmenterConfig and a RetrievalConfig"),
])
def test_a_setting_it_cannot_use_is_refused_naming_it(given, said):
    with pytest.raises(ConfigurationError, match=said.replace("(", r"\(").replace(")", r"\)")):
        Settings(**given)


def test_usable_settings_are_kept():
    assert Settings(jvm_heap="512m").jvm_heap == "512m" and Settings(jvm_heap="").jvm_heap == ""
    assert Settings(jvm_heap="2G", embedding_batch_size=8).embedding_batch_size == 8


def test_the_default_store_location_needs_a_home_or_an_absolute_data_folder():
    """HOME="" put the default store at /.local/share/graphmem/store, in the file system's root, and a
    relative XDG_DATA_HOME made it depend on the working directory."""
    from graphmem.settings import default_store_location

    assert default_store_location({"HOME": "/home/ana"}) == "/home/ana/.local/share/graphmem/store"
    assert default_store_location({"HOME": "/home/ana", "XDG_DATA_HOME": "/data"}) == "/data/graphmem/store"
    assert default_store_location({"HOME": "/home/ana", "XDG_DATA_HOME": "data"}) == "/home/ana/.local/share/graphmem/store"
    assert default_store_location({"HOME": "", "GRAPHMEM_STORE": "/srv/memory"}) == "/srv/memory"
    for home in ("", "relative/home"):
        with pytest.raises(ConfigurationError, match="set GRAPHMEM_STORE"):
            default_store_location({"HOME": home})
