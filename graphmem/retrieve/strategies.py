"""The retrieval strategies, each a function of a :class:`~graphmem.retrieve.types.QueryContext`
and the requested unit, returning a :class:`Ranking` over that unit's positions.

* ``dense`` -- cosine similarity (hnswlib or exact) at the requested granularity; finer
  units count for the coarser ones that hold them (an event for its turn, a turn for its
  episode and session): a unit scores the best of its own cosine and its members'.
* ``lexical`` -- BM25 (:mod:`~graphmem.retrieve.lexical`) over the unit's text; a session
  scores its best turn; units sharing no term follow the matches with score 0.
* ``activation`` -- spreading activation (truncated personalised PageRank,
  :func:`~graphmem.retrieve.activation.spread_activation`) over the hypergraph from the
  entities the query names (alias-aware; seed weight grows with the entity's specificity,
  ``ln(1 + events / (1 + events involving it))``) and the top dense hits; every unit kind
  is a node of the graph and is ranked by its own activation.
* ``expansion`` -- graph expansion: from the best hits of the base relevance (calibrated
  BM25 + cosine of each turn), walk to neighbours (adjacent turns, the same episode,
  events sharing a specific entity, ``ASSOCIATED`` memories) and re-score them:
  ``score = B(neighbour) + weight(edge) * B(seed)``; seeds score ``2 B(seed)``; turns not
  reached keep ``B``.
* ``auto`` -- the router (:func:`~graphmem.retrieve.router.route`: explicit dates, names,
  MemGAS entropy of the dense relevance per granularity) weighs the components of the
  hierarchical fusion (:func:`~graphmem.retrieve.hierarchy.score_turns`): lexical and
  dense evidence at turn (events pooled in) and episode level, expansion over adjacent
  turns, calendar match, and spreading activation when the plan asks for it; then the
  per-turn rules (an assistant's turns lowered, answers of the asked type and the named
  speaker's turns lifted); an episode or session scores its best turn, a session adding its
  best dense match scaled over the sessions (``session_dense_weight``).

Every ranking explains each result (``Ranking.explain(position)``) as a JSON-ready dict:
``strategy``, ``score``, and per strategy its evidence -- contributions per component,
route decisions, seeds, edges and paths, the unit a coarser hit was found through.

Every number they use comes from ``ctx.config`` (:class:`~graphmem.retrieve.config.RetrievalConfig`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from graphmem.ingest.common import SEQ_STRIDE
from graphmem.retrieve.activation import explain_node, spread_activation
from graphmem.retrieve.cues import ANSWER_KINDS
from graphmem.retrieve.fusion import normalize, relevance_entropy
from graphmem.retrieve.hierarchy import TurnSignals, diversify, score_turns
from graphmem.retrieve.projection import STATED_KINDS
from graphmem.retrieve.router import route
from graphmem.retrieve.types import QueryContext, Ranking, segment_max, top_k

__all__ = ["Ranking", "run", "activation_seeds"]

logger = logging.getLogger(__name__)


def run(strategy: str, ctx: QueryContext, unit: str) -> Ranking:
    """Run ``strategy`` for the query in ``ctx`` at ``unit``."""
    return _STRATEGIES[strategy](ctx, unit)


# --------------------------------------------------------------------------- helpers


def _best_in_segment(values: np.ndarray, start: int, end: int) -> int:
    if end <= start:
        return -1
    window = np.where(np.isfinite(values[start:end]), values[start:end], -np.inf)
    return start + int(np.argmax(window))


def _r(x: float) -> float:
    return round(float(x), 4) if math.isfinite(float(x)) else 0.0


def label(ctx: QueryContext, kind: str, pos: int) -> str:
    """A short readable name for a node: ``turn D1:3`` (``turn #2.5`` for the fifth turn of
    session 2 when it has no source id), ``entity Caroline``, ``session 2``, ``episode D1:1–D1:4``..."""
    p = ctx.projection

    def turn(at: int) -> str:  # its source id, or its place: "#2.5" is the fifth turn of session 2
        if p.turn_source[at]:
            return p.turn_source[at]
        session, index = divmod(int(p.turn_seq[at]), SEQ_STRIDE)
        return f"#{session}.{index + 1}"

    if kind == "turn":
        return f"turn {turn(pos)}"
    if kind == "event":
        text = p.event_text[pos]
        return f'event "{text[:70]}{"…" if len(text) > 70 else ""}"'
    if kind == "entity":
        return f"entity {p.entity_name[pos]}"
    if kind == "session":
        return f"session {int(p.session_number[pos])}"
    if kind == "episode":
        start, end = p.episode_segments[0][pos], p.episode_segments[1][pos]
        if end > start:
            return f"episode {turn(start)}–{turn(end - 1)}"
        return f"episode {p.episode_ids[pos][:16]}"
    if kind == "topic":
        return f"topic {p.topic_label[pos] or p.topic_ids[pos][:16]}"
    return f"{kind} {pos}"


def _label_of_id(ctx: QueryContext, node_id: str) -> str:
    kind = node_id.split(":", 1)[0]
    pos = ctx.projection.position.get(kind, {}).get(node_id)
    return label(ctx, kind, pos) if pos is not None else node_id


def _edge(ctx: QueryContext, source: str, target: str, type_: str, **extra: Any) -> dict[str, Any]:
    """An explanation edge between two node ids, with readable labels (JSON-ready)."""
    return {"type": type_, "from": _label_of_id(ctx, source), "source": source, "source_kind": source.split(":", 1)[0],
            "source_label": _label_of_id(ctx, source), "target": target, "target_kind": target.split(":", 1)[0],
            "target_label": _label_of_id(ctx, target), **extra}


def _shift_scored(turn_scores: np.ndarray, shift: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``turn_scores`` moved by ``shift`` where some component scored the turn (> 0), never below
    0 (the unscored mass stays at the floor ``top_k`` skips), and the shift as applied there."""
    scored = turn_scores > 0
    shift = shift * scored
    return np.where(scored, np.maximum(turn_scores + shift, 0.0), turn_scores), shift


def _turn_to_unit(ctx: QueryContext, turn_scores: np.ndarray, unit: str, event_bonus: np.ndarray | None = None) -> np.ndarray:
    p = ctx.projection
    if unit == "turn":
        return turn_scores
    if unit == "event":
        base = turn_scores[p.event_turn] if len(p.event_turn) else np.zeros(0)
        return base + event_bonus if event_bonus is not None else base
    starts, ends = p.session_segments if unit == "session" else p.episode_segments
    return segment_max(turn_scores, starts, ends)


def _owner_turn(ctx: QueryContext, unit: str, pos: int, turn_scores: np.ndarray) -> int:
    """The turn a unit-level result stands on: itself, its event's turn, or its best turn."""
    p = ctx.projection
    if unit == "turn":
        return pos
    if unit == "event":
        return int(p.event_turn[pos])
    starts, ends = p.session_segments if unit == "session" else p.episode_segments
    return _best_in_segment(turn_scores, int(starts[pos]), int(ends[pos]))


def _via(ctx: QueryContext, unit: str, turn: int) -> dict[str, Any]:
    if unit in ("session", "episode") and turn >= 0:
        return {"via": {"unit": "turn", "node_id": ctx.projection.turn_ids[turn], "label": label(ctx, "turn", turn)}}
    return {}


def _top_values(x: np.ndarray, k: int) -> np.ndarray:
    finite = x[np.isfinite(x)]
    if len(finite) > k:
        finite = np.partition(finite, len(finite) - k)[len(finite) - k:]
    return finite


def _event_bonus(ctx: QueryContext, weight: float) -> np.ndarray:
    return weight * normalize(ctx.dense("event"))


# --------------------------------------------------------------------------- dense


def dense(ctx: QueryContext, unit: str) -> Ranking:
    """Cosine similarity; a unit scores the best of its own cosine and its members'."""
    p = ctx.projection
    if unit == "event":
        scores = ctx.dense("event")
    elif unit == "turn":
        scores = ctx.dense_turn
    else:
        starts, ends = p.session_segments if unit == "session" else p.episode_segments
        members = segment_max(ctx.dense_turn, starts, ends)
        own = ctx.dense(unit)
        scores = np.fmax(own, np.where(np.isfinite(members), members, np.nan))

    def explain(pos: int) -> dict[str, Any]:
        out: dict[str, Any] = {"strategy": "dense", "score": _r(scores[pos])}
        detail: dict[str, Any] = {"cosine": _r(scores[pos])}
        turn = pos if unit == "turn" else -1
        if unit in ("session", "episode"):
            own = ctx.dense(unit)[pos]
            if not (np.isfinite(own) and own >= scores[pos]):
                turn = _owner_turn(ctx, unit, pos, ctx.dense_turn)
                out.update(_via(ctx, unit, turn))
            else:
                detail["matched"] = f"the {unit} embedding"
        if turn >= 0:
            event = ctx.best_event(turn)
            detail["matched"] = label(ctx, "event", event) if event >= 0 else label(ctx, "turn", turn)
        out["contributions"] = {"dense": _r(scores[pos])}
        out["dense"] = detail
        return out

    return Ranking("dense", scores, explain)


# --------------------------------------------------------------------------- lexical


def lexical(ctx: QueryContext, unit: str) -> Ranking:
    """BM25 over the unit's text (sessions: their best turn)."""
    p = ctx.projection
    if unit == "session":
        turn_scores = ctx.lexical("turn")
        scores = segment_max(turn_scores, *p.session_segments)
    else:
        scores = ctx.lexical(unit)

    def explain(pos: int) -> dict[str, Any]:
        out: dict[str, Any] = {"strategy": "lexical", "score": _r(scores[pos]), "contributions": {"lexical": _r(scores[pos])}}
        if unit == "session":
            turn = _owner_turn(ctx, unit, pos, ctx.lexical("turn"))
            out.update(_via(ctx, unit, turn))
            text, owner, position = (p.turn_text[turn] if turn >= 0 else ""), "turn", turn
        else:
            text, owner, position = {"turn": p.turn_text, "event": p.event_text, "episode": p.episode_text}[unit][pos], unit, pos
        out["lexical"] = {"bm25": _r(scores[pos]), "terms": ctx.matched_terms(text, owner, position)}
        return out

    # Units sharing no term score 0 and follow the matches in memory order, so that a
    # ranking always has k entries (as a BM25 ranking over the whole memory does).
    return Ranking("lexical", scores, explain)


# --------------------------------------------------------------------------- activation


def activation_seeds(ctx: QueryContext, hit_turns: np.ndarray | None = None, hit_scores: np.ndarray | None = None) -> tuple[dict[int, float], list[dict[str, Any]]]:
    """Seeds of spreading activation: the entities the query names and the top hits (those
    within ``config.seed_ratio`` of the best).

    Entities weigh ``ln(1 + E / (1 + d))`` (``E`` events, ``d`` events involving the
    entity: a speaker named in the query says little, a rare place a lot); hits weigh their
    score. When both kinds exist each gets half the mass.

    Returns:
        ``(seeds, described)``: global node position -> weight, and a readable list.
    """
    p = ctx.projection
    off = p.node_offset
    if hit_turns is None:
        base = ctx.dense_turn
        hit_turns = top_k(base, ctx.config.seed_hits)
        hit_scores = base[hit_turns]
    hit_turns = np.asarray(hit_turns, dtype=np.int64)
    hit_scores = np.asarray(hit_scores, dtype=np.float64)
    finite = np.isfinite(hit_scores) & (hit_scores > 0)
    if finite.any():
        keep = finite & (hit_scores >= ctx.config.seed_ratio * hit_scores[finite].max())
        hit_turns, hit_scores = hit_turns[keep], hit_scores[keep]
    events = max(len(p.event_ids), 1)
    entity_weights = {}
    for entity, _surface in ctx.entities:
        entity_weights[entity] = math.log(1.0 + events / (1.0 + float(p.entity_degree[entity]) if len(p.entity_degree) else 1.0))
    groups = []
    if entity_weights:
        groups.append([(off["entity"] + e, w, "entity", e) for e, w in entity_weights.items()])
    hits = [(int(t), float(s), "turn", int(t)) for t, s in zip(hit_turns, hit_scores) if s > 0]
    if hits:
        groups.append(hits)
    seeds: dict[int, float] = {}
    described = []
    for group in groups:
        total = sum(w for _, w, _, _ in group) or 1.0
        for node, w, kind, pos in group:
            share = w / total / len(groups)
            seeds[node] = seeds.get(node, 0.0) + share
            described.append({"kind": kind, "id": p.ids(kind)[pos], "label": label(ctx, kind, pos), "weight": _r(share)})
    return seeds, described


def _activation_explainer(ctx: QueryContext, scores: np.ndarray, seeds: dict[int, float], described: list[dict[str, Any]]):
    graph = ctx.engine.graph
    p = ctx.projection

    def graph_pos(node_id: str) -> int:
        kind = node_id.split(":", 1)[0]
        return p.node_offset[kind] + p.position[kind][node_id]

    vector = np.zeros(len(graph))
    for node, weight in seeds.items():
        vector[node] += weight
    vector /= vector.sum() or 1.0

    def explain(node: int) -> dict[str, Any]:
        why = explain_node(graph, scores, seeds, node, damping=ctx.config.damping, top=ctx.config.explain_edges,
                           max_path=ctx.config.explain_path, seed_vector=vector)
        return {
            "score": _r(why.score),
            "seed_share": _r(why.seed_share),
            "seeds": described,
            "edges": [_edge(ctx, e.source, why.node, "/".join(e.types), amount=_r(e.amount)) for e in why.top_edges],
            "path": [_label_of_id(ctx, n) for n in why.path],
            "trace": {"edges": [_edge(ctx, a, b, "/".join(graph.edges_between(graph_pos(a), graph_pos(b))) or "edge")
                                for a, b in zip(why.path, why.path[1:])]},
        }

    return explain


def activation(ctx: QueryContext, unit: str) -> Ranking:
    """Spreading activation from the query's entities and top dense hits."""
    p = ctx.projection
    seeds, described = activation_seeds(ctx)
    n = p.count(unit)
    if not seeds:
        logger.info("activation: nothing to seed from for %r; no results", ctx.text)
        return Ranking("activation", np.full(n, -np.inf), lambda pos: {}, floor=0.0)
    graph = ctx.engine.graph
    act = spread_activation(graph, seeds, damping=ctx.config.damping, steps=ctx.config.activation_steps,
                            prune=ctx.config.activation_prune)
    explain_node_at = _activation_explainer(ctx, act, seeds, described)
    turn_act = act[: p.n_turns]
    if unit in ("session", "episode"):  # a session (episode) is as active as its most active turn
        scores = _turn_to_unit(ctx, turn_act, unit)
    else:
        start = p.node_offset[unit]
        scores = act[start:start + n]

    def explain(pos: int) -> dict[str, Any]:
        out: dict[str, Any] = {"strategy": "activation", "score": _r(scores[pos]), "contributions": {"activation": _r(scores[pos])}}
        if unit in ("session", "episode"):
            turn = _owner_turn(ctx, unit, pos, turn_act)
            out.update(_via(ctx, unit, turn))
            out["activation"] = explain_node_at(turn)
        else:
            out["activation"] = explain_node_at(p.node_offset[unit] + pos)
        return out

    return Ranking("activation", scores, explain, floor=0.0)


# --------------------------------------------------------------------------- expansion


def base_relevance(ctx: QueryContext) -> np.ndarray:
    """Per turn: its min-max calibrated BM25 and best cosine (itself or its events), mixed
    ``config.base_lexical_share`` to the rest."""
    share = ctx.config.base_lexical_share
    return share * normalize(ctx.lexical("turn")) + (1.0 - share) * normalize(ctx.dense_turn)


def _neighbours(ctx: QueryContext, seed: int, relevance: np.ndarray) -> list[tuple[int, str, float]]:
    """``(turn, edge type, edge weight)`` for the turns graph expansion reaches from ``seed``."""
    p = ctx.projection
    weights = ctx.config.expansion_weights
    out: list[tuple[int, str, float]] = []
    for nb in (int(p.prev_turn[seed]), int(p.next_turn[seed])):
        if nb >= 0:
            out.append((nb, "NEXT", weights.get("NEXT", 0.0)))
    episode = int(p.turn_episode[seed])
    if episode >= 0:
        start, end = p.episode_segments[0][episode], p.episode_segments[1][episode]
        out.extend((int(t), "PART_OF", weights.get("PART_OF", 0.0)) for t in range(start, end) if t != seed)
    # events sharing a specific entity with the seed's events
    tindptr, tevents = p.turn_events
    eindptr, eentities = p.event_entities
    nindptr, nevents = p.entity_events
    limit = ctx.config.shared_entity_limit
    shared: set[int] = set()
    for event in tevents[tindptr[seed]:tindptr[seed + 1]]:
        for entity in eentities[eindptr[event]:eindptr[event + 1]]:
            if p.entity_degree[entity] > limit:
                continue
            for other in nevents[nindptr[entity]:nindptr[entity + 1]]:
                turn = int(p.event_turn[other])
                if turn != seed:
                    shared.add(turn)
    if shared:
        ranked = sorted(shared, key=lambda t: (-relevance[t], t))[:limit]
        out.extend((t, "INVOLVES", weights.get("INVOLVES", 0.0)) for t in ranked)
    # ASSOCIATED memories of the seed turn, its events and its episode
    assoc = ctx.engine.associations
    if assoc.nnz:
        off = p.node_offset
        nodes = [seed, *(off["event"] + tevents[tindptr[seed]:tindptr[seed + 1]])]
        if episode >= 0:
            nodes.append(off["episode"] + episode)
        for node in nodes:
            lo, hi = assoc.indptr[node], assoc.indptr[node + 1]
            for other, w in zip(assoc.indices[lo:hi], assoc.data[lo:hi]):
                kind, pos = p.global_kind(int(other))
                if kind == "turn":
                    turn = pos
                elif kind == "event":
                    turn = int(p.event_turn[pos])
                elif kind in ("episode", "session"):
                    starts, ends = p.episode_segments if kind == "episode" else p.session_segments
                    turn = _best_in_segment(relevance, int(starts[pos]), int(ends[pos]))
                else:
                    continue
                if turn >= 0 and turn != seed:
                    out.append((turn, "ASSOCIATED", weights.get("ASSOCIATED", 0.0) * float(min(w, 1.0))))
    return out


def expansion(ctx: QueryContext, unit: str) -> Ranking:
    """Graph expansion from the best hits, neighbours re-scored against the query."""
    p = ctx.projection
    relevance = base_relevance(ctx)
    seeds = [int(t) for t in top_k(relevance, ctx.config.expansion_seeds) if relevance[t] > 0]
    turn_scores = relevance.copy()  # turns not reached keep their own relevance
    origin: dict[int, tuple[int, int, str, float]] = {}  # turn -> (seed, seed rank, edge, edge weight)
    for rank, seed in enumerate(seeds, 1):
        candidates = [(seed, "seed", 1.0), *_neighbours(ctx, seed, relevance)]
        for turn, edge, weight in candidates:
            score = relevance[turn] + weight * relevance[seed]
            if score > turn_scores[turn]:
                turn_scores[turn] = score
                origin[turn] = (seed, rank, edge, weight)
    bonus = _event_bonus(ctx, ctx.config.event_weight) if unit == "event" else None
    scores = _turn_to_unit(ctx, turn_scores, unit, bonus)

    def explain(pos: int) -> dict[str, Any]:
        turn = _owner_turn(ctx, unit, pos, turn_scores)
        out: dict[str, Any] = {"strategy": "expansion", "score": _r(scores[pos])}
        out.update(_via(ctx, unit, turn))
        if turn not in origin:
            out["contributions"] = {"relevance": _r(relevance[turn])}
            if unit == "event" and bonus is not None:
                out["contributions"]["event:dense"] = _r(bonus[pos])
            out["expansion"] = {"seed": None, "edge": None, "relevance": _r(relevance[turn])}
            out["seeds"] = [{"kind": "turn", "id": p.turn_ids[s], "label": label(ctx, "turn", s), "relevance": _r(relevance[s])} for s in seeds]
            return out
        seed, rank, edge, weight = origin[turn]
        out["contributions"] = {"relevance": _r(relevance[turn]), f"expansion:{edge}": _r(weight * relevance[seed])}
        if unit == "event" and bonus is not None:
            out["contributions"]["event:dense"] = _r(bonus[pos])
        out["expansion"] = {"seed": label(ctx, "turn", seed), "seed_rank": rank, "edge": edge,
                            "edge_weight": _r(weight), "relevance": _r(relevance[turn])}
        out["expansion"]["edges"] = [] if edge == "seed" else [_edge(ctx, p.turn_ids[seed], p.turn_ids[turn], edge, weight=_r(weight))]
        out["seeds"] = [{"kind": "turn", "id": p.turn_ids[s], "label": label(ctx, "turn", s), "relevance": _r(relevance[s])} for s in seeds]
        return out

    return Ranking("expansion", scores, explain, floor=0.0)


# --------------------------------------------------------------------------- auto


def auto(ctx: QueryContext, unit: str) -> Ranking:
    """Router + hierarchical fusion over every granularity (the method measured on LoCoMo)."""
    p = ctx.projection
    config = ctx.config
    entropies = {}
    for granularity, values in (("turn", ctx.dense_turn), ("episode", ctx.dense("episode"))):
        top = _top_values(values, config.entropy_top_k)
        if len(top) >= 2:
            entropies[granularity] = relevance_entropy(top, top_k=config.entropy_top_k,
                                                       temperature=config.entropy_score_temperature)
    plan = route(ctx.features, entropies, config)
    act = None
    seeds: dict[int, float] = {}
    described: list[dict[str, Any]] = []
    if plan.uses("activation"):
        base = base_relevance(ctx)
        order = top_k(base, config.seed_hits)
        seeds, described = activation_seeds(ctx, order, base[order])
        if seeds:
            full = spread_activation(ctx.engine.graph, seeds, damping=config.damping, steps=config.activation_steps,
                                     prune=config.activation_prune)
            act = full
        else:
            logger.debug("auto: activation planned but nothing to seed from")
    turn_activation = None
    if act is not None:  # what flowed into each turn: its activation less its own restart share
        own = np.zeros(p.n_turns)
        for node, weight in seeds.items():
            if node < p.n_turns:
                own[node] += weight
        own *= (1.0 - config.damping) / (sum(seeds.values()) or 1.0)
        turn_activation = np.maximum(act[: p.n_turns] - own, 0.0)
    signals = TurnSignals(
        lexical_turn=ctx.lexical("turn"), dense_turn=ctx.dense_turn,  # already max-pooled with its events
        lexical_episode=ctx.lexical("episode") if len(p.episode_ids) else None,
        dense_episode=ctx.dense("episode") if len(p.episode_ids) else None,
        activation=turn_activation)
    fused = score_turns(ctx.engine.structure, signals, plan, time_year_mismatch=config.time_year_mismatch,
                         time_day_slack=config.time_day_slack, time_day_mismatch=config.time_day_mismatch)
    turn_scores = fused.scores
    asks = answers = None
    # every unit, in this order: (explanation part, per-turn shift applied, route line)
    shifts: list[tuple[str, np.ndarray, str | None]] = []
    if config.assistant_turn_penalty > 0 and not ctx.features.asks_assistant and p.turn_by_assistant.any():
        # a session ranked by an assistant's generic answer is not the user's memory
        turn_scores, shift = _shift_scored(turn_scores, -config.assistant_turn_penalty * p.turn_by_assistant)
        shifts.append(("assistant:turn", shift, None))
    typed = p.turns_naming(ctx.features.answer_labels) if config.answer_type_weight > 0 and ctx.features.answer_labels else None
    if typed is not None and typed.any():
        kinds = [kind for kind, labels in ANSWER_KINDS.items() if set(labels) & set(ctx.features.answer_labels)]
        how = " or ".join(dict.fromkeys("that state one" if set(ANSWER_KINDS[kind]) & set(STATED_KINDS)
                                        else "whose events name one" for kind in kinds))
        turn_scores, shift = _shift_scored(turn_scores, config.answer_type_weight * typed)
        shifts.append(("answer_type:turn", shift, f"asks for {' or '.join(kinds)} -> turns {how} "
                                                 f"+{config.answer_type_weight}"))
    named = (p.speaker_named(ctx.features.names) if config.named_speaker_weight > 0 and ctx.features.aggregation
             and ctx.features.names else None)
    if named is not None:
        own = p.speaker_codes[1] == named
        name = p.turn_speaker[int(np.flatnonzero(own)[0])]
        turn_scores, shift = _shift_scored(turn_scores, config.named_speaker_weight * own)
        shifts.append(("speaker:turn", shift, f"gathers what {name} did -> {name}'s turns +{config.named_speaker_weight}"))
    if unit in ("turn", "event"):  # coarser units keep their turns' own scores
        # only turns with some evidence move, and none below 0: the mass of turns no component
        # scored stays at the floor that top_k skips (partitioning it cost 5-66 ms at 100k turns)
        scored = turn_scores > 0
        adjusted = turn_scores.copy()
        if config.question_turn_penalty > 0 and len(p.turn_asks) == p.n_turns:
            asks = config.question_turn_penalty * p.turn_asks * scored
            adjusted -= asks
        if config.answer_turn_bonus > 0:
            answers = config.answer_turn_bonus * p.turn_answers * scored
            adjusted += answers
        turn_scores = np.where(scored, np.maximum(adjusted, 0.0), turn_scores)
    if plan.episode_diversity > 0 and unit in ("turn", "event"):  # coarser units keep their best turn's score
        turn_scores = diversify(turn_scores, p.turn_episode, plan.episode_diversity, config.diversity_depth,
                                config.diversity_free)
    bonus = _event_bonus(ctx, config.event_weight) if unit == "event" else None
    scores = _turn_to_unit(ctx, turn_scores, unit, bonus)
    whole = None
    if unit == "session" and config.session_dense_weight > 0:
        # a session is also judged by its closest meaning alone (min-max over the sessions), as
        # the dense strategy judges it: words the fusion matches in a long session's other turns
        # do not make it the one the query means
        whole = config.session_dense_weight * normalize(segment_max(ctx.dense_turn, *p.session_segments))
        scores = scores + whole
    explain_activation = _activation_explainer(ctx, act, seeds, described) if act is not None else None
    w = plan.weights

    def explain(pos: int) -> dict[str, Any]:
        turn = _owner_turn(ctx, unit, pos, turn_scores)
        out: dict[str, Any] = {"strategy": "auto", "score": _r(scores[pos])}
        out.update(_via(ctx, unit, turn))
        if turn < 0:
            return out
        parts = {k: _r(v) for k, v in fused.explain(turn).items() if _r(v) != 0}
        base = fused.scores[turn]
        for part, shift, _ in shifts:
            if shift[turn]:
                moved_to = max(base + float(shift[turn]), 0.0)
                parts[part] = _r(moved_to - base)  # the shift, or less where a penalty met the floor
                base = moved_to
        asked = float(asks[turn]) if asks is not None else 0.0
        answered = float(answers[turn]) if answers is not None else 0.0
        moved = max(base - asked + answered, 0.0) - base if asked or answered else 0.0
        if asked:
            parts["question:turn"] = _r(moved - answered)  # -penalty, or less where it met the floor
        if answered:
            parts["answer:turn"] = _r(answered)
        if turn_scores[turn] != base + moved:
            parts["diversity:episode"] = _r(turn_scores[turn] - base - moved)
        if unit == "event" and bonus is not None:
            parts["event:dense"] = _r(bonus[pos])
        if whole is not None and _r(whole[pos]):
            parts["dense_best:session"] = _r(whole[pos])
        out["contributions"] = parts
        out["route"] = list(plan.reasons)
        if config.assistant_turn_penalty > 0 and ctx.features.asks_assistant:
            out["route"].append("asks what the assistant said -> its turns are not lowered")
        out["route"].extend(line for _, _, line in shifts if line)
        if whole is not None:
            out["route"].append(f"ranks sessions -> each one's best dense match (min-max over sessions) "
                                f"x{config.session_dense_weight}")
        if entropies:
            out["entropy"] = {g: _r(h) for g, h in entropies.items()}
        evidence: dict[str, Any] = {}
        if "lexical:turn" in parts:
            evidence["lexical"] = {"bm25": _r(ctx.lexical("turn")[turn]), "terms": ctx.matched_terms(p.turn_text[turn], "turn", turn)}
        if "dense:turn" in parts:
            event = ctx.best_event(turn)
            evidence["dense"] = {"cosine": _r(ctx.dense_turn[turn]),
                                 "matched": label(ctx, "event", event) if event >= 0 else label(ctx, "turn", turn)}
        episode = int(p.turn_episode[turn])
        if episode >= 0 and ("lexical:episode" in parts or "dense:episode" in parts):
            evidence["episode"] = {"label": label(ctx, "episode", episode), "bm25": _r(ctx.lexical("episode")[episode]),
                                   "cosine": _r(ctx.dense("episode")[episode])}
        if "expansion:next" in parts:
            keys = [k for k in ("lexical:turn", "dense:turn") if k in fused.contributions]
            total = sum(w.get(k, 0.0) for k in keys) or 1.0
            candidates = [t for t in (turn, int(p.prev_turn[turn]), int(p.next_turn[turn])) if t >= 0]
            base = {t: sum(float(fused.contributions[k][t]) for k in keys) / total for t in candidates}
            best = max(candidates, key=lambda t: (base[t], t == turn))
            evidence["expansion"] = ({"edge": "NEXT", "from": label(ctx, "turn", best), "relevance": _r(base[best]),
                                      "edges": [_edge(ctx, p.turn_ids[best], p.turn_ids[turn], "NEXT")]}
                                     if best != turn else {"edge": None, "from": "itself", "relevance": _r(base[best])})
        if "time" in parts:
            evidence["time"] = {"months": list(plan.time.months), "years": list(plan.time.years)}
            if plan.time.dates:
                evidence["time"]["dates"] = plan.time.describe_dates()
            if plan.time.spans:
                evidence["time"]["days"] = plan.time.describe_spans()
            if w.get("time"):  # 1: on the days named; less: within the slack around them
                evidence["time"]["match"] = _r(parts["time"] / w["time"])
        if explain_activation is not None and "activation" in parts:
            evidence["activation"] = explain_activation(turn)
        out.update(evidence)
        return out

    return Ranking("auto", scores, explain)


_STRATEGIES: dict[str, Callable[..., Ranking]] = {
    "auto": auto, "dense": dense, "lexical": lexical, "activation": activation, "expansion": expansion,
}
