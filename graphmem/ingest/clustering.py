"""Clustering stage: MemGAS-style ASSOCIATED links and GMM topics per granularity.

Association: each new turn, episode and session is compared with historical units of
those three granularities (stored ones through the ANN indexes, and units of earlier
sessions of the same batch); a 2-component Gaussian mixture over its similarity scores
separates related from unrelated candidates (:mod:`graphmem.cluster.associate`). Units
of the same session are never candidates: associations join memories far apart.

Topics: per granularity (turn, event, episode, session) a :class:`TopicModel` is fitted
on the first data and new units are assigned to its topics. When new data no longer fits
(mean log-likelihood drop beyond the model's threshold), or on
:meth:`ClusteringStage.recluster`, the granularity is refitted on all its units and its
Topic nodes are replaced in the same transaction.

The fitted model (its JSON state) is stored on the granularity's first Topic node, written
in the same transaction as the topics it describes, so the model and the Topic nodes can
never disagree: a process killed right after a commit loses nothing, and a re-run makes
the decisions an uninterrupted run would have made. A stored model whose topic ids do not
match the granularity's Topic nodes (topics deleted by ``forget``, or written by two
writers at once) is ignored and the granularity is refitted. After a forget,
:meth:`ClusteringStage.after_forget` refits or relabels only what the forget demands; a model
relabelled in place records the seed its topic ids were made from (``id_seed``), so they stay.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from graphmem.cluster import AssociationConfig, TopicConfig, TopicModel, associate_batch, link_hierarchy, membership_rows
from graphmem.cluster.topics import preload as preload_topic_fitting
from graphmem.cluster.topics import FitPaused, Mixtures, fit_models, text_terms
from graphmem.changes import marker_id
from graphmem.ids import node_id
from graphmem.index import majority_dimension, split_embeddings
from graphmem.ingest.types import StageOutput, UnitBatch
from graphmem.signals import reraise_stop
from graphmem.store import GraphStore, chunked

__all__ = ["ClusteringStage", "UnitBatch", "ASSOCIATED_UNITS", "TOPIC_UNITS", "terms_no_member_gives"]

logger = logging.getLogger(__name__)

ASSOCIATED_UNITS = ("turn", "episode", "session")
TOPIC_UNITS = ("event", "turn", "episode", "session")
# child granularity -> parent granularity for (Topic)-[:WITHIN]->(Topic)
HIERARCHY = (("event", "turn"), ("turn", "episode"), ("episode", "session"))
SESSION_TOPICS = TopicConfig(min_cluster_size=3, pca_dims=16)
MUTABLE_UNITS = ("episode", "session")
"""Granularities whose stored units change in place under the same id (a live add grows the
open episode and every session's mean; a correction recomputes both)."""
LIVE_FIRST_FIT = 32
"""Units of a granularity that live adds let wait for topics before its first fit (a GMM
needs a few units per topic; batch ingest fits on whatever one ingest brings)."""
REFIT_FRACTION = 0.1
"""Live adds and batch ingests test whether new units still fit their topics once the units
assigned since the fit number this fraction of the fitted units, and refit only then: a refit
reads and fits every unit of the granularity (20 turns ingested into a 100,000-turn memory
took 64 s when each ingest was tested, the refit's reads 24 s and its writes 27 s), so its
cost must not come with every small write to a large memory."""

PROBE_TEXTS = 5
"""Members read per (topic, label term) when a forget checks whether the term is still said
(see :meth:`ClusteringStage._labels_lost_words`)."""


LEDGER_SESSIONS = 256
"""Most sessions a placing transaction looks in through the topic-placement ledger; with more it
looks through every unit. At 100,000 turns in 4,001 sessions, looking for units without a topic in
100 sessions took 0.1 s for their turns and 0.09 s for their episodes, in all 4,001 sessions 3.1 s
and 3.9 s, against 2.2 s and 0.27 s for looking through every turn and episode."""

WITHIN_CHUNK = 1 << 22
"""Most scores (rows x units) of one batch-against-batch product in :func:`_earlier_sessions`."""


@dataclass(frozen=True)
class _Ledger:
    """Where a placing transaction looks for units without a topic (the topic-placement ledger).

    Every transaction that writes units of a session counts one on the session
    (``write/mark_sessions_placing``); the placing transaction looks in the sessions with a
    count, or with none yet (written before the ledger), and puts their counts back to 0
    (``write/settle_sessions``, unless a write counted since they were read). A write that keeps
    no ledger (an import, a user's Cypher write) sets the marker's ``placing_unknown``: then every
    unit of the namespace is looked through (``whole``), as before the ledger. At 100,000 turns
    the looks through every turn and episode took 2.7 and 0.4 s of each batch ingest."""

    sessions: tuple[str, ...]
    seen: tuple[tuple[str, int], ...]  # (session id, its count as read; -1: none)
    whole: bool
    version: int | None  # the marker's version as read (``whole``: settled only if still that)

    @classmethod
    def of(cls, marker: list[dict[str, Any]], sessions: list[dict[str, Any]]) -> _Ledger:
        """The ledger as read: the namespace is looked through whole until a placing transaction
        has looked through it all once (``placing_unknown`` false), and again after a write that
        keeps no ledger; or when the ledger names more than :data:`LEDGER_SESSIONS` sessions."""
        counts = tuple((str(r["id"]), -1 if r.get("placing") is None else int(r["placing"])) for r in sessions)
        whole = not marker or marker[0].get("unknown") is not False
        return cls(sessions=tuple(node for node, _ in counts), seen=counts, whole=whole,
                   version=int(marker[0]["version"]) if marker else None)

    def unplaced_read(self, unit: str, namespace: str) -> tuple[str, dict[str, Any]] | None:
        """The read of the granularity's units without a topic (``None``: nothing to look in)."""
        if self.whole or len(self.sessions) > LEDGER_SESSIONS:
            return f"read/unplaced_{unit}", {"namespace": namespace}
        if not self.sessions:
            return None
        return f"read/unplaced_{unit}_in_sessions", {"namespace": namespace, "sessions": list(self.sessions)}

    def settle(self, namespace: str, batch_size: int) -> list[tuple[str, dict[str, Any]]]:
        """The statements of the placing transaction that record what it looked through."""
        out: list[tuple[str, dict[str, Any]]] = [
            ("write/settle_sessions", {"namespace": namespace, "rows": [{"id": node, "seen": seen} for node, seen in chunk]})
            for chunk in chunked(list(self.seen), batch_size)]
        if self.whole and self.version is not None:  # looked through whole: the ledger is whole from here on
            out.append(("write/settle_placing_unknown", {"namespace": namespace, "rows": [
                {"id": marker_id(namespace), "version": self.version}]}))
        return out


_WHOLE = _Ledger(sessions=(), seen=(), whole=True, version=None)
"""Looks through every unit (what a live add's first fit does, with no ledger read)."""


def _ledger_reads(namespace: str) -> list[tuple[str, dict[str, Any]]]:
    """The reads :meth:`_Ledger.of` takes, in the order they must run (before the looks)."""
    return [("read/placing_unknown", {"namespace": namespace, "id": marker_id(namespace)}),
            ("read/placing_sessions", {"namespace": namespace})]


def _earlier_sessions(src: UnitBatch, dst: UnitBatch, top_n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per unit of ``src``, the ``top_n`` best units of ``dst`` from an earlier session: ids
    ``(n, m)`` (object) and scores ``(n, m)`` (float32, -inf where a row has fewer), best
    first, ties by position in ``dst``; the rows are scored in chunks (bounded memory)."""
    n, width = len(src.ids), min(top_n, len(dst.ids))
    dst_ids = np.empty(len(dst.ids), dtype=object)
    dst_ids[:] = dst.ids
    dst_sessions = np.asarray(dst.sessions)
    src_sessions = np.asarray(src.sessions)
    dst_vectors = np.asarray(dst.vectors, dtype=np.float32)
    ids = np.empty((n, width), dtype=object)
    scores = np.full((n, width), -np.inf, dtype=np.float32)
    step = max(1, WITHIN_CHUNK // max(len(dst.ids), 1))
    for start in range(0, n, step):
        block = slice(start, min(start + step, n))
        sims = np.asarray(src.vectors[block], dtype=np.float32) @ dst_vectors.T
        earlier = dst_sessions[None, :] < src_sessions[block, None]
        sims = np.where(earlier, sims, np.float32(-np.inf))
        best = np.argsort(-sims, axis=1, kind="stable")[:, :width]
        scores[block] = np.take_along_axis(sims, best, axis=1)
        ids[block] = dst_ids[best]
    return ids, scores


def _best_candidates(scores: np.ndarray, ids: np.ndarray, grans: np.ndarray,
                     top_n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's ``top_n`` candidates by score, ties by id, scores as float64 with NaN where a
    row has fewer (the padding :func:`~graphmem.cluster.associate_batch` ignores)."""
    valid = np.isfinite(scores)
    flat = ids.ravel().tolist()
    position = {node: i for i, node in enumerate(sorted(set(flat)))}  # ranks the ids (object-array sorts compare in Python)
    rank = np.fromiter((position[node] for node in flat), dtype=np.int64, count=len(flat)).reshape(ids.shape)
    keys = np.where(valid, -scores.astype(np.float64), np.inf)
    order = np.lexsort((rank, keys), axis=1)[:, :top_n]
    best = np.take_along_axis(scores, order, axis=1).astype(np.float64)
    best[~np.take_along_axis(valid, order, axis=1)] = np.nan
    return np.take_along_axis(ids, order, axis=1), best, np.take_along_axis(grans, order, axis=1)


def _fingerprint(state: dict[str, Any]) -> str:
    return _fingerprint_text(json.dumps(state, sort_keys=True))


def _fingerprint_text(state_json: str) -> str:
    """:func:`_fingerprint` of the state whose ``json.dumps(state, sort_keys=True)`` is ``state_json``."""
    return hashlib.sha256(state_json.encode("utf-8")).hexdigest()[:16]


class ClusteringStage:
    """Plans ASSOCIATED, Topic, IN_TOPIC and WITHIN writes for a batch of new units.

    Args:
        store: the graph store (reads the fitted topic models, and units when a granularity
            is refitted).
        index_for: ``index_for(unit)`` returns the namespace's ANN index of stored units.
        cache_dir: the namespace's cache directory (unused: fitted topic models live in the
            store, beside their Topic nodes; kept so callers need not change).
        namespace: the tenant.
        association: association settings; topic: topic settings (sessions use smaller clusters).
        preload: import scikit-learn's fitting parts now (see :func:`graphmem.cluster.topics.preload`).
    """

    def __init__(self, store: GraphStore, index_for: Callable[[str], Any], cache_dir: Path, namespace: str,
                 association: AssociationConfig | None = None, topic: TopicConfig | None = None, batch_size: int = 2000,
                 preload: bool = True) -> None:
        self.store = store
        self.index_for = index_for
        self.cache_dir = Path(cache_dir) / "topics"
        self.namespace = namespace
        self.association = association or AssociationConfig(max_links=3)
        self.topic = topic or TopicConfig()
        self.batch_size = batch_size
        self._refit_count = 0
        self._pending: dict[str, tuple[TopicModel, list[str]]] = {}
        # unit -> {id: (vector, text)} of units seen by this stage (see _stored_units)
        self._known: dict[str, dict[str, tuple[np.ndarray, str]]] = {}
        # live adds: the models kept between adds, units assigned since each fit, units waiting for a first fit
        self._live: dict[str, tuple[TopicModel, list[str]] | None] = {}
        self._live_since: dict[str, list[np.ndarray]] = {}
        self._live_waiting: dict[str, int] = {}
        # unit -> units batch ingests assigned to the stored model since its fit (read with it)
        self._assigned: dict[str, int] = {}
        # unit -> ((ids, speakers), model) fitted by prefit for the next place
        self._prefitted: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], TopicModel]] = {}
        # unit -> ((ids, speakers), mixtures) of a prefit that paused, to go on from
        self._paused: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], Mixtures]] = {}
        # (query, params) -> rows read ahead for the place running now (see read_ahead)
        self._ahead: dict[tuple[str, str], list[dict[str, Any]]] = {}
        # where the place running now looks for units without a topic (None: everywhere)
        self._ledger: _Ledger | None = None
        # unit -> (ids, memberships, topic ids) of every unit of a granularity refitted by
        # recluster or after_forget, kept for linking the hierarchy (None: not kept)
        self._refits: dict[str, tuple[list[str], np.ndarray, list[str]]] | None = None
        if preload:
            preload_topic_fitting()

    # ------------------------------------------------------------------ association
    def _associations(self, batches: dict[str, UnitBatch], exclude: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
        """Candidates of each new unit of ``batches`` and the links the mixtures accept.

        A unit's candidates are its ``top_n`` best-scoring units among the stored ones of the
        three granularities (from the ANN indexes, less ``exclude``) and the batch's own units
        of earlier sessions, ordered by score, ties by id; gathered for all units of a
        granularity at once (LoCoMo dev: association took 0.40 s of an ingest gathered unit
        by unit in Python, 0.24 s so; the few near-tied scores of the batch product can order
        differently from a unit-by-unit product, the evaluation figures did not move)."""
        top_n = self.association.top_n
        pool = [(unit, batches[unit]) for unit in ASSOCIATED_UNITS if unit in batches and batches[unit].ids]
        rows: list[dict[str, Any]] = []
        for src_unit, src in pool:
            scores, ids, grans = [], [], []
            for dst_unit in ASSOCIATED_UNITS:
                found, score = self.index_for(dst_unit).query_arrays(src.vectors, top_n + min(len(exclude), 4 * top_n))
                if exclude and found.size:
                    score = np.where(np.frompyfunc(exclude.__contains__, 1, 1)(found).astype(bool), np.float32(-np.inf), score)
                scores.append(score)
                ids.append(found)
                grans.append(np.full(found.shape, dst_unit, dtype=object))
                dst = batches.get(dst_unit)
                if dst is not None and dst.ids:
                    within_ids, within_scores = _earlier_sessions(src, dst, top_n)
                    scores.append(within_scores)
                    ids.append(within_ids)
                    grans.append(np.full(within_ids.shape, dst_unit, dtype=object))
            cand_ids, cand_scores, cand_grans = _best_candidates(np.hstack(scores), np.hstack(ids), np.hstack(grans), top_n)
            links = associate_batch(cand_ids, cand_scores, self.association, candidate_granularities=cand_grans, src_ids=src.ids)
            rows.extend({"src": src.ids[link.src_index], "dst": link.candidate_id, "w": float(link.weight),
                         "granularity": link.granularity, "method": link.method, "src_unit": src_unit, "dst_unit": link.granularity}
                        for link in links)
        return rows

    # ------------------------------------------------------------------ topics
    def _read(self, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """``store.read(name, params)``, or its rows read ahead for this :meth:`place` (once)."""
        rows = self._ahead.pop(_read_key(name, params), None)
        return self.store.read(name, params) if rows is None else rows

    def read_ahead(self, refit: Iterable[str] = ()) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """The reads :meth:`place` starts with, done now: for a batch ingest to run in its writer
        thread right after its last commit, while this stage's mixtures are fitted (:meth:`prefit`),
        and hand to :meth:`place` (``ahead``).

        Every granularity's units without a topic and its stored model; for the granularities in
        ``refit`` (those :meth:`prefit` fits), also their unit ids, their topics' ids and the
        parents of the units that link their topics into the hierarchy. Rows :meth:`place` does
        not ask for (a refit it does not do) are dropped. LongMemEval dev12: these reads took 1.7
        of place's 2 s, after the fits (5.8 s) instead of beside them."""
        params = {"namespace": self.namespace}
        refit = set(refit)
        ledger_rows = [(_read_key(name, values), self.store.read(name, values)) for name, values in _ledger_reads(self.namespace)]
        ledger = _Ledger.of(*(rows for _, rows in ledger_rows))
        done = dict(ledger_rows)
        reads = [*(read for read in (ledger.unplaced_read(unit, self.namespace) for unit in TOPIC_UNITS) if read is not None),
                 *(("read/topic_model", {**params, "granularity": unit}) for unit in TOPIC_UNITS),
                 *((f"read/topic_unit_ids_{unit}", params) for unit in TOPIC_UNITS if unit in refit),
                 *(("read/topic_ids", {**params, "granularity": unit}) for unit in TOPIC_UNITS if unit in refit),
                 *((f"read/topic_parents_{child}", params) for child, parent in HIERARCHY
                   if child in refit or parent in refit)]
        done.update((_read_key(name, values), self.store.read(name, values)) for name, values in reads)
        return done

    def _topic_ids(self, unit: str, fingerprint: str, n_topics: int) -> list[str]:
        return [node_id(self.namespace, "topic", unit, fingerprint, t) for t in range(n_topics)]

    def _load_model(self, unit: str) -> tuple[TopicModel, list[str]] | None:
        """The granularity's fitted model from the store, if it matches its Topic nodes."""
        found = self._read_model(unit, self._read("read/topic_model", {"namespace": self.namespace, "granularity": unit}))
        return None if found is None else (found[0], found[1])

    def _read_model(self, unit: str, rows: list[dict[str, Any]]) -> tuple[TopicModel, list[str], str] | None:
        """The model stored on the Topic ``rows`` of ``unit``, their ids, and the seed the ids
        are made from (the state's fingerprint; a model relabelled in place keeps the seed of
        its fit, so its topics keep their ids): ``None`` when it does not match them."""
        states = [r["state"] for r in rows if r.get("state")]
        self._assigned[unit] = sum(int(r.get("assigned") or 0) for r in rows)
        if not rows:
            return None
        if len(states) != 1:
            logger.info("%s topics: %d stored models for %d topics; refitting", unit, len(states), len(rows))
            return None
        try:
            state = json.loads(states[0])
            model = TopicModel.from_state(state)
        except Exception as exc:  # an unreadable model is refitted from the stored units
            reraise_stop(exc)
            logger.warning("%s topic model unreadable; refitting", unit, exc_info=True)
            return None
        seed = state.get("id_seed") or _fingerprint(state)
        topic_ids = self._topic_ids(unit, seed, model.n_topics_)
        if set(topic_ids) != {r["id"] for r in rows}:
            logger.info("%s topic model does not match its %d Topic nodes; refitting", unit, len(rows))
            return None
        return model, topic_ids, seed

    def _stored_units(self, unit: str, dimension: int) -> tuple[list[str], np.ndarray, list[str]]:
        """Every stored unit of the granularity, in conversation order, with vector and text.

        The ids come from the store (the truth: units forgotten or written by another
        writer are seen); vectors and texts come from memory for units this stage has
        already seen, and only the rest are read, since moving embeddings out of the store
        is the slow part of a refit. What is kept is what is stored: an event never changes
        (its id is a hash of its content); a turn changes only by a correction, which comes
        through :meth:`place_live` and is kept anew there; episodes and sessions grow and
        are recomputed in place by live adds, so :meth:`commit_live` forgets them (another
        writer's changes make the memory drop the whole live writer), and a batch ingest
        hands over the new mean of a stored session it appends to (:meth:`remember`). The id read does not look at embeddings (loading each unit's
        384 floats to test them made it 3-10x slower); a unit stored without one is skipped
        by the read of the rest, and so is one whose embedding is malformed (damage made outside
        graphmem, which ``graphmem check`` names; see :func:`~graphmem.index.split_embeddings`)."""
        params = {"namespace": self.namespace}
        ids = [r["id"] for r in self._read(f"read/topic_unit_ids_{unit}", params)]
        known = self._known.setdefault(unit, {})
        missing = [node for node in ids if node not in known]
        for row, vector in self._sound_units(unit, missing, dimension, "left out of the topic fit"):
            known[str(row["id"])] = (vector, row.get("text") or "")
        ids = [node for node in ids if node in known]
        vectors = (np.stack([known[node][0] for node in ids]) if ids else np.zeros((0, dimension), np.float32)).reshape(len(ids), dimension)
        return ids, vectors, [known[node][1] for node in ids]

    def _sound_units(self, unit: str, ids: list[str], dimension: int | None,
                     outcome: str) -> Iterator[tuple[dict[str, Any], np.ndarray]]:
        """Stored embedding, text, parent and session of the granularity's units ``ids`` with each
        one's float32 vector, read batch by batch (a batch's floats are Python objects; one
        conversion per batch when all are sound). A unit whose embedding is malformed (not
        ``dimension`` finite numbers; ``None``: the length most of a batch have; damage ``graphmem
        check`` names, see :func:`~graphmem.index.split_embeddings`) is left out, and a warning
        says so with ``outcome``."""
        malformed: list[str] = []
        for batch in chunked(ids, self.batch_size):
            rows = self.store.read(f"read/topic_units_by_id_{unit}", {"namespace": self.namespace, "ids": list(batch)})
            read, vectors, bad = split_embeddings(rows, dimension or majority_dimension(rows))
            vector_of = dict(zip(read, vectors))
            malformed += bad
            for row in rows:
                vector = vector_of.get(str(row["id"]))
                if vector is not None:
                    yield row, vector
        if malformed:
            logger.warning("%d stored %s(s) with a malformed embedding %s: %s; graphmem check names them",
                           len(malformed), unit, outcome, ", ".join(malformed[:5]))

    def remember(self, unit: str, batch: UnitBatch) -> None:
        """Keep the batch's vectors and texts for later refits in this stage's lifetime: new
        units, and stored ones a transaction changes in place (a stored session's new mean),
        which later fits then take as written, not as a read during that commit found them."""
        known = self._known.setdefault(unit, {})
        for node, vector, text in zip(batch.ids, batch.vectors, batch.texts):
            known[node] = (vector, text)

    def _config(self, unit: str) -> TopicConfig:
        return SESSION_TOPICS if unit == "session" else self.topic

    def _topics(self, unit: str, batch: UnitBatch, output: StageOutput, force: bool = False,
                speakers: tuple[str, ...] = ()) -> np.ndarray | None:
        """Assign the batch to the granularity's topics (refitting when needed); returns memberships."""
        self.remember(unit, batch)  # stored now or in this transaction: a refit takes them from memory
        loaded = None if force else self._load_model(unit)
        refit = loaded is None or self._refit_due(unit, loaded[0], batch.vectors)
        if not refit:
            model, topic_ids = loaded  # type: ignore[misc]
            memberships = model.assign(batch.vectors)
            rows = [(batch.ids[i], topic_ids[t], p) for i, t, p in membership_rows(memberships)]
            output.statements.append(("write/count_topic_assignments", {
                "namespace": self.namespace, "rows": [{"id": topic_ids[0], "keep": 1, "n": len(batch.ids)}]}))
        else:
            stored_ids, stored_vectors, stored_texts = self._stored_units(unit, batch.vectors.shape[1])
            known = set(stored_ids)
            fresh = [i for i, node in enumerate(batch.ids) if node not in known]
            ids = stored_ids + [batch.ids[i] for i in fresh]
            vectors = np.vstack([stored_vectors, batch.vectors[fresh]])
            texts = stored_texts + [batch.texts[i] for i in fresh]
            if not ids:
                return None
            ids, vectors, texts = _by_id(ids, vectors, texts)
            self._refit_count += 1
            model = self._fit(unit, ids, vectors, texts, speakers)
            # the model rides on its first Topic, in the same transaction as the topics; its
            # text is what _fingerprint hashes (LoCoMo dev: 70 ms of the end's placement to dump twice)
            model_state = json.dumps(model.to_state(), sort_keys=True)
            fingerprint = _fingerprint_text(model_state)
            topic_ids = self._topic_ids(unit, fingerprint, model.n_topics_)
            old = {r["id"] for r in self._read("read/topic_ids", {"namespace": self.namespace, "granularity": unit})}
            if loaded is not None:
                old.update(loaded[1])
            old.difference_update(topic_ids)
            if old:
                output.statements.append(("write/delete_topics", {"rows": [{"id": t} for t in sorted(old)]}))
            output.statements.append(("write/merge_topics", {"rows": [{"id": topic_ids[t], "props": {
                "namespace": self.namespace, "granularity": unit, "index": t, "label": model.topic_labels_[t],
                "terms": list(model.topic_terms_[t]), "size": int(model.topic_sizes_[t]),
                **({"model_state": model_state} if t == 0 else {})}} for t in range(model.n_topics_)]}))
            output.statements.append(("write/count_topic_assignments", {  # a fit that gives the same topic ids
                "namespace": self.namespace, "rows": [{"id": topic_ids[0], "keep": 0, "n": 0}]}))
            all_memberships = model.assign(vectors)
            rows = [(ids[i], topic_ids[t], p) for i, t, p in membership_rows(all_memberships)]
            if self._refits is not None:
                self._refits[unit] = (list(ids), all_memberships, topic_ids)
            position = {node: i for i, node in enumerate(ids)}
            memberships = all_memberships[[position[node] for node in batch.ids]] if batch.ids else all_memberships[:0]
            logger.info("%s topics (re)fitted on %d units: %d topics", unit, len(ids), model.n_topics_)
            output.counts[f"topics_{unit}"] = model.n_topics_
        self._pending[unit] = (model, topic_ids)
        output.statements.extend(_membership_statements(unit, rows, self.batch_size))
        return memberships

    def _refit_due(self, unit: str, model: TopicModel, vectors: np.ndarray) -> bool:
        """Whether a batch ingest refits the granularity for its new units (``vectors``) instead
        of assigning them to the stored model: only once the units assigned since the fit, these
        included, number :data:`REFIT_FRACTION` of the fitted ones, and then when these no
        longer fit it (:meth:`TopicModel.needs_refit`). Reads the count :meth:`_load_model`
        read with the model."""
        if self._assigned.get(unit, 0) + len(vectors) < _refit_share(model):
            return False
        return model.needs_refit(vectors)

    def _fit(self, unit: str, ids: list[str], vectors: np.ndarray, texts: list[str], speakers: tuple[str, ...]) -> TopicModel:
        """The granularity's topic model fitted on exactly these units (taken from :meth:`prefit`
        when it fitted the same ones: a unit's id is a hash of its content, and the units come
        sorted by id, so the same ids give the same model)."""
        key = (tuple(ids), tuple(speakers))
        early = self._prefitted.pop(unit, None)
        if early is not None and early[0] == key:
            logger.debug("%s topics: the model fitted ahead on the same %d units is taken", unit, len(ids))
            return early[1]
        if early is not None:
            logger.debug("%s topics: the units changed since the model fitted ahead; refitting", unit)
        return TopicModel(self._config(unit)).fit(vectors, texts, extra_stopwords=[s.lower() for s in speakers])

    def prefit(self, fresh: dict[str, UnitBatch], speakers: tuple[str, ...] = (),
               fitting: Callable[[list[str]], None] | None = None, pause: Callable[[], bool] | None = None) -> bool:
        """Fit ahead of :meth:`place` the granularities it will refit for ``fresh``, while the
        ingest's transactions (which store ``fresh``) are still committing.

        ``fresh`` holds, per granularity, every new unit of the ingest: the refit of
        :meth:`place` fits every stored unit of the granularity, which is then the units
        committed before the ingest and ``fresh``. :meth:`place` takes this model only when
        its own units are the same ones (nothing else written meanwhile), so the topics are
        those :meth:`place` alone would fit. A granularity fitted ahead already (an earlier
        call) is not fitted again.

        ``fitting(units)`` is called before the mixtures are fitted, with every granularity
        fitted ahead by now (this call's and earlier ones'): a batch ingest starts
        :meth:`read_ahead` there.

        ``pause()`` is asked before each mixture; once it says true the fits stop there and
        this returns ``False`` (else ``True``). The mixtures fitted so far are kept: a later
        call for the same units goes on from them (:class:`~graphmem.cluster.topics.Mixtures`:
        the same model as one fit without a pause)."""
        units: list[tuple[str, list[str]]] = []
        jobs = []
        for unit in TOPIC_UNITS:
            batch = fresh.get(unit)
            if batch is None or not batch.ids or unit in self._prefitted:
                continue
            loaded = self._load_model(unit)
            if loaded is not None and not self._refit_due(unit, loaded[0], batch.vectors):
                continue  # place assigns to the stored topics: nothing to fit
            self.remember(unit, batch)
            stored_ids, stored_vectors, stored_texts = self._stored_units(unit, batch.vectors.shape[1])
            known = set(stored_ids)
            new = [i for i, node in enumerate(batch.ids) if node not in known]
            ids, vectors, texts = _by_id(stored_ids + [batch.ids[i] for i in new], np.vstack([stored_vectors, batch.vectors[new]]),
                                         stored_texts + [batch.texts[i] for i in new])
            units.append((unit, ids))
            jobs.append((self._config(unit), vectors, texts, [s.lower() for s in speakers]))
        if fitting is not None:
            fitting(sorted({*self._prefitted, *(unit for unit, _ in units)}))
        keys = [(tuple(ids), tuple(speakers)) for _, ids in units]
        kept = []
        for (unit, _), key in zip(units, keys):
            paused = self._paused.get(unit)
            mixtures = paused[1] if paused is not None and paused[0] == key else Mixtures()
            mixtures.pause = pause
            self._paused[unit] = (key, mixtures)
            kept.append(mixtures)
        try:
            # the granularities side by side (LongMemEval dev12, 5,837 turns: the four took 7.0 s one after another)
            models = fit_models(jobs, mixtures=kept)
        except FitPaused:
            logger.debug("topics fitted ahead for %s: paused, %s mixtures kept", [u for u, _ in units],
                         [len(m.fitted) for m in kept])
            return False
        for (unit, _), key, model in zip(units, keys, models):
            self._prefitted[unit] = (key, model)
            self._paused.pop(unit, None)
        return True

    # ------------------------------------------------------------------ entry points
    def associate(self, batches: dict[str, UnitBatch], exclude: frozenset[str] = frozenset()) -> StageOutput:
        """Plan the ASSOCIATED links of a conversation's new units (in its transaction).

        ``exclude``: stored units that are never candidates (a live add names the units of
        the new unit's own session, which are stored already)."""
        output = StageOutput()
        links = self._associations(batches, exclude)
        for (src_unit, dst_unit), group in _group_links(links).items():
            output.statements.extend((f"write/create_associated_{src_unit}_{dst_unit}", {"rows": list(chunk)})
                                     for chunk in chunked(group, self.batch_size))
        output.counts["associations"] = len(links)
        return output

    def _unplaced(self, unit: str, fresh: UnitBatch | None, dimension: int | None) -> UnitBatch | None:
        """The granularity's stored units that belong to no topic yet, in conversation order.

        Normally exactly the units the ingest just committed (vectors, texts and parents
        come from ``fresh``); after a crash between a conversation's commit and the topics
        commit, also the ones that crash left unplaced (read from the store). As in
        :meth:`_stored_units`, a unit without an embedding is found but not read back, and one whose
        embedding is malformed (not ``dimension`` finite numbers; ``None``: the length most of them
        have) is left out with a warning: damage ``graphmem check`` names."""
        read = (self._ledger or _WHOLE).unplaced_read(unit, self.namespace)
        ids = [r["id"] for r in self._read(*read)] if read is not None else []
        if not ids:
            return None
        local = {node: i for i, node in enumerate(fresh.ids)} if fresh is not None else {}
        rows: dict[str, tuple[np.ndarray, str, str | None, int]] = {}
        for node in ids:
            if node in local:
                i = local[node]
                assert fresh is not None
                rows[node] = (fresh.vectors[i], fresh.texts[i], fresh.parents[i], fresh.sessions[i])
        missing = [node for node in ids if node not in rows]
        for row, vector in self._sound_units(unit, missing, dimension, "left without a topic"):
            parent = row.get("parent")
            if unit == "episode":  # an episode's parent is its session, named by content
                parent = node_id(self.namespace, "session", row["conversation_id"], row["session_key"])
            rows[row["id"]] = (vector, row.get("text") or "", parent, int(row.get("session") or 0))
        if missing:
            logger.info("%s topics: %d units left without a topic (an interrupted ingest) are placed now", unit, len(missing))
        ids = [node for node in ids if node in rows]  # one forgotten meanwhile is not read back
        if not ids:
            return None
        return UnitBatch(ids=ids, vectors=np.stack([rows[n][0] for n in ids]), texts=[rows[n][1] for n in ids],
                         parents=[rows[n][2] for n in ids], sessions=[rows[n][3] for n in ids])

    def place(self, fresh: dict[str, UnitBatch], speakers: tuple[str, ...] = (),
              ahead: dict[tuple[str, str], list[dict[str, Any]]] | None = None) -> StageOutput:
        """Plan topics for every unit without one: the units of the conversations an ingest
        just committed (``fresh``, by granularity) and any an interrupted ingest or live adds
        left, looked for in the sessions the topic-placement ledger names (:class:`_Ledger`),
        whose counts the same transaction settles.

        Per granularity the stored model takes them when they fit it, or the granularity is
        refitted on all its units; the Topic hierarchy (WITHIN) is linked from their
        memberships. Written in one transaction after the conversations' own, so a
        multi-conversation ingest fits each granularity once, not once per conversation.

        ``ahead``: rows :meth:`read_ahead` read since the last commit, taken instead of reading
        them again (each once; any read not there is done here)."""
        self._ahead = dict(ahead or {})
        try:
            self._ledger = _Ledger.of(*(self._read(name, values) for name, values in _ledger_reads(self.namespace)))
            output = self._place(fresh, speakers)
            output.statements.extend(self._ledger.settle(self.namespace, self.batch_size))
            return output
        finally:
            self._ahead = {}
            self._ledger = None

    def _place(self, fresh: dict[str, UnitBatch], speakers: tuple[str, ...]) -> StageOutput:
        output = StageOutput()
        self._pending = {}
        self._refits = {}
        batches: dict[str, UnitBatch] = {}
        memberships: dict[str, tuple[np.ndarray, list[str]]] = {}
        dimension = next((b.vectors.shape[1] for b in fresh.values() if b is not None), None)
        for unit in TOPIC_UNITS:
            batch = self._unplaced(unit, fresh.get(unit), dimension)
            if batch is None:
                continue
            batches[unit] = batch
            m = self._topics(unit, batch, output, speakers=speakers)
            if m is not None:
                memberships[unit] = (m, self._pending[unit][1])
        self._prefitted = {}  # fitted ahead for this place only
        self._paused = {}
        self._link_within(batches, memberships, output)
        return output

    def _link_within(self, batches: dict[str, UnitBatch], memberships: dict[str, tuple[np.ndarray, list[str]]],
                     output: StageOutput) -> None:
        """``(Topic)-[:WITHIN]->(Topic)`` for each pair of granularities (child, parent).

        When one of the two was refitted by this call (its topics are new, and their links
        went with the old ones), from the memberships of all their units: the refit's, else
        the stored ones with the batch's (``batches`` and ``memberships``, not stored yet) on
        top. Otherwise from the units of ``batches`` only: their links join those stored.
        Ends keeping refits."""
        refits, self._refits = self._refits or {}, None
        within = []
        for child, parent in HIERARCHY:
            if child in refits or parent in refits:
                parents = self._parents(child)
                if child in batches:
                    parents.update((node, up) for node, up in zip(batches[child].ids, batches[child].parents) if up)
                child_ids, child_m, child_topics = refits.get(child) or self._all_memberships(child, batches, memberships)
                parent_ids, parent_m, parent_topics = refits.get(parent) or self._all_memberships(
                    parent, batches, memberships, within=set(parents.values()))
            elif child in memberships and parent in memberships:
                (child_m, child_topics), (parent_m, parent_topics) = memberships[child], memberships[parent]
                child_ids, parent_ids = batches[child].ids, batches[parent].ids
                parents = {node: up for node, up in zip(child_ids, batches[child].parents) if up}
            else:
                continue
            row = {node: i for i, node in enumerate(parent_ids)}
            mapping = np.array([row.get(parents.get(node, ""), -1) for node in child_ids], dtype=np.int64)
            if not (mapping >= 0).any():
                continue
            within.extend({"child": child_topics[c], "parent": parent_topics[p], "w": float(w)}
                          for c, p, w in link_hierarchy(child_m, mapping, parent_m))
        output.statements.extend(("write/merge_within", {"rows": list(chunk)}) for chunk in chunked(within, self.batch_size))

    def _all_memberships(self, unit: str, batches: dict[str, UnitBatch], memberships: dict[str, tuple[np.ndarray, list[str]]],
                         within: set[str] | None = None) -> tuple[list[str], np.ndarray, list[str]]:
        """Every unit of the granularity in a topic, its memberships ``(n, k)`` and the topics'
        ids (the columns): the stored ones, with those of ``batches`` (planned, not stored) on top.

        ``within``: the units the links need (the parents of the granularity below, when only it
        was refitted); when they are at most one batch, only theirs are read, by id (20 turns
        ingested into a 100,000-turn memory whose few events were refitted read every turn's
        memberships, 4.1 s)."""
        params: dict[str, Any] = {"namespace": self.namespace}
        if within is not None and len(within) <= self.batch_size:
            found = self.store.read(f"read/topic_memberships_{unit}_by_ids", {**params, "ids": sorted(within)}) if within else []
        else:
            found = self.store.read(f"read/topic_memberships_{unit}", params)
        rows = [(r["id"], r["topic"], float(r["p"] or 0.0)) for r in found]
        if unit in memberships and unit in batches:
            planned, topic_ids = memberships[unit]
            rows.extend((batches[unit].ids[i], topic_ids[t], p) for i, t, p in membership_rows(planned))
        topics = sorted({topic for _, topic, _ in rows})
        ids, matrix = _membership_matrix(rows, topics)
        return ids, matrix, topics

    # ------------------------------------------------------------------ live adds
    def place_live(self, fresh: dict[str, UnitBatch], speakers: tuple[str, ...] = ()) -> StageOutput:
        """Plan topics for the units of one live add, without re-reading or refitting per add.

        Per granularity: before any model exists, units wait (unplaced, as ``check`` reports)
        until :data:`LIVE_FIRST_FIT` of them are waiting (a new writer counts the ones stored
        before it, so writers taking turns still reach a fit), then the granularity is fitted
        on every stored unit (:meth:`place`'s path). With a model, new
        units are assigned to its topics; the units assigned since its fit are tested
        with :meth:`TopicModel.needs_refit` once they number :data:`REFIT_FRACTION` of
        the fitted units (at least :data:`LIVE_FIRST_FIT`), and the granularity is refitted
        when they no longer fit, so an add's cost does not grow with the namespace except on
        those rare refits. The model is kept between adds (:meth:`commit_live`) and read
        from the store again after :meth:`drop_live`."""
        output = StageOutput()
        self._pending = {}
        self._refits = {}
        batches: dict[str, UnitBatch] = {}
        memberships: dict[str, tuple[np.ndarray, list[str]]] = {}
        for unit in TOPIC_UNITS:
            batch = fresh.get(unit)
            if batch is None or not batch.ids:
                continue
            if unit in self._known:
                self.remember(unit, batch)  # a corrected turn keeps its id: what is kept follows its new text
            if unit not in self._live:
                self._live[unit] = self._load_model(unit)
                self._live_since[unit] = []
            loaded = self._live[unit]
            since = self._live_since.setdefault(unit, [])
            m = None
            if loaded is None:
                if unit not in self._live_waiting:  # units another writer (or an earlier one) left waiting count too
                    self._live_waiting[unit] = len(self.store.read(f"read/unplaced_{unit}", {"namespace": self.namespace}))
                waiting = self._live_waiting[unit] + len(batch.ids)
                if waiting >= LIVE_FIRST_FIT:  # the running count takes a corrected unit twice: the store's decides
                    stored = {row["id"] for row in self.store.read(f"read/unplaced_{unit}", {"namespace": self.namespace})}
                    waiting = len(stored | set(batch.ids))
                self._live_waiting[unit] = waiting
                if waiting < LIVE_FIRST_FIT:
                    continue
                unplaced = self._unplaced(unit, None, batch.vectors.shape[1])
                merged = UnitBatch.concat([b for b in (unplaced, batch) if b is not None]) if unplaced is not None else batch
                keep = list(dict.fromkeys(merged.ids))
                first = {node: i for i, node in reversed(list(enumerate(merged.ids)))}
                rows = [first[node] for node in keep]
                merged = UnitBatch(ids=keep, vectors=merged.vectors[rows], sessions=[merged.sessions[i] for i in rows],
                                   texts=[merged.texts[i] for i in rows], parents=[merged.parents[i] for i in rows])
                m = self._topics(unit, merged, output, force=True, speakers=speakers)
                batch = merged
                self._live_waiting[unit] = 0
                since.clear()
            else:
                model, topic_ids = loaded
                recent = np.vstack([*since, batch.vectors]) if since else batch.vectors
                window = max(LIVE_FIRST_FIT, int(_refit_share(model)))  # units assigned since the fit that a test needs
                if len(recent) >= window and model.needs_refit(recent):
                    m = self._topics(unit, batch, output, force=True, speakers=speakers)
                    since.clear()
                else:
                    m = model.assign(batch.vectors)
                    self._pending[unit] = (model, topic_ids)
                    output.statements.extend(_membership_statements(
                        unit, [(batch.ids[i], topic_ids[t], p) for i, t, p in membership_rows(m)], self.batch_size))
                    since.append(batch.vectors)
                    if sum(len(v) for v in since) > window:
                        since[:] = [np.vstack(since)[-window:]]
            if m is not None and unit in self._pending:
                batches[unit] = batch
                memberships[unit] = (m, self._pending[unit][1])
        self._link_within(batches, memberships, output)
        return output

    def commit_live(self) -> None:
        """The live add's transaction committed: keep the models it used or fitted, and forget
        the kept episodes and sessions (an add grows or recomputes them in place)."""
        for unit, pending in self._pending.items():
            self._live[unit] = pending
        self._pending = {}
        for unit in MUTABLE_UNITS:
            self._known.pop(unit, None)

    def drop_live(self) -> None:
        """Forget the kept models and units (a write failed, or another writer may have refitted)."""
        self._live.clear()
        self._live_since.clear()
        self._live_waiting.clear()
        self._known.clear()
        self._pending = {}

    def recluster(self, dimension: int, speakers: tuple[str, ...] = ()) -> StageOutput:
        """Refit every granularity on all its stored units (explicit request), and link the
        new topics' hierarchy; the caller writes the output in one transaction and then
        calls :meth:`commit`."""
        output = StageOutput()
        self._pending = {}
        self._refits = {}
        empty = UnitBatch(ids=[], vectors=np.zeros((0, dimension), np.float32), sessions=[], texts=[], parents=[])
        for unit in TOPIC_UNITS:
            self._topics(unit, empty, output, force=True, speakers=speakers)
        self._link_within({}, {}, output)
        return output

    def _parents(self, unit: str) -> dict[str, str]:
        """Each unit of the granularity -> its parent unit (event: turn, turn: episode, episode: session)."""
        rows = self._read(f"read/topic_parents_{unit}", {"namespace": self.namespace})
        if unit == "episode":  # an episode's parent is its session, named by content
            return {r["id"]: node_id(self.namespace, "session", r["conversation_id"], r["session_key"]) for r in rows}
        return {r["id"]: r["parent"] for r in rows if r.get("parent") is not None}

    def after_forget(self, removed: dict[str, int], forgotten: set[str],
                     speakers: tuple[str, ...] = (), *, refit: bool = True) -> StageOutput:
        """Plan what the topics need after a forget removed ``removed[unit]`` units of each
        granularity; ``forgotten`` holds the terms of the forgotten texts (:func:`text_terms`).

        Per granularity with topics:

        * refitted on what remains (as :meth:`recluster`) when the forget deleted one of its
          topics (left without members: the model no longer matches its Topic nodes), or
          removed more than :data:`REFIT_FRACTION` of the units it was fitted on;
        * else relabelled in place (:meth:`TopicModel.relabel`: terms, labels and sizes from
          the members' texts; mixture and topic ids kept) when a term of a topic's label is
          among ``forgotten`` and no longer occurs in any text the topic holds, so that no
          label keeps a word only forgotten units gave;
        * else left as it is: every word of its labels is a word of a unit it holds (the
          removed units' share of the mixture's parameters is a mean over many units and
          holds no text).

        Refitting one granularity of a 10,000-turn memory reads and fits all its units
        (seconds); relabelling reads the texts of its members, and the test before it a few
        members of the topics whose labels share a term with ``forgotten`` (see
        :meth:`_labels_lost_words`). The caller writes
        the output in one transaction; ``counts`` gives ``topics_refitted`` and
        ``topics_relabelled``.

        With ``refit`` False (after a correction: ``forgotten`` holds the terms of the texts it
        replaced, ``removed`` nothing), only the relabelling is done, but for a granularity whose
        model does not match its Topic nodes (a namespace renamed on import: the topic ids are not
        its ids' recipe there), which cannot be relabelled and is refitted (a label kept the
        corrected-away word until the next add refitted it)."""
        output = StageOutput()
        output.counts.update(topics_refitted=0, topics_relabelled=0)
        self._pending = {}
        self._refits = {}
        empty: UnitBatch | None = None
        for unit in TOPIC_UNITS:
            rows = self.store.read("read/topic_model", {"namespace": self.namespace, "granularity": unit})
            if not rows:
                continue  # no topics yet (units waiting for a first fit): nothing to update
            found = self._read_model(unit, rows)
            if found is None or removed.get(unit, 0) > _refit_share(found[0]):
                if not refit and found is not None:
                    continue
                if empty is None:  # read only for a refit: finding a namespace's first turn scans its index
                    dimension = self.store.read("forget/embedding_dimension", {"namespace": self.namespace})
                    if not dimension:
                        break  # no turn is left to fit on (its topics went with the forget)
                    empty = UnitBatch(ids=[], vectors=np.zeros((0, int(dimension[0]["dimension"])), np.float32),
                                      sessions=[], texts=[], parents=[])
                self._topics(unit, empty, output, force=True, speakers=speakers)
                output.counts["topics_refitted"] += output.counts.pop(f"topics_{unit}", 0)
                continue
            model, topic_ids, seed = found
            if not self._labels_lost_words(unit, model, topic_ids, forgotten):
                continue
            output.statements.append(("write/relabel_topics", {"rows": self._relabelled(unit, model, topic_ids, seed, speakers)}))
            output.counts["topics_relabelled"] += model.n_topics_
        self._link_within({}, {}, output)
        return output

    def _labels_lost_words(self, unit: str, model: TopicModel, topic_ids: list[str], forgotten: set[str]) -> bool:
        """Whether a topic's label has a term of ``forgotten`` that none of its members' texts
        gives any more (only the topics whose labels share a term with ``forgotten`` are looked at;
        see :func:`terms_no_member_gives`)."""
        suspects = {topic_ids[t]: set(terms) & forgotten for t, terms in enumerate(model.topic_terms_)}
        return bool(terms_no_member_gives(self.store, self.namespace, unit, suspects, self.batch_size, first=True))

    def _relabelled(self, unit: str, model: TopicModel, topic_ids: list[str], seed: str,
                    speakers: tuple[str, ...]) -> list[dict[str, Any]]:
        """Rows of ``write/relabel_topics``: ``model`` relabelled from its members' stored
        texts and memberships, its state keeping the ids' ``seed``."""
        text_of: dict[str, str] = {}
        rows: list[tuple[str, str, float]] = []
        for row in self.store.read(f"read/topic_member_texts_{unit}", {"namespace": self.namespace}):
            if row.get("p") is not None:
                text_of[row["id"]] = row.get("text") or ""
                rows.append((row["id"], row["topic"], float(row["p"])))
        ids, memberships = _membership_matrix(rows, topic_ids)
        texts = [text_of[node] for node in ids]
        model.relabel(texts, memberships, extra_stopwords=[s.lower() for s in speakers])
        state = dict(model.to_state(), id_seed=seed)
        model_state = json.dumps(state, sort_keys=True)
        logger.info("%s topics relabelled from %d members", unit, len(texts))
        return [{"id": topic_ids[t], "label": model.topic_labels_[t], "terms": list(model.topic_terms_[t]),
                 "size": int(model.topic_sizes_[t]), "model_state": model_state if t == 0 else None}
                for t in range(model.n_topics_)]

    def commit(self) -> None:
        """Called after the transaction of the last :meth:`run` committed. The fitted models
        were written in that transaction (on their Topic nodes), so there is nothing left to
        persist; kept so callers need not know."""
        self._pending = {}


def _read_key(name: str, params: dict[str, Any]) -> tuple[str, str]:
    return name, json.dumps(params, sort_keys=True)


def _membership_matrix(rows: Iterable[tuple[str, str, float]], topics: list[str]) -> tuple[list[str], np.ndarray]:
    """``(unit, topic, p)`` rows as the units (in order of first appearance) and their
    memberships ``(n, len(topics))``, a column per topic of ``topics``; rows of other topics
    are left out."""
    column = {topic: t for t, topic in enumerate(topics)}
    kept = [(node, column[topic], p) for node, topic, p in rows if topic in column]
    position: dict[str, int] = {}
    for node, _, _ in kept:
        position.setdefault(node, len(position))
    matrix = np.zeros((len(position), len(topics)))
    for node, t, p in kept:
        matrix[position[node], t] = p
    return list(position), matrix


def _by_id(ids: list[str], vectors: np.ndarray, texts: list[str]) -> tuple[list[str], np.ndarray, list[str]]:
    """The units sorted by id: a fit sees the same units in the same order however they were
    gathered (so a model fitted ahead of time, see :meth:`ClusteringStage.prefit`, is the one
    fitted later)."""
    order = sorted(range(len(ids)), key=ids.__getitem__)
    return [ids[i] for i in order], vectors[order], [texts[i] for i in order]


def _refit_share(model: TopicModel) -> float:
    """:data:`REFIT_FRACTION` of the units ``model`` was fitted on."""
    return REFIT_FRACTION * sum(int(x) for x in model.topic_sizes_)


def _membership_statements(unit: str, rows: list[tuple[str, str, float]], batch_size: int) -> list[tuple[str, dict[str, Any]]]:
    """``write/merge_in_topic_<unit>`` statements for ``(unit_id, topic_id, p)`` rows, one row
    per membership (the first): the statement creates what is missing, and does not see its
    own creates."""
    first: dict[tuple[str, str], float] = {}
    for unit_id, topic_id, p in rows:
        first.setdefault((unit_id, topic_id), p)
    return [(f"write/merge_in_topic_{unit}", {"rows": [{"unit_id": u, "topic_id": t, "p": float(p)} for (u, t), p in chunk]})
            for chunk in chunked(list(first.items()), batch_size)]


def _group_links(links: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Links by their unit kinds, one per pair of units (the first: the statements create
    what is missing, and do not see their own creates)."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    seen: set[tuple[str, str]] = set()
    for link in links:
        if (link["src"], link["dst"]) in seen:
            continue
        seen.add((link["src"], link["dst"]))
        grouped.setdefault((link["src_unit"], link["dst_unit"]), []).append(
            {"src": link["src"], "dst": link["dst"], "w": link["w"], "granularity": link["granularity"], "method": link["method"]})
    return grouped


def terms_no_member_gives(store: GraphStore, namespace: str, unit: str, suspects: dict[str, set[str]], batch_size: int,
                          *, first: bool = False, confirm: bool = False) -> dict[str, set[str]]:
    """Of ``suspects`` (topic id -> terms of its label), the terms that none of the topic's
    members' texts gives any more: a forget or a correction took the last unit that said them
    (``first``: stop at the first such topic, whose terms may then be incomplete; ``confirm``:
    a term no probed text gives is lost only once the topic's member texts, read whole, do not
    give it either, so the database's lower-casing never makes a word seem lost).

    Each (topic, term) is probed first: up to :data:`PROBE_TEXTS` members whose lower-cased
    text holds the term's words (``read/topic_member_probe_of_*``). One of them giving the term
    settles that it is still said; fewer than that many, none giving it, that it is lost. Only a
    topic with a full probe and no text giving the term (its words inside longer ones, "ban" in
    "band") has its members' texts read whole. At 100,000 turns a forget read every member of
    each such topic, thousands of texts (about 0.1 s a topic); a probe reads a few. The probe's
    lower-casing is the database's: where it differs from Python's, a word can only seem lost,
    which relabels the topics from what they hold (what a lost word does), never keeps a word no
    member gives."""
    suspects = {topic: set(terms) for topic, terms in suspects.items() if terms}
    lost: dict[str, set[str]] = {}
    if not suspects:
        return lost
    probes = [(topic, term) for topic in sorted(suspects) for term in sorted(suspects[topic])]
    probed: dict[tuple[str, str], list[str]] = defaultdict(list)
    for batch in chunked(probes, batch_size):
        params = {"namespace": namespace, "limit": PROBE_TEXTS,
                  "probes": [{"topic": topic, "term": term, "words": term.split()} for topic, term in batch]}
        for row in store.read(f"read/topic_member_probe_of_{unit}", params):
            probed[(row["topic"], row["term"])].append(row.get("text") or "")
    unsure: dict[str, set[str]] = {}
    for topic, term in probes:
        texts = probed.get((topic, term), [])
        if term in text_terms(texts):
            continue
        if len(texts) < PROBE_TEXTS and not confirm:
            lost.setdefault(topic, set()).add(term)
            if first:
                return lost
            continue
        unsure.setdefault(topic, set()).add(term)
    if not unsure:
        return lost
    texts_of: dict[str, list[str]] = defaultdict(list)
    for batch in chunked(sorted(unsure), batch_size):
        for row in store.read(f"read/topic_member_texts_of_{unit}", {"namespace": namespace, "topics": list(batch)}):
            texts_of[row["topic"]].append(row.get("text") or "")
    for topic, terms in unsure.items():
        gone = terms - text_terms(texts_of[topic])
        if gone:
            lost.setdefault(topic, set()).update(gone)
            if first:
                return lost
    return lost
