"""Every weight, threshold and constant of retrieval, in one frozen :class:`RetrievalConfig`.

This module sits at the very bottom of :mod:`graphmem.retrieve` (it imports nothing of its
siblings). Strategy code reads its numbers from here and holds no literal weights of its own
(``tests/unit/test_retrieve_config.py`` scans the strategy modules for float literals).
``Settings.retrieval`` carries the instance a :class:`~graphmem.memory.Memory` uses.

Each field says which measurement set it. "LoCoMo dev" is the three development
conversations (497 questions); "out-of-fold" means ``graphmem eval locomo --folds 3``
(tuned on two conversations, scored on the third).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

__all__ = ["RetrievalConfig", "ROLE_WEIGHTS", "EDGE_WEIGHTS", "TUNABLE"]

#: How strongly an ``INVOLVES`` edge ties an event to an entity, by the entity's role. A
#: speaker takes part in every event they utter, so their edges say little about any one
#: event; an addressee ("Hey Mel!") a little more; an entity mentioned in the event most.
#: Baked into the cached projection when it is built (a change needs a projection rebuild).
ROLE_WEIGHTS: Mapping[str, float] = MappingProxyType({"mention": 1.0, "addressee": 0.5, "speaker": 0.2})

#: Spreading-activation weight per relationship type. Structural containment edges carry
#: most; ``OF`` (session -> conversation) is inert because every session shares it.
EDGE_WEIGHTS: Mapping[str, float] = MappingProxyType({
    "FROM": 1.0,  # Event -> Turn
    "INVOLVES": 1.0,  # Event -> Entity
    "PART_OF": 1.0,  # Turn -> Episode
    "IN": 0.5,  # Turn -> Session
    "NEXT": 0.5,  # Turn -> Turn, Episode -> Episode
    "ASSOCIATED": 1.0,  # memory <-> memory, GMM-accepted
    "IN_TOPIC": 0.5,  # memory -> Topic
    "ALIAS_OF": 1.0,  # Entity -> Entity
    "WITHIN": 0.5,  # Topic -> Topic (finer granularity inside coarser)
    "OF": 0.0,  # Session -> Conversation
})


def _frozen(mapping: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class RetrievalConfig:
    """The constants of retrieval (see the module docstring).

    Candidate depths:
        exact_limit: unit kinds with at most this many vectors are scored exactly against
            every unit (one matrix product, ~0.5 ms for 10k vectors on one core); larger
            ones through the ANN index.
        candidates: ANN depth for turns and events (units outside it count as not
            retrieved). 200 keeps every gold turn of LoCoMo dev that dense search ranks in
            its top 100 and keeps ``bench query`` auto p95 within 50 ms at 100k turns.
        coarse_candidates: ANN depth for episodes and sessions.

    Router weights of ``auto`` (the hierarchical fusion, see
    :mod:`graphmem.retrieve.hierarchy`):
        weight_lexical_turn, weight_dense_turn: equal weights for the min-max calibrated
            lexical and dense evidence at turn level.
        weight_lexical_episode, weight_dense_episode: the same at episode level, half weight.
            The entropy re-weighting below splits the granularities' total (turn + episode)
            between them, so halving the episode weights lowers that total from 4 to 3 against
            expansion, time and activation. LoCoMo dev, episode weights 1 / 0.75 / 0.5 / 0.25
            (other constants at their defaults), turn R_all@10 per conversation: conv-26
            75.1 / 76.1 / 77.2 / 77.2, conv-30 79.0 / 79.0 / 79.0 / 79.0, conv-41 82.4 / 82.4 /
            82.9 / 82.9 (leaving each conversation out, the value chosen on the other two, 0.5 or
            0.25, scores at least the old default on the held-out one); NDCG@10 58.6 -> 59.8,
            64.6 -> 63.9, 66.5 -> 66.2; no category falls (multi-hop 21.6 either way). LongMemEval
            dev12: session figures unchanged, turn NDCG@10 65.1 -> 65.8.
        weight_expansion_next: expansion over adjacent turns (``NEXT``), half weight: an
            answer often sits next to the turn that matches the question.
        time_weight: weight of the calendar match when the query carries an explicit date
            (LoCoMo dev: +1.4 turn R_all@10, +1.5 NDCG@10, +1.4 session R_all@3).
        when_weight: weight of the ``when`` component for questions asking for a time
            (``QueryFeatures.asks_time``): turns whose events state a time (a resolved
            time expression) rise by this much. On LoCoMo dev, 82% of the evidence turns of
            temporal questions state a time, against 14% of all turns. Leave-one-
            conversation-out on dev (other constants at their defaults), 0 / 0.25 / 0.5 / 1.0:
            turn NDCG@10 rises on every conversation (conv-26 57.6 / 58.1 / 58.4 / 58.9,
            conv-30 62.6 / 64.2 / 64.7 / 65.0, conv-41 65.8 / 66.3 / 66.5 / 66.5), R_all@10
            is unchanged up to 0.5 and loses one temporal question of conv-41 at 1.0 (dev
            temporal R_all@10 is 97-100 already, so the rule is for the unseen conversations,
            where it was 71.9).
        time_year_mismatch: a date whose month matches but whose year does not still
            matches this much (a question's year is sometimes off by one).
        time_day_slack: how far outside a day span the query's relative time expressions
            resolved to ("last Saturday", "two weeks ago") a unit's day still matches, as a
            share of the span's length: the match falls linearly from 1 at the span's edge
            to 0 at ``ceil(slack * n) + 1`` days outside a span of ``n`` days (0.25: half
            the day before "last Saturday", a third two days outside "two weeks ago", about
            three weeks around "last summer"). Set by hand, not tuned: no dev question has
            such an expression (LoCoMo dev's few, "last year", move no figure); people place
            what they did a few days off, and more so over longer spans.
        time_day_mismatch: a unit in the month of a day the query names ("on May 3, 2023",
            ``TimeCue.dates``) but outside that day's slack matches this much; the day
            itself matches 1 (the month alone matched 1 before, so every session of May
            tied). Set by hand, as ``time_year_mismatch``: half.
        aggregation_episode_factor: multiplies the episode weights for aggregation queries
            (1.0 = no change; on LoCoMo dev other values did not help).
        activation_weight: weight of spreading activation in ``auto`` when the query names
            anything. LoCoMo dev with the real entity graph: x0.5 moved turn R_all@10 78.8
            -> 79.0, session R_all@3 84.0 -> 84.6 (multi-hop R_all@10 18.9 -> 21.6); x0.25
            and x1.0 were within 0.5 points.
        entropy_route_temperature: MemGAS re-weighting of the turn and episode granularities
            by ``softmax(-H_g / T)`` over their relevance entropies ``H_g`` (kept at the
            base total); ``None`` ignores entropies. T = 0.3 measured on LoCoMo dev.
        entropy_top_k: how many best dense scores form a granularity's relevance
            distribution (MemGAS uses the top 10).
        entropy_score_temperature: softmax temperature over those cosine scores when
            computing ``H_g`` (in cosine units; a different quantity from the routing
            temperature above: this one sharpens scores into a distribution, that one
            turns entropies into granularity shares). 0.1 follows MemGAS.

        episode_diversity: for queries with an aggregation cue (their evidence is spread
            over the history), the turn ranking is diversified over episodes
            (:func:`graphmem.retrieve.hierarchy.diversify`): once ``diversity_free`` turns of
            an episode are picked, each further pick lowers the other turns of that episode
            by this much (in fused-score units; a turn with every component at its best
            scores about 4.5), so the top k is not ten neighbouring turns of one exchange.
            0 = off. LoCoMo dev, other constants at their defaults, 0 / 0.25 / 0.5 (with
            ``diversity_free`` 2): turn R_all@10 per conversation 77.2 / 77.7 / 77.7, 79.0 /
            81.0 / 81.0, 82.9 / 81.9 / 82.9 (left out one at a time, 0.5 or a tie with 0.25 is
            chosen); overall 79.8 -> 80.4, NDCG@10 63.2 -> 63.3, multi-hop 21.6 -> 31.1
            (+7 questions), but single-hop 89.5 -> 88.0 and adversarial 93.8 -> 92.9 (4
            questions whose single answer sits beside a better turn of its episode);
            out-of-fold 78.0 -> 79.4. Grouped by session instead (the earlier rule)
            LongMemEval dev12 turn R_all@10 fell 83.3 -> 66.7, since its evidence shares one
            long session; by episode it stays 83.3 (NDCG@10 65.8 -> 67.6).
        question_turn_penalty: for ``unit="turn"`` and ``"event"``, a turn whose text ends with
            a question mark is lowered by this much (fused-score units): a question asks,
            the answer is in what someone tells. On LoCoMo dev 25% of all turns are questions
            but 13% of the evidence turns; on LongMemEval dev12 a user's question to the
            assistant is often the evidence itself, and sessions ranked by a lowered best
            turn lost session NDCG@10 (92.4 -> 89.8 at 0.2), so sessions and episodes keep
            their turns' scores unpenalised. LoCoMo dev, other constants at their defaults,
            0 / 0.2 / 0.4 per conversation: turn NDCG@10 60.0 / 60.5 / 60.7, 64.2 / 66.3 /
            66.1, 66.1 / 68.4 / 69.3 (a gain on every conversation), turn R_all@10 77.7 /
            77.2 / 77.2, 81.0 / 81.9 / 82.9, 82.9 at every value; overall at 0.4 R_all@10
            80.4 -> 80.6, NDCG@10 63.3 -> 65.2 (single-hop 88.0 -> 88.5, adversarial 92.9 ->
            93.8, temporal 98.9 -> 97.8, multi-hop 31.1 =); LongMemEval dev12 turn R_all@10
            83.3 = 83.3, NDCG@10 67.6 -> 71.2 (at 0.5 in an earlier form R_all@10 fell to
            75.0).
        answer_turn_bonus: for ``unit="turn"`` and ``"event"``, a turn that answers (the turn
            before it in its session asks, by another speaker) rises by this much: on LoCoMo
            dev 25% of all turns follow another speaker's question but 51% of the evidence
            turns. Not for assistants (speakers named assistant, ai, bot, model, system):
            their answers are generic knowledge, and on LongMemEval dev12 lifting them cost
            turn R_all@10 83.3 -> 75.0; with that exception its turn R_all@10 and session
            figures stay (turn NDCG@10 71.2 -> 71.1).
            LoCoMo dev, other constants at their defaults, 0 / 0.1 / 0.15 / 0.2 / 0.3 / 0.4:
            turn R_all@10 per conversation 77.2 / 77.7 / 78.2 / 78.2 / 79.2 / 78.2, 82.9 /
            82.9 / 83.8 / 83.8 / 82.9 / 81.0, 82.9 / 83.4 / 84.5 / 84.5 / 84.5 / 83.4 (every
            value up to 0.3 is at least 0 on every conversation); at 0.15 overall 80.6 ->
            81.8, NDCG@10 65.2 -> 66.4; multi-hop 31.1 -> 32.4, open-domain 31.6 -> 36.8,
            single-hop 88.5 -> 90.0, adversarial 93.8 -> 95.5, temporal 97.8 -> 96.7 (0.2
            and 0.3 cost temporal and multi-hop more for no overall gain).
        assistant_turn_penalty: for every unit, a turn said by an assistant (speakers named
            assistant, ai, bot, model, system) is lowered by this much, unless the query asks
            what the assistant said (``QueryFeatures.asks_assistant``: "you mentioned", "you
            recommended", "our previous conversation"): in a user's chats with an assistant
            the memory is what the user told it, and the assistant's long generic answers
            match many questions by their words. LoCoMo has no assistant speakers (its
            figures are unchanged). LongMemEval dev12, other constants at their defaults,
            0 / 0.2 / 0.5 / 1.0: turn R_all@10 83.3 / 91.7 / 91.7 / 91.7, turn NDCG@10 71.1 /
            75.6 / 79.3 / 82.6, session NDCG@10 92.4 / 93.4 / 93.7 / 93.7, session R_all@3 83.3
            at every value (the gold session of a preference question moves from 8th to 5th);
            no question's NDCG@10 falls at any value, and the two questions about the
            assistant's own words (cue present) keep 100. 0.5 rather than the largest
            measured value: twelve questions.
        answer_type_weight: for every unit, when the query asks for a place or a title
            (``QueryFeatures.answer_labels``: "Where has Melanie camped?", "Which cities has Jon
            visited?", "What books has Melanie read?"), a turn one of whose events names an
            entity with such a label (``GPE``/``LOC``/``FAC``, ``WORK_OF_ART``) rises by this
            much: an answer of the asked type. On LoCoMo dev 1% of the turns name a place, but
            11 of the 21 evidence turns of multi-hop questions asking for one; 0.3% name a title
            (5 of 1,451), but 6 of the 11 evidence turns of questions asking for one.
            Leave-one-conversation-out (other constants at their defaults), 0 / 0.25 / 0.5 / 1.0 /
            2.0, turn R_all@10
            per conversation: conv-26 78.2 / 78.7 / 79.2 / 79.2 / 79.2, conv-30 83.8 at every
            value, conv-41 84.5 / 84.5 / 85.0 / 85.0 / 85.0; NDCG@10 62.1 / 62.0 / 62.3 / 62.6
            / 62.3, 67.1 / 67.1 / 67.2 / 67.2 / 67.3, 70.5 / 70.8 / 71.2 / 71.4 / 70.9. Each
            held-out conversation's choice on the other two is 1.0 (R_all ties, NDCG decides),
            and it gains or ties there. Overall turn R_all@10 81.8 -> 82.4, NDCG@10 66.4 ->
            67.0, session R_all@3 84.0 -> 84.8; multi-hop 32.4 -> 36.5 (+3 questions), no
            category falls. LongMemEval dev12 unchanged. Only places and titles: the
            rule-based entities hardly carry ``EVENT`` or ``ORG`` (2 and 0 turns of 1,451).
            Spans of time (2026-12-04, later): a "how long" question raises the turns whose
            text states one ("for 4 years", "five hours", "since 2016"): 2.1% of LoCoMo dev
            turns and 7.8% of LongMemEval dev12 user turns state one, but 6 of the 8 evidence
            turns of LoCoMo's "how long" questions and 4 of the 5 of LongMemEval's. With it, 0 /
            0.25 / 0.5 / 1.0 / 2.0 per conversation: turn R_all@10 78.7 / 79.7 / 80.2 / 80.2 /
            80.2, 83.8 at every value, 85.0 / 85.0 / 85.5 / 85.5 / 85.5; NDCG@10 62.6 / 63.0 /
            63.4 / 64.1 / 64.0, 67.1 / 67.2 / 67.2 / 67.1 / 67.2, 71.1 / 71.5 / 71.8 / 71.9 /
            71.6; each held-out conversation's choice on the other two is still 1.0. At 1.0
            overall turn R_all@10 82.8 -> 83.0, NDCG@10 67.4 -> 67.8 (temporal 96.7 -> 97.8,
            one multi-hop question's NDCG@10 falls: its answer is computed from two dates);
            session figures unchanged; LongMemEval dev12 turn NDCG@10 79.3 -> 81.1, the rest
            unchanged. Ages (the same day): a "how old" / "what age" / "the age of" question
            raises the turns whose text states an age ("my grandma is 75", "I just turned 32"):
            0.7% of LongMemEval dev12 user turns and no LoCoMo dev turn state one; the one
            such dev question ("the average age of me, my parents, and my grandparents") has all
            three evidence turns among them: session R_all@3 91.7 -> 100, NDCG@10 94.6 -> 95.8,
            turn R_all@10 91.7 -> 100, NDCG@10 81.1 -> 83.7. One question, so no constant was
            set by it; LoCoMo unchanged (none of its questions asks for an age). Frequencies
            (the same day): a "how often" question raises the turns stating one ("three times a
            week", "every two weeks", "weekly"): 0.55% of LoCoMo dev turns (8 of 1,451) and 4.2%
            of LongMemEval dev12 user turns state one, and every evidence turn of such questions
            (7 of 7 on LoCoMo, 2 of 2 on LongMemEval). 0 / 0.25 / 0.5 / 1.0 / 2.0 per
            conversation with all these kinds: turn R_all@10 78.7 / 79.7 / 80.2 / 80.2 / 80.2,
            83.8 at every value, 85.0 / 85.5 / 86.0 / 86.0 / 86.0; NDCG@10 62.6 / 63.0 / 63.4 /
            64.1 / 64.0, 67.1 / 67.2 / 67.2 / 67.1 / 67.2, 71.1 / 72.0 / 72.5 / 72.8 / 72.8; the
            fold holding out conv-26 chooses 2.0 (NDCG@10 there 0.1 below 1.0), the two others
            1.0. Overall turn R_all@10 83.0 -> 83.2, NDCG@10 67.8 -> 68.1 (single-hop 90.5 ->
            91.0); LongMemEval dev12 unchanged. Counting "how many days / weeks" as a span of
            time was measured and left out: the evidence of "How many weeks passed between ..."
            states dates, not spans (LongMemEval temporal NDCG@10 88.5 -> 85.0).
        named_speaker_weight: for every unit, when a question gathers (an aggregation cue,
            see ``QueryFeatures.aggregation``) what one speaker it names did ("What activities
            does Melanie partake in?", "Where has Maria made friends?"), that speaker's turns
            rise by this much: on LoCoMo dev, of the evidence turns of questions naming exactly
            one speaker, 159 of 163 multi-hop ones are that speaker's own. Not for questions
            without the cue: adversarial questions name the wrong speaker on purpose (86 of
            their 113 evidence turns are the other speaker's), and lifting the named speaker for
            every question cost adversarial turn R_all@10 95.5 -> 76.8. Leave-one-conversation-out
            (other constants at their defaults), 0 / 0.5 / 1.0 / 1.5 / 2.0, turn R_all@10 per
            conversation: conv-26 79.2 / 79.7 / 79.7 / 79.7 / 79.7, conv-30 83.8 at every value,
            conv-41 85.0 / 85.0 / 85.5 / 85.5 / 85.5; NDCG@10 62.6 / 63.0 / 63.1 / 63.1 / 63.1,
            67.2 / 67.3 / 67.3 / 67.4 / 67.4, 71.4 / 71.6 / 71.8 / 71.9 / 71.9. Each held-out
            conversation's choice on the other two is 1.5 (tied with 2.0), and it gains or ties
            there. Overall turn R_all@10 82.4 -> 82.8, NDCG@10 67.0 -> 67.4; multi-hop 36.5 ->
            37.8, single-hop 90.0 -> 90.5, no category falls, session figures unchanged.
            LongMemEval (speakers user and assistant, never named) unchanged. A speaker is named
            by full or first name or by an alias the ingest resolved ("Mel" for Melanie).
        session_dense_weight: for ``unit="session"``, each session's best dense match (the
            best turn cosine, as the dense strategy scores turns), min-max scaled over the
            sessions, is added this many times to its best fused turn: a session is also
            judged by its closest meaning, as the dense strategy judges it, so that words the
            fusion matches in a long session's other turns ("recommend", "recent") do not
            outrank the session the query means. Turns, events and episodes are unchanged.
            LoCoMo dev, other constants at their defaults, 0 / 0.5 / 0.75 / 1.0 / 1.25 / 1.5,
            session R_all@3 per conversation: conv-26 84.3 / 83.8 / 83.8 / 84.8 / 84.3 / 84.3,
            conv-30 87.6 / 87.6 / 87.6 / 88.6 / 87.6 / 87.6, conv-41 83.9 / 85.0 / 85.5 / 85.0
            / 85.0 / 85.0; session NDCG@10 87.9 / 88.2 / 88.0 / 87.7 / 87.2 / 86.5, 89.4 / 89.0
            / 88.4 / 88.2 / 87.4 / 86.5, 88.4 / 88.3 / 88.3 / 88.0 / 87.8 / 87.3. Each held-out
            conversation's choice on the other two (R_all@3, then NDCG@10) is 1.0, and R_all@3
            rises on every held-out one while NDCG@10 falls by 0.2-1.2. Overall session R_all@3
            84.8 -> 85.7, NDCG@10 88.4 -> 87.9 (multi-hop R_all@3 32.4 -> 35.1, open-domain
            36.8 -> 47.4, others equal). LongMemEval dev12 session R_all@3 83.3 -> 91.7, NDCG@10
            93.7 -> 94.6 (a preference question's gold session rises from 5th to 3rd; at 0.5
            nothing moves there, at 1.25 and above NDCG@10 98.1 but LoCoMo NDCG@10 falls
            further).
        diversity_depth: how many of the best turns the diversification re-ranks.
        diversity_free: turns per episode picked before the diversity penalty starts (2:
            a question and its answer are often two turns of one episode; on LoCoMo dev 1 and 3
            scored turn R_all@10 1.0 and 0.8 lower).

    Spreading activation:
        damping: share of activation passed on per hop (0.5 follows HippoRAG).
        activation_steps: hops (4 with d = 0.5 keeps 97% of the PPR mass; on LoCoMo dev 3,
            4 and 6 hops agree within 0.2 points).
        activation_prune: a node spreads on only when each of its edges carries at least
            this share of the wave's total (the push criterion; keeps hubs from flooding and
            latency independent of memory size).
        seed_hits: at most this many top hits seed spreading activation ...
        seed_ratio: ... and only those scoring at least this fraction of the best one.
        edge_weights: activation weight per relationship type (:data:`EDGE_WEIGHTS`).

    Graph expansion (the ``expansion`` strategy):
        expansion_seeds: how many best hits expansion starts from.
        expansion_weights: share of a seed's relevance an edge passes to the neighbour it
            brings in, per edge type (``NEXT``, ``PART_OF``, ``INVOLVES``, ``ASSOCIATED``).
        shared_entity_limit: entities in more events than this (speakers, "family") are too
            common to link two memories.
        base_lexical_share: a turn's base relevance is this share of its calibrated BM25
            plus the rest of its calibrated best cosine (the two are equally good alone on
            LoCoMo dev).

    Units:
        event_weight: for ``unit="event"`` under fused strategies, the weight of the event's
            own calibrated cosine added to its turn's score (ranks events within a turn).

    Explanations:
        explain_edges: in-edges reported per activated node.
        explain_path: longest path traced back to a seed.
        entity_ngram_limit: longest entity name, in words, matched in a query.
    """

    exact_limit: int = 10_000
    candidates: int = 200
    coarse_candidates: int = 50
    weight_lexical_turn: float = 1.0
    weight_dense_turn: float = 1.0
    weight_lexical_episode: float = 0.5
    weight_dense_episode: float = 0.5
    weight_expansion_next: float = 0.5
    time_weight: float = 1.0
    when_weight: float = 0.5
    time_year_mismatch: float = 0.5
    time_day_slack: float = 0.25
    time_day_mismatch: float = 0.5
    aggregation_episode_factor: float = 1.0
    activation_weight: float = 0.5
    entropy_route_temperature: float | None = 0.3
    entropy_top_k: int = 10
    entropy_score_temperature: float = 0.1
    episode_diversity: float = 0.5
    question_turn_penalty: float = 0.4
    answer_turn_bonus: float = 0.15
    assistant_turn_penalty: float = 0.5
    named_speaker_weight: float = 1.5
    answer_type_weight: float = 1.0
    session_dense_weight: float = 1.0
    diversity_depth: int = 50
    diversity_free: int = 2
    damping: float = 0.5
    activation_steps: int = 4
    activation_prune: float = 1e-4
    seed_hits: int = 5
    seed_ratio: float = 0.8
    edge_weights: Mapping[str, float] = field(default_factory=lambda: EDGE_WEIGHTS, hash=False)
    expansion_seeds: int = 5
    expansion_weights: Mapping[str, float] = field(
        default_factory=lambda: _frozen({"NEXT": 0.5, "PART_OF": 0.3, "INVOLVES": 0.3, "ASSOCIATED": 0.5}), hash=False)
    shared_entity_limit: int = 25
    base_lexical_share: float = 0.5
    event_weight: float = 0.5
    explain_edges: int = 3
    explain_path: int = 6
    entity_ngram_limit: int = 6

    def __post_init__(self) -> None:
        if not 0.0 < self.damping < 1.0:
            raise ValueError(f"RetrievalConfig.damping must be in (0, 1), got {self.damping}")
        if self.entropy_route_temperature is not None and self.entropy_route_temperature <= 0:
            raise ValueError("RetrievalConfig.entropy_route_temperature must be > 0 or None")
        if self.entropy_score_temperature <= 0 or self.entropy_top_k < 2:
            raise ValueError("RetrievalConfig.entropy_score_temperature must be > 0 and entropy_top_k >= 2")
        if self.time_day_slack < 0:
            raise ValueError("RetrievalConfig.time_day_slack must be >= 0")
        if not 0.0 <= self.time_day_mismatch <= 1.0:
            raise ValueError("RetrievalConfig.time_day_mismatch must be in [0, 1]")
        if self.episode_diversity < 0:
            raise ValueError("RetrievalConfig.episode_diversity must be >= 0")
        if self.question_turn_penalty < 0 or self.answer_turn_bonus < 0 or self.assistant_turn_penalty < 0:
            raise ValueError("RetrievalConfig.question_turn_penalty, answer_turn_bonus and assistant_turn_penalty must be >= 0")
        if not 0.0 <= self.base_lexical_share <= 1.0:
            raise ValueError("RetrievalConfig.base_lexical_share must be in [0, 1]")
        for name in ("exact_limit", "candidates", "coarse_candidates", "seed_hits", "expansion_seeds", "explain_edges",
                     "explain_path", "entity_ngram_limit", "diversity_depth", "diversity_free"):
            if getattr(self, name) < 1:
                raise ValueError(f"RetrievalConfig.{name} must be >= 1")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Mapping) and not isinstance(value, MappingProxyType):
                object.__setattr__(self, f.name, _frozen(value))

    @property
    def base_weights(self) -> dict[str, float]:
        """Router component -> weight for every query (before the per-query rules)."""
        return {
            "lexical:turn": self.weight_lexical_turn,
            "dense:turn": self.weight_dense_turn,
            "lexical:episode": self.weight_lexical_episode,
            "dense:episode": self.weight_dense_episode,
            "expansion:next": self.weight_expansion_next,
        }

    def with_(self, **changes: Any) -> RetrievalConfig:
        """A copy with ``changes`` applied (validated)."""
        return replace(self, **changes)


#: The router constants ``graphmem eval locomo --folds`` tunes, with their grids (the
#: defaults are in every grid, so a fold can always keep them).
TUNABLE: Mapping[str, tuple[Any, ...]] = MappingProxyType({
    "time_weight": (0.5, 1.0, 2.0),
    "when_weight": (0.0, 0.5, 1.0),
    "activation_weight": (0.0, 0.5, 1.0),
    "episode_diversity": (0.0, 0.25, 0.5),
})
