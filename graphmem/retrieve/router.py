"""Query routing: read cues from the query, decide which strategies and granularities to use.

:class:`QueryFeatures` extracts, without any model:

* **names**: known names (speakers, entity names and aliases) mentioned in the query, and
  other capitalised words that look like names (candidate entities);
* **time**: explicit calendar constraints (month names, years, day numbers next to a month),
  used to prefer memories from matching dates;
* **temporal**: whether the query asks about time ("when", "how long", "what year", "ago",
  "before", "after", "since", "first", "last"...);
* **aggregation**: whether the answer likely gathers several memories ("all", "how many",
  "how often", "what kinds/types of", "both", "each", "every", "ever", "times", a plural
  noun after what/which, the present perfect with a named subject ("where has Melanie
  camped"), two names joined by "and").

:func:`route` turns features (and, optionally, the entropy of the relevance distribution at
each granularity) into a :class:`RoutePlan`: one weight per scoring component. The plan is
deterministic and every decision is recorded in ``RoutePlan.reasons`` for explanations.

Components (keys of ``RoutePlan.weights``; see :mod:`graphmem.retrieve.hierarchy`):

==================== ==================================================================
``lexical:turn``     BM25 of the turn text
``dense:turn``       cosine of the query with the turn, max-pooled with its events
``lexical:episode``  BM25 of the turn's episode text, propagated down to its turns
``dense:episode``    cosine with the episode embedding, propagated down
``lexical:session``  BM25 of the session text, propagated down
``dense:session``    cosine with the session embedding, propagated down
``expansion:next``   graph expansion over ``NEXT``: the best adjacent turn's base score
``activation``       personalised PageRank from query names and the top hits
``time``             calendar match of the turn's date(s) with the query's time constraint
==================== ==================================================================

The default weights were measured on the LoCoMo development set (all categories, see
``RouterConfig``); the landscape is flat around equal weights, which is what they are.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = [
    "QueryFeatures",
    "RouteConfig",
    "RoutePlan",
    "TimeCue",
    "parse_time_cue",
    "route",
]

logger = logging.getLogger(__name__)

_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)
_MONTH_ABBR = {m[:3]: i + 1 for i, m in enumerate(_MONTHS)}
_MONTH_ABBR["sept"] = 9
# "May" is also a modal verb: count it as a month only next to a day number or a year, or
# after "in"/"of"/"during"/"since"/"early"/"mid"/"late".
_MONTH_RE = re.compile(
    r"\b(" + "|".join(_MONTHS) + r"|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?\b",
    re.IGNORECASE,
)
_YEAR_RE = re.compile(r"\b(19\d\d|20\d\d)\b")
_DAY_BEFORE_RE = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?$", re.IGNORECASE)
_DAY_AFTER_RE = re.compile(r"^\s+(\d{1,2})(?:st|nd|rd|th)?\b", re.IGNORECASE)
_MAY_CONTEXT_RE = re.compile(r"\b(in|of|during|since|early|mid|late|until|by)\s+$", re.IGNORECASE)

_TEMPORAL_RE = re.compile(
    r"\b(when|what\s+(?:year|month|day|date|time)|which\s+(?:year|month|day)|how\s+long|"
    r"ago|before|after|since|until|first|last|recently|lately|latest|earliest|date|"
    r"yesterday|today|tomorrow|weekend|week|month|year)\b",
    re.IGNORECASE,
)
_AGGREGATION_RE = re.compile(
    r"\b(all|how\s+many|how\s+often|what\s+(?:kinds?|types?|sorts?)\s+of|both|each|every|"
    r"ever|times|list|various|several|some\s+of)\b",
    re.IGNORECASE,
)
# what/which + plural noun ("What books has ...", "Which places ..."), excluding verbs.
_PLURAL_WH_RE = re.compile(r"\b(?:what|which)\s+([a-z]+[^s\W]s|[a-z]+ies)\b", re.IGNORECASE)
# Present perfect with a named subject ("Where has Melanie camped?") asks over the whole history.
_PERFECT_RE = re.compile(r"\b(?:has|have)\s+[A-Z][a-z]+(?:\s+and\s+[A-Z][a-z]+)?\s+(?:ever\s+)?[a-z]+")
_NOT_PLURAL = frozenset({"does", "was", "is", "has", "kinds", "types", "sorts", "plans"})
_CAPITALISED_RE = re.compile(r"\b[A-Z][a-zA-Z'\-]+(?:\s+[A-Z][a-zA-Z'\-]+)*")
_WH_WORDS = frozenset({
    "what", "when", "where", "who", "whom", "whose", "which", "why", "how", "did", "does", "do",
    "is", "are", "was", "were", "has", "have", "had", "would", "could", "should", "can", "will",
    "i", "in", "on", "at", "the", "a", "an", "and", "or", "of", "for",
})


@dataclass(frozen=True)
class TimeCue:
    """An explicit calendar constraint found in a query.

    Attributes:
        months: month numbers mentioned (1-12).
        years: years mentioned.
        days: day-of-month numbers written next to a month.
    """

    months: tuple[int, ...] = ()
    years: tuple[int, ...] = ()
    days: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.months or self.years)

    def match(self, year: int, month: int, day: int | None = None, year_mismatch: float = 0.5) -> float:
        """How well a date satisfies the cue, in ``[0, 1]``.

        The month, when given, must match (else 0). A year mismatch scales the match by
        ``year_mismatch`` (not 0: a question's year is sometimes off by one where the month
        is right). Days are not required: a memory is usually told days after the event.

        Args:
            year: the memory's year.
            month: the memory's month.
            day: unused; kept for callers that have it.
            year_mismatch: factor applied when years are given and none matches.

        Returns:
            1.0 for a full match, ``year_mismatch`` for a wrong year, 0.0 otherwise.
        """
        if not self:
            return 0.0
        if self.months and month not in self.months:
            return 0.0
        if self.years and year not in self.years:
            return year_mismatch if self.months else 0.0
        return 1.0


def parse_time_cue(text: str) -> TimeCue:
    """Find months, years and day numbers written in ``text``.

    Args:
        text: the query.

    Returns:
        A :class:`TimeCue` (falsy when nothing was found).

    Example:
        >>> parse_time_cue("What did Maria do on May 3, 2023?")
        TimeCue(months=(5,), years=(2023,), days=(3,))
    """
    months: list[int] = []
    days: list[int] = []
    for m in _MONTH_RE.finditer(text):
        word = m.group(1).lower()
        number = _MONTH_ABBR.get(word[:3]) if word not in _MONTH_ABBR else _MONTH_ABBR[word]
        if number is None:
            continue
        before, after = text[: m.start()], text[m.end():]
        day_before, day_after = _DAY_BEFORE_RE.search(before), _DAY_AFTER_RE.match(after)
        if word == "may" and m.group(1) != "May":
            continue  # the modal verb, lower case
        if word == "may" and not (day_before or day_after or _YEAR_RE.match(after.strip()[:4])
                                  or _MAY_CONTEXT_RE.search(before)):
            continue
        if number not in months:
            months.append(number)
        for d in (day_before, day_after):
            if d and 1 <= int(d.group(1)) <= 31 and int(d.group(1)) not in days:
                days.append(int(d.group(1)))
    years = []
    for y in _YEAR_RE.findall(text):
        if int(y) not in years:
            years.append(int(y))
    return TimeCue(tuple(months), tuple(years), tuple(days))


@dataclass(frozen=True)
class QueryFeatures:
    """Cues read from a query (see the module docstring).

    Build with :meth:`from_query`.

    Attributes:
        text: the query.
        names: known names found in the query, in the spelling of ``known_names``.
        candidate_names: other capitalised, non-initial words that look like names.
        time: explicit calendar constraint.
        temporal: the query asks about time.
        aggregation: the answer likely gathers several memories.
        cues: the matched cue words, for explanations.
    """

    text: str
    names: tuple[str, ...] = ()
    candidate_names: tuple[str, ...] = ()
    time: TimeCue = field(default_factory=TimeCue)
    temporal: bool = False
    aggregation: bool = False
    cues: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, text: str, known_names: Iterable[str] = ()) -> QueryFeatures:
        """Extract the features of ``text``.

        Args:
            text: the query.
            known_names: names the memory knows (speakers, entity names, aliases); matched
                case-insensitively as whole words, possessives included ("Caroline's").

        Returns:
            The features.
        """
        cues: list[str] = []
        lowered = text.lower()
        names: list[str] = []
        for name in sorted(set(known_names), key=lambda n: (-len(n), n)):
            pattern = rf"(?<![\w]){re.escape(name.lower())}(?![\w])"
            # a shorter name inside a longer one already found ("Jon" in "Jon Smith") is skipped
            if name and re.search(pattern, lowered) and not any(re.search(pattern, n.lower()) for n in names):
                names.append(name)
        candidates: list[str] = []
        for m in _CAPITALISED_RE.finditer(text):
            words = m.group(0).split()
            while words and words[0].lower() in _WH_WORDS:
                words.pop(0)  # "What", "When", "In" open the query; they are not names
            if not words or (m.start() == 0 and len(words) == 1 and len(m.group(0).split()) == 1):
                continue  # nothing left, or a lone sentence-initial word
            phrase = re.sub(r"'s$", "", " ".join(words))
            if _MONTH_RE.fullmatch(phrase) or phrase in candidates:
                continue
            if any(phrase.lower() == n.lower() for n in names):
                continue
            candidates.append(phrase)
        time = parse_time_cue(text)
        temporal_hits = [m.group(0).lower() for m in _TEMPORAL_RE.finditer(text)]
        aggregation_hits = [m.group(0).lower() for m in _AGGREGATION_RE.finditer(text)]
        for m in _PLURAL_WH_RE.finditer(text):
            if m.group(1).lower() not in _NOT_PLURAL:
                aggregation_hits.append(m.group(0).lower())
        aggregation_hits.extend(m.group(0).lower() for m in _PERFECT_RE.finditer(text))
        if len(names) + len(candidates) >= 2 and re.search(r"\band\b", lowered):
            aggregation_hits.append("and")
        cues.extend(f"temporal:{c}" for c in temporal_hits)
        cues.extend(f"aggregation:{c}" for c in aggregation_hits)
        if time:
            cues.append("time:explicit")
        return cls(
            text=text,
            names=tuple(names),
            candidate_names=tuple(candidates),
            time=time,
            temporal=bool(temporal_hits) or bool(time),
            aggregation=bool(aggregation_hits),
            cues=tuple(cues),
        )


@dataclass(frozen=True)
class RoutePlan:
    """What to run for one query and how to weigh it.

    Attributes:
        weights: component (see the module docstring) -> weight; absent or 0 = not run.
        time: the calendar constraint for the ``time`` component.
        seed_names: names to seed spreading activation with.
        reasons: human-readable decisions, in order.
    """

    weights: Mapping[str, float]
    time: TimeCue = field(default_factory=TimeCue)
    seed_names: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()

    def uses(self, component: str) -> bool:
        """Whether ``component`` has a positive weight."""
        return self.weights.get(component, 0.0) > 0.0


@dataclass(frozen=True)
class RouteConfig:
    """Weights and switches of :func:`route`.

    Attributes:
        base_weights: component -> weight for every query. Equal weights for the lexical
            and dense evidence at turn and episode level (min-max calibrated), half weight
            for expansion over adjacent turns. Measured on LoCoMo dev: scaling any one of them
            by x0.5 or x1.5 changes turn R_all@10 by at most 1.2 points and NDCG@10 by at
            most 1.0.
        time_weight: weight of the calendar match when the query carries an explicit date
            (LoCoMo dev: +1.4 turn R_all@10, +1.5 NDCG@10, +1.4 session R_all@3).
        aggregation_episode_factor: multiplies the episode weights for aggregation queries,
            whose evidence is spread over many episodes (1.0 = no change).
        activation_weight: weight of spreading activation, used when the query names anything
            (known or candidate names) to seed it; 0 (the default) disables it. On LoCoMo dev
            with an approximate entity graph it traded NDCG for recall (x1.0: R_all@10 +1.6,
            NDCG@10 -0.8), so it is off until a richer entity graph shows a gain.
        entropy_temperature: when set, MemGAS-style re-weighting of the turn and episode
            granularities by ``softmax(-H_g / T)`` (kept at the base total); ``None`` (the
            default) ignores entropies, because on LoCoMo dev it did not help (see RESULTS).
    """

    base_weights: Mapping[str, float] = field(
        default_factory=lambda: {
            "lexical:turn": 1.0,
            "dense:turn": 1.0,
            "lexical:episode": 1.0,
            "dense:episode": 1.0,
            "expansion:next": 0.5,
        }
    )
    time_weight: float = 1.0
    aggregation_episode_factor: float = 1.0
    activation_weight: float = 0.0
    entropy_temperature: float | None = None


_GRANULARITY_PARTS = {
    "turn": ("lexical:turn", "dense:turn"),
    "episode": ("lexical:episode", "dense:episode"),
    "session": ("lexical:session", "dense:session"),
}


def route(
    features: QueryFeatures,
    entropies: Mapping[str, float] | None = None,
    config: RouteConfig = RouteConfig(),
) -> RoutePlan:
    """Decide the scoring components and their weights for one query.

    Rules, in order:

    1. Start from ``config.base_weights``.
    2. An explicit calendar constraint (month/year) adds the ``time`` component.
    3. An aggregation cue scales the episode components by
       ``config.aggregation_episode_factor``.
    4. Names that are not known (candidate entities), or any known name when
       ``activation_weight`` is set, seed spreading activation with that weight.
    5. With ``config.entropy_temperature`` and ``entropies`` (granularity -> normalised
       entropy, see :func:`graphmem.retrieve.fusion.relevance_entropy`), the granularities'
       total weight is redistributed by ``softmax(-H / T)``: the more peaked a
       granularity's relevance distribution, the more it counts.

    Args:
        features: the query's features.
        entropies: granularity (``"turn"``, ``"episode"``, ``"session"``) -> entropy in [0, 1].
        config: weights and switches.

    Returns:
        The :class:`RoutePlan`.
    """
    weights = dict(config.base_weights)
    reasons = [f"base weights {sorted(weights.items())}"]
    if features.time and config.time_weight > 0:
        weights["time"] = config.time_weight
        reasons.append(
            f"explicit date (months {list(features.time.months)}, years {list(features.time.years)})"
            f" -> time match x{config.time_weight}"
        )
    if features.aggregation and config.aggregation_episode_factor != 1.0:
        for key in _GRANULARITY_PARTS["episode"]:
            if key in weights:
                weights[key] *= config.aggregation_episode_factor
        reasons.append(f"aggregation cue -> episode weights x{config.aggregation_episode_factor}")
    seeds = tuple(features.names) + tuple(features.candidate_names)
    if config.activation_weight > 0 and seeds:
        weights["activation"] = config.activation_weight
        reasons.append(f"names {list(seeds)} -> spreading activation x{config.activation_weight}")
    if config.entropy_temperature is not None and entropies:
        present = [g for g in _GRANULARITY_PARTS if g in entropies and any(k in weights for k in _GRANULARITY_PARTS[g])]
        if len(present) >= 2:
            totals = {g: sum(weights.get(k, 0.0) for k in _GRANULARITY_PARTS[g]) for g in present}
            grand = sum(totals.values())
            logits = [-entropies[g] / config.entropy_temperature for g in present]
            top = max(logits)
            exp = [math.exp(v - top) for v in logits]
            share = {g: e / sum(exp) for g, e in zip(present, exp)}
            for g in present:
                if totals[g] <= 0:
                    continue
                factor = grand * share[g] / totals[g]
                for key in _GRANULARITY_PARTS[g]:
                    if key in weights:
                        weights[key] *= factor
            reasons.append(
                "entropy re-weighting " + ", ".join(f"{g}: H={entropies[g]:.2f} share={share[g]:.2f}" for g in present)
            )
    plan = RoutePlan(weights=weights, time=features.time, seed_names=seeds, reasons=tuple(reasons))
    logger.debug("route for %r: %s", features.text, plan.reasons)
    return plan

