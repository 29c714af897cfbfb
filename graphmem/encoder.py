"""A small BERT sentence encoder that reads a sentence-transformers model directory.

Importing ``sentence_transformers`` pulls in scikit-learn, scipy.stats and most of
``transformers`` (4.3 s of a 5.8 s model load on this project's machine), and every CLI
command that embeds a query paid it. A sentence-transformers model of the common shape,
a BERT encoder, mean or CLS pooling and an optional normalisation, needs none of that:
its weights are a safetensors file and its tokenizer a ``tokenizer.json``. This module runs
that shape with torch and the ``tokenizers`` library only, doing the same operations in the
same order as sentence-transformers (the same batches, sorted the same way; the same
attention kernel; mean pooling summed in float32; the vectors normalised by the model and
again by ``encode(normalize_embeddings=True)``), so its vectors are the same bit for bit, in
float32 and under bfloat16 autocast (``tests/test_encoder.py`` checks the bundled model and
small random models of each supported shape).

Any other shape (another architecture, a Dense layer, max pooling, prompts, ...) is not
read here: :func:`read_model_directory` says why and the caller falls back to
sentence-transformers.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import regex

__all__ = ["BertSentenceEncoder", "EncoderSpec", "read_model_directory"]

logger = logging.getLogger(__name__)

TRANSFORMER = "sentence_transformers.models.Transformer"
POOLING = "sentence_transformers.models.Pooling"
NORMALIZE = "sentence_transformers.models.Normalize"
POOLING_FLAGS = ("pooling_mode_cls_token", "pooling_mode_mean_tokens", "pooling_mode_max_tokens",
                 "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken")


@dataclass(frozen=True)
class EncoderSpec:
    """What :class:`BertSentenceEncoder` needs from a model directory."""

    path: Path
    pooling: str  # "mean" or "cls"
    normalize: bool
    max_length: int
    config: dict[str, Any]


def _json(path: Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _pooling_mode(config: dict[str, Any]) -> str | None:
    if "pooling_mode" in config:  # newer sentence-transformers write the mode by name
        mode = config["pooling_mode"]
        return mode if isinstance(mode, str) else None
    chosen = [flag for flag in POOLING_FLAGS if config.get(flag)]
    if chosen == ["pooling_mode_mean_tokens"]:
        return "mean"
    if chosen == ["pooling_mode_cls_token"]:
        return "cls"
    return None


def read_model_directory(directory: str | Path) -> tuple[EncoderSpec | None, str]:
    """The spec of the model in ``directory`` if this module can run it, else ``None`` and why."""
    path = Path(directory)
    try:
        modules = _json(path / "modules.json")
        config = _json(path / "config.json")
    except (OSError, ValueError) as exc:
        return None, f"no readable modules.json / config.json ({exc})"
    types = [str(module.get("type", "")) for module in modules] if isinstance(modules, list) else []
    if types not in ([TRANSFORMER, POOLING], [TRANSFORMER, POOLING, NORMALIZE]) or modules[0].get("path", "") != "":
        return None, f"modules {types} are not a Transformer, a Pooling and an optional Normalize"
    if config.get("model_type") != "bert" or config.get("architectures", ["BertModel"]) != ["BertModel"]:
        return None, f"model type {config.get('model_type')!r} is not a BERT encoder"
    if config.get("hidden_act", "gelu") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
        return None, "not the plain BERT activation and position embeddings"
    for name in ("model.safetensors", "tokenizer.json"):
        if not (path / name).is_file():
            return None, f"no {name}"
    try:
        pooling_config = _json(path / modules[1]["path"] / "config.json")
        st_config = _json(path / "sentence_bert_config.json") if (path / "sentence_bert_config.json").is_file() else {}
        tokenizer_config = _json(path / "tokenizer_config.json") if (path / "tokenizer_config.json").is_file() else {}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return None, f"unreadable pooling or tokenizer settings ({exc})"
    pooling = _pooling_mode(pooling_config)
    if pooling not in ("mean", "cls") or pooling_config.get("include_prompt", True) is not True:
        return None, f"pooling {pooling_config} is neither plain mean nor CLS pooling"
    if st_config.get("do_lower_case") or set(st_config) - {"max_seq_length", "do_lower_case"}:
        return None, f"sentence_bert_config {st_config} asks for more than a length"
    if tokenizer_config.get("padding_side", "right") != "right":
        return None, "the tokenizer pads on the left"
    max_length = st_config.get("max_seq_length") or tokenizer_config.get("model_max_length")
    positions = int(config.get("max_position_embeddings", 512))
    max_length = min(int(max_length), positions) if isinstance(max_length, (int, float)) else positions
    return EncoderSpec(path, pooling, types[-1] == NORMALIZE, max_length, config), ""


#: What BERT's pre-tokenizer splits apart: an ASCII punctuation mark (a token of its own), or a
#: run of other characters up to white space or such a mark (one token or more when it holds a
#: character the normaliser keeps). It also splits at other white space and punctuation, which
#: only makes more tokens.
_PIECE = regex.compile(r"[!-/:-@\[-`{-~]|[^ \t\n\r!-/:-@\[-`{-~]+")
#: A character the BERT normaliser keeps (not a control or format character, a mark or white
#: space, which it drops).
_KEPT = regex.compile(r"[^\p{C}\p{M}\p{Z}\ufffd]")


def tokenized_start(text: str, tokens: int) -> str:
    """The start of ``text`` whose first ``tokens`` tokens are those of all of it, for a
    tokenizer that splits at white space and punctuation and gives each piece one token or
    more (BERT's).

    The tokenizer reads the whole text before it truncates to the model's length: a pasted
    megabyte took 1.3 s to tokenize for the 256 tokens the model reads, twice per add. ``text``
    is cut after its ``tokens``-th piece (:data:`_PIECE`) that holds a character the tokenizer
    keeps, where the tokenizer splits it too; a text with fewer such pieces, or short, is
    returned whole.
    """
    if len(text) <= 16 * tokens:  # a chat turn or an answer: nothing to save
        return text
    pieces = 0
    for piece in _PIECE.finditer(text):
        if _KEPT.search(text, piece.start(), piece.end()):
            pieces += 1
            if pieces >= tokens and piece.end() < len(text):
                return text[:piece.end()]
    return text


class BertSentenceEncoder:
    """Sentence vectors from a BERT model directory, as ``SentenceTransformer.encode`` gives them.

    Args:
        spec: from :func:`read_model_directory`.
        device: torch device.
    """

    def __init__(self, spec: EncoderSpec, device: str = "cpu") -> None:
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        self.spec = spec
        self.device = device
        config = spec.config
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.dimension = int(config["hidden_size"])
        weights = load_file(str(spec.path / "model.safetensors"), device=device)
        self.weights = {name.removeprefix("bert."): tensor for name, tensor in weights.items()}
        missing = [name for name in self._needed() if name not in self.weights]
        if missing:
            raise ValueError(f"{spec.path / 'model.safetensors'} lacks {missing[0]} (and {len(missing) - 1} more)")
        tokenizer = Tokenizer.from_file(str(spec.path / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(spec.max_length)
        self.tokenizer = tokenizer
        # split at white space and punctuation, a token or more a piece: a long text's start gives its tokens
        self._cut = type(tokenizer.pre_tokenizer).__name__ == "BertPreTokenizer" and type(tokenizer.model).__name__ == "WordPiece"
        self.pad_id = int(config.get("pad_token_id") or 0)
        self._torch = torch

    def _needed(self) -> list[str]:
        names = ["embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
                 "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"]
        for layer in range(self.layers):
            prefix = f"encoder.layer.{layer}."
            for part in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                         "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm"):
                names += [prefix + part + ".weight", prefix + part + ".bias"]
        return names

    def encode(self, texts: Sequence[str], batch_size: int, *, in_order: bool = False) -> np.ndarray:
        """L2-normalised float32 vectors of ``texts``, batched longest first as sentence-transformers
        does; ``in_order``: batched as given (a slice of that order already, see
        :func:`graphmem.embed.encoding_order`)."""
        # its sort, ties included
        order = np.arange(len(texts)) if in_order else np.argsort([-len(text) for text in texts])
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            chosen = order[start:start + batch_size]
            vectors[chosen] = self._forward([texts[i] for i in chosen]).float().cpu().numpy()
        return vectors

    def _forward(self, texts: list[str]) -> Any:
        torch = self._torch
        functional = torch.nn.functional
        weights = self.weights
        encodings = self.tokenizer.encode_batch([tokenized_start(text, self.spec.max_length) for text in texts]
                                                if self._cut else texts)
        length = max(len(encoding.ids) for encoding in encodings)
        ids = torch.full((len(texts), length), self.pad_id, dtype=torch.long)
        types = torch.zeros((len(texts), length), dtype=torch.long)
        mask = torch.zeros((len(texts), length), dtype=torch.long)
        for row, encoding in enumerate(encodings):
            ids[row, :len(encoding.ids)] = torch.tensor(encoding.ids, dtype=torch.long)
            types[row, :len(encoding.ids)] = torch.tensor(encoding.type_ids, dtype=torch.long)
            mask[row, :len(encoding.ids)] = 1
        ids, types, mask = ids.to(self.device), types.to(self.device), mask.to(self.device)

        def linear(x: Any, name: str) -> Any:
            return functional.linear(x, weights[name + ".weight"], weights[name + ".bias"])

        def norm(x: Any, name: str) -> Any:
            return functional.layer_norm(x, (x.shape[-1],), weights[name + ".weight"], weights[name + ".bias"], self.eps)

        with torch.inference_mode():
            batch, width = ids.shape
            x = (functional.embedding(ids, weights["embeddings.word_embeddings.weight"])
                 + functional.embedding(types, weights["embeddings.token_type_embeddings.weight"]))
            x = norm(x + weights["embeddings.position_embeddings.weight"][:width], "embeddings.LayerNorm")
            attend = None if bool(mask.all()) else mask.bool()[:, None, None, :]
            head = x.shape[-1] // self.heads
            for layer in range(self.layers):
                prefix = f"encoder.layer.{layer}."
                q, k, v = (linear(x, prefix + "attention.self." + part).view(batch, width, self.heads, head).transpose(1, 2)
                           for part in ("query", "key", "value"))
                attended = functional.scaled_dot_product_attention(q, k, v, attn_mask=attend, scale=head ** -0.5)
                attended = attended.transpose(1, 2).reshape(batch, width, -1)
                x = norm(linear(attended, prefix + "attention.output.dense") + x, prefix + "attention.output.LayerNorm")
                inner = functional.gelu(linear(x, prefix + "intermediate.dense"))
                x = norm(linear(inner, prefix + "output.dense") + x, prefix + "output.LayerNorm")
            if self.spec.pooling == "cls":
                pooled = x[:, 0]
            else:
                weight = mask.unsqueeze(-1).to(x.dtype)
                total = (x * weight).sum(dim=1, dtype=torch.float32)
                pooled = (total / torch.clamp(weight.sum(dim=1, dtype=torch.float32), min=1e-9)).to(x.dtype)
            if self.spec.normalize:
                pooled = functional.normalize(pooled, p=2, dim=1)
            return functional.normalize(pooled, p=2, dim=1)
