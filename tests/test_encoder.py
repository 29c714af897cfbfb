"""graphmem's own BERT encoder gives sentence-transformers' vectors bit for bit, without importing it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pytest

from graphmem.embed import Embedder, _load_model, resolve_model_path
from graphmem.encoder import BertSentenceEncoder, read_model_directory

torch = pytest.importorskip("torch")
SentenceTransformer = pytest.importorskip("sentence_transformers").SentenceTransformer

TEXTS = [
    "I adopted a greyhound named Pixel last week.",
    "Here is a Python function:\n```python\ndef add(a, b):\n    return a + b\n```",
    "| city | population |\n|---|---|\n| Lisbon | 545k |",
    "ok", "", " ", "?!... ---", "日本語のテキストと emoji 🎉", "Ünïcödé façade naïve",
    "word " * 400,  # truncated at the model's 256 tokens
    "a" * 3000,
    "x\u2028y\u0085z\u200bw",
] + [f"Message number {i} about {topic}." for i, topic in enumerate(["hiking", "pottery", "taxes", "jazz"] * 20)]


def _reference(path: str | Path, texts: list[str], batch_size: int) -> np.ndarray:
    model = SentenceTransformer(str(path), device="cpu")
    return model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                        show_progress_bar=False)


def _autocast(bfloat16: bool):
    return torch.autocast(device_type="cpu", dtype=torch.bfloat16) if bfloat16 else nullcontext()


@pytest.mark.parametrize("bfloat16", [False, True])
def test_the_bundled_model_gives_sentence_transformers_vectors_bit_for_bit(bfloat16):
    path = resolve_model_path("all-MiniLM-L6-v2")
    spec, why = read_model_directory(path)
    assert spec is not None, why
    assert (spec.pooling, spec.normalize, spec.max_length) == ("mean", True, 256)
    ours = BertSentenceEncoder(spec)
    for batch_size in (64, 7):  # batches of ties and of mixed lengths
        with _autocast(bfloat16):
            expected = _reference(path, TEXTS, batch_size)
            got = ours.encode(TEXTS, batch_size)
        assert got.dtype == np.float32 and got.shape == (len(TEXTS), 384)
        assert np.array_equal(got, expected)


class _Reading:
    """A tokenizer that counts the characters it is given."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer, self.read = tokenizer, 0

    def encode_batch(self, texts):
        self.read += sum(len(text) for text in texts)
        return self.tokenizer.encode_batch(texts)


def test_a_long_text_is_tokenized_from_its_start_only():
    """Before, the tokenizer read every character of a text and then kept its first 256 tokens:
    a pasted megabyte cost 1.3 s of tokenizing per embedding, twice in an add. Only the start
    that gives those tokens is read now, and the vectors are sentence-transformers' bit for bit
    (it reads the whole text): cut after 256 pieces between white space and punctuation that
    keep a character; text without such breaks is read whole."""
    path = resolve_model_path("all-MiniLM-L6-v2")
    spec, _ = read_model_directory(path)
    ours = BertSentenceEncoder(spec)
    long = ["The violin case sat beside Zoë’s cedar raised beds. " * 4000,
            "\u200b\u00ad \x0b\x85 e\u0301 " * 3000 + "word\t" * 300 + "tail " * 5000,  # dropped characters first
            "🎻 中文 | a | b |\n" * 5000, "aGVsbG8+d29ybGQ/ZGF0YQ==" * 4000, "x" * 30_000, "short text"]
    ours.tokenizer = _Reading(ours.tokenizer)
    got = ours.encode(long, 8)
    assert ours.tokenizer.read < 30_000 + 10_000  # the text without breaks is read whole, the others in part
    assert np.array_equal(got, _reference(path, long, 8))


def _tiny_model(directory: Path, pooling: dict, normalize: bool, st_config: dict | None) -> Path:
    """A small random BERT in sentence-transformers' layout, with the bundled model's tokenizer."""
    from transformers import BertConfig, BertModel

    torch.manual_seed(len(directory.name))
    config = BertConfig(vocab_size=30522, hidden_size=48, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=96, max_position_embeddings=64)
    BertModel(config).save_pretrained(directory, safe_serialization=True)
    bundled = Path(resolve_model_path("all-MiniLM-L6-v2"))
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(bundled / name, directory / name)
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    if normalize:
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})
    (directory / "modules.json").write_text(json.dumps(modules))
    (directory / "1_Pooling").mkdir()
    (directory / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 48, **pooling}))
    if st_config is not None:
        (directory / "sentence_bert_config.json").write_text(json.dumps(st_config))
    return directory


SHAPES = {
    "mean-normalized-32": ({"pooling_mode_mean_tokens": True}, True, {"max_seq_length": 32}),
    "cls-raw-no-length": ({"pooling_mode_cls_token": True}, False, None),  # length from the positions (64)
    "mean-by-name": ({"pooling_mode": "mean"}, False, {"max_seq_length": 16, "do_lower_case": False}),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_other_bert_models_of_the_supported_shapes_match_too(tmp_path, shape):
    pooling, normalize, st_config = SHAPES[shape]
    directory = _tiny_model(tmp_path / shape, pooling, normalize, st_config)
    spec, why = read_model_directory(directory)
    assert spec is not None, why
    model = _load_model(shape, str(directory), "cpu")
    assert isinstance(model, BertSentenceEncoder) and model.dimension == 48
    for bfloat16 in (False, True):
        with _autocast(bfloat16):
            assert np.array_equal(model.encode(TEXTS, 16), _reference(directory, TEXTS, 16))


def test_a_model_of_another_shape_goes_through_sentence_transformers(tmp_path):
    directory = _tiny_model(tmp_path / "max", {"pooling_mode_max_tokens": True}, True, {"max_seq_length": 32})
    spec, why = read_model_directory(directory)
    assert spec is None and "pooling" in why
    embedder = Embedder(str(directory), batch_size=16, precision="float32")
    vectors = embedder.encode(TEXTS)
    assert type(embedder._load()).__name__ == "_SentenceTransformersModel" and embedder.dimension == 48
    assert np.array_equal(vectors, _reference(directory, TEXTS, 16))
    (directory / "modules.json").write_text("[not json")
    assert read_model_directory(directory)[0] is None


def test_a_bert_directory_whose_weights_are_named_otherwise_goes_through_sentence_transformers(tmp_path):
    from safetensors.torch import load_file, save_file

    directory = _tiny_model(tmp_path / "renamed", {"pooling_mode_mean_tokens": True}, True, {"max_seq_length": 32})
    weights = load_file(str(directory / "model.safetensors"))
    save_file({"encoder." + name: tensor for name, tensor in weights.items()}, str(directory / "model.safetensors"))
    assert read_model_directory(directory)[0] is not None  # the shape is right; the names are not
    model = _load_model("renamed", str(directory), "cpu")
    assert type(model).__name__ == "_SentenceTransformersModel"


def test_embedding_with_the_bundled_model_does_not_import_sentence_transformers():
    code = ("import sys; from graphmem.embed import Embedder; e = Embedder(); v = e.encode(['hello']); "
            "print(v.shape, 'sentence_transformers' in sys.modules, 'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    assert out.stdout.split() == ["(1,", "384)", "False", "False"]


def test_a_namespace_opened_with_a_model_of_another_length_is_refused_by_name(tmp_path):
    """A store written with the bundled model, opened with a 48-dimensional one: search answered by
    keywords alone, warning that every stored vector was damaged (check found none); an add raised
    ValueError from the topic models. Now every use of the namespace's vectors is refused, naming
    both lengths; a namespace holding none takes the model."""
    from dataclasses import replace

    from graphmem import ConfigurationError, Memory, Settings

    directory = _tiny_model(tmp_path / "small", {"pooling_mode_mean_tokens": True}, True, {"max_seq_length": 32})
    settings = Settings(index_dir=str(tmp_path / "index"), jvm_heap="512m")
    with Memory.open(tmp_path / "store", "made", settings=settings) as memory:
        memory.add({"speaker": "Ana", "text": "I adopted a beagle named Pepper."}, conversation="chat")
    other = replace(settings, embedding_model=str(directory))
    with Memory.open(tmp_path / "store", "made", settings=other) as memory:
        for call in (lambda: memory.search("beagle", k=1), lambda: memory.add({"speaker": "Ana", "text": "A red bicycle."},
                                                                                  conversation="chat2")):
            with pytest.raises(ConfigurationError, match=r"holds 384-dimensional embeddings, but the embedding model .* makes "
                                                         r"48-dimensional ones"):
                call()
        assert memory.cypher("MATCH (t:Turn) WHERE t.namespace = $namespace RETURN count(t) AS n") == [{"n": 1}]
    with Memory.open(tmp_path / "store", "fresh", settings=other) as memory:
        memory.add({"speaker": "Ana", "text": "I adopted a beagle named Pepper."}, conversation="chat")
        assert memory.search("beagle", k=1)[0].text == "I adopted a beagle named Pepper."
