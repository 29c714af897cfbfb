"""Entity resolution: one canonical entity per real-world thing within a namespace.

:class:`EntityResolver` maps each mention to a canonical entity key. A mention whose own
key (:func:`normalise_name`) is already known resolves to it. Otherwise, in order:

1. **nickname** - a person's short form: a known person's first name ("Caroline" for
   "Caroline Smith"), a prefix of three or more letters of exactly one known first name
   ("Mel" for "Melanie"), a common English nickname of exactly one known first name
   ("Bob" for "Robert"), another short form of the same name ("Tommy" for "Tom", both
   Thomas), or a pet form built on it ("Jonny" for "Jon"). Ambiguous forms ("Sam" with both Samantha and Samuel known) are
   not merged. Applies to ``PERSON`` and ``MISC`` mentions.
2. **normalised** - the same name once accents, spaces and hyphens are ignored
   ("Sao Paulo" / "São Paulo", "self care" / "self-care"), within the same label group.
3. **plural** - singular/plural of the last word ("pottery classes" / "pottery class"),
   for key phrases (``CONCEPT``) only, so names such as "James" are never singularised.
4. **embedding** - near-duplicate key phrases: they must share a word (after
   singularising) or be spelled almost alike (character similarity >= 0.85), *and* their
   embeddings' cosine similarity must reach ``embedding_threshold`` (0.90 by default; with
   all-MiniLM-L6-v2 "lgbt support group" / "lgbtq support group" score 0.98 while
   "beginner yoga class" / "yoga class" score 0.88 and "dog" / "cat" share no word). Only
   when an ``embed_fn`` is given, only for ``CONCEPT`` mentions.

A merge never deletes anything: the mention's own key becomes an alias entity with an
:class:`AliasRecord` pointing at the canonical key, which the store writes as
``(alias)-[:ALIAS_OF {reason, score}]->(canonical)``; :meth:`EntityResolver.unmerge`
undoes a merge. Dates and times (``DATE``, ``TIME``) are not entities and resolve to None.

The resolver is incremental: load what the store already holds with
:meth:`EntityResolver.add_existing`, then :meth:`EntityResolver.resolve` new mentions;
entities it creates are remembered for the next call.
"""

from __future__ import annotations

import difflib
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import regex

from graphmem.extract import gazetteer as gz
from graphmem.extract.nlp import Mention, first_word
from graphmem.scripts import casefold, is_mark

__all__ = [
    "ALIAS_REASONS",
    "AliasRecord",
    "EntityRecord",
    "EntityResolver",
    "Resolution",
    "ResolutionResult",
    "label_group",
    "normalise_name",
    "singular_forms",
]

logger = logging.getLogger(__name__)

#: Why an alias was merged into its canonical entity.
ALIAS_REASONS = ("nickname", "normalised", "embedding", "plural")

# endings that make a pet form of a first name: Tom -> Tommy, Jon -> Jonny, Ann -> Annie, Mike -> Mikey
_DIMINUTIVE_ENDINGS = frozenset({"y", "ie", "ey", "my", "mie", "ny", "nie", "sy", "sie", "ty", "ky", "dy", "die", "by", "bie", "ly", "lie"})

EmbedFn = Callable[[list[str]], np.ndarray]

_LEADING = re.compile(r"^(?:the|my|a|an|our|your|his|her|their)\s+")
_POSSESSIVE = re.compile(r"(?:['’]s|(?<=s)['’])$")
_NON_WORD = regex.compile(r"[^\w\s\p{M}]|_")  # (a combining mark is part of its word: "कमल" is not "कमला")
_ACRONYM = re.compile(r"^(?:\w\.)+\w?\.?$")


@lru_cache(maxsize=1 << 16)
def normalise_name(text: str) -> str:
    """The key under which a name is stored: case- and punctuation-insensitive.

    Unicode NFKC, casefolded, a possessive "'s" removed, punctuation turned into spaces
    (dots inside acronyms removed: "U.S." -> "us"), whitespace runs collapsed and one
    leading "the", "my", "a", "an", "our", "your", "his", "her" or "their" dropped.
    Accents are kept ("josé"); :class:`EntityResolver` also matches accent-free spellings.

    >>> normalise_name("  The Pottery  Classes! ")
    'pottery classes'
    >>> normalise_name("Caroline's")
    'caroline'

    Args:
        text: a name or phrase as written.

    Returns:
        The normalised key, possibly empty (for text that is all punctuation or emoji).
    """
    t = casefold(unicodedata.normalize("NFKC", text)).strip()
    t = t.rstrip(".,!?;:\"'“”)") if not _ACRONYM.match(t) else t
    t = _POSSESSIVE.sub("", t)
    words = []
    for word in t.split():
        if _ACRONYM.match(word):
            word = word.replace(".", "")
        words.append(word)
    t = _NON_WORD.sub(" ", " ".join(words))
    t = " ".join(t.split())
    return _LEADING.sub("", t) if " " in t else t


#: Letters that carry their mark inside and do not decompose: written without it, they are these.
_UNMARKED = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe", "þ": "th", "ð": "d"})


def _loose(key: str) -> str:
    """Accent-, space- and hyphen-free form of a key, for spelling variants ("Łukasz" and "Lukasz",
    "Søren" and "Soren"). A mark that is a letter's accent, an Arabic vowel or a Hebrew point goes;
    a vowel sign of an Indic script stays (without it "कमला" is "कमल", another name)."""
    decomposed = unicodedata.normalize("NFKD", key.translate(_UNMARKED))
    return "".join(c for c in decomposed if not unicodedata.combining(c) and (c.isalnum() or is_mark(c)))


_IRREGULAR_PLURALS = {
    "children": "child", "people": "person", "men": "man", "women": "woman", "feet": "foot",
    "teeth": "tooth", "mice": "mouse", "geese": "goose", "kids": "kid", "oxen": "ox",
}


def singular_forms(word: str) -> set[str]:
    """Candidate singulars of an English word (over-generating: "horses" -> horse, hors).

    Returns an empty set for words that do not look plural.
    """
    if word in _IRREGULAR_PLURALS:
        return {_IRREGULAR_PLURALS[word]}
    if len(word) < 4 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return set()
    forms = {word[:-1]}
    if word.endswith("ies"):
        forms.add(word[:-3] + "y")
    if word.endswith("ves"):
        forms.update({word[:-3] + "f", word[:-3] + "fe"})
    if word.endswith(("ses", "xes", "zes", "ches", "shes", "oes")):
        forms.add(word[:-2])
    return forms


def _key_singulars(key: str) -> set[str]:
    head, _, last = key.rpartition(" ")
    return {f"{head} {s}" if head else s for s in singular_forms(last)}


_LABEL_GROUPS = {
    "PERSON": "person", "GPE": "place", "LOC": "place", "FAC": "place", "ORG": "org",
    "CONCEPT": "concept", "NORP": "named", "EVENT": "named", "WORK_OF_ART": "named",
    "PRODUCT": "named", "LANGUAGE": "named", "MISC": "named",
}
_NON_ENTITY_LABELS = frozenset({"DATE", "TIME", "CARDINAL", "ORDINAL", "QUANTITY", "PERCENT",
                                "MONEY"})
# When one name is seen with several labels, the more specific one wins.
_LABEL_RANK = {"MISC": 0, "CONCEPT": 0}


def label_group(label: str) -> str | None:
    """The group of labels that may be merged with each other (None: not an entity)."""
    if label in _NON_ENTITY_LABELS:
        return None
    return _LABEL_GROUPS.get(label, "named")


@dataclass(frozen=True)
class EntityRecord:
    """An entity the resolver knows: its key, display name and label."""

    key: str
    name: str
    label: str


@dataclass(frozen=True)
class AliasRecord:
    """``alias_key`` was merged into ``canonical_key`` for ``reason`` (see ALIAS_REASONS).

    ``score`` is the cosine similarity for embedding merges and 1.0 otherwise.
    """

    alias_key: str
    canonical_key: str
    reason: str
    score: float = 1.0


@dataclass(frozen=True)
class Resolution:
    """Where one mention went.

    Attributes:
        mention: the mention.
        key: the canonical entity's key; None when the mention is not an entity (a date, a
            time, or a name that normalises to nothing).
        surface_key: the mention's own normalised key; differs from ``key`` when the mention
            was resolved through an alias.
        reason: None for an exact match or a new entity, else the alias reason.
    """

    mention: Mention
    key: str | None
    surface_key: str | None
    reason: str | None = None


@dataclass(frozen=True)
class ResolutionResult:
    """The outcome of :meth:`EntityResolver.resolve`.

    Attributes:
        resolutions: one per input mention, in order.
        entities: entities to write: new canonical entities, new alias entities and known
            entities whose label became more specific.
        aliases: new alias edges.
    """

    resolutions: tuple[Resolution, ...]
    entities: tuple[EntityRecord, ...]
    aliases: tuple[AliasRecord, ...]


class EntityResolver:
    """Incremental entity resolution for one namespace (see the module docstring).

    Args:
        speakers: full names of the conversation's speakers; they become ``PERSON`` entities.
        embedding_threshold: cosine similarity from which two lexically close key phrases
            are merged.
        char_similarity: character similarity (difflib ratio) from which two key phrases
            with no word in common are still compared by embedding (spelling variants).
        vectors: a cache of key -> embedding shared between resolvers (a key's vector depends
            only on its text), filled as keys are embedded; by default this resolver's own.

    Example:
        >>> resolver = EntityResolver(speakers=["Melanie", "Caroline"])
        >>> result = resolver.resolve([Mention("Mel", "PERSON", 4, 7)])
        >>> result.resolutions[0].key, result.aliases[0].reason
        ('melanie', 'nickname')
    """

    def __init__(
        self,
        speakers: Sequence[str] = (),
        *,
        embedding_threshold: float = 0.90,
        char_similarity: float = 0.85,
        vectors: dict[str, np.ndarray] | None = None,
    ) -> None:
        if not 0.0 < embedding_threshold <= 1.0:
            raise ValueError("embedding_threshold must be in (0, 1]")
        self.embedding_threshold = embedding_threshold
        self.char_similarity = char_similarity
        self._entities: dict[str, EntityRecord] = {}
        self._canonical: dict[str, str] = {}  # every known key (canonical or alias) -> canonical
        self._aliases: dict[str, AliasRecord] = {}
        self._loose: dict[tuple[str, str], str] = {}  # (group, loose form) -> key
        self._plural_index: dict[str, str] = {}  # singular candidate of a concept key -> key
        self._token_index: dict[str, set[str]] = {}  # concept word (singular) -> keys
        self._prefix_index: dict[str, set[str]] = {}  # first 3 letters of a concept -> keys
        self._first_names: dict[str, set[str]] = {}  # first token -> person keys
        self._vectors: dict[str, np.ndarray] = vectors if vectors is not None else {}
        self._speaker_keys: set[str] = set()  # keys registered from ``speakers``, not read from a store
        self._refiled: dict[str, str] = {}  # a name's key now -> the stored key an earlier graphmem gave it
        for speaker in speakers:
            key = normalise_name(speaker)
            if key and key not in self._canonical:
                self._register(EntityRecord(key, speaker.strip(), "PERSON"))
                self._speaker_keys.add(key)

    # ----------------------------------------------------------------- state

    @property
    def entities(self) -> dict[str, EntityRecord]:
        """All known entities (canonical and alias), by key."""
        return dict(self._entities)

    @property
    def aliases(self) -> dict[str, AliasRecord]:
        """All known alias records, by alias key."""
        return dict(self._aliases)

    def canonical(self, key: str) -> str | None:
        """The canonical key for a known key (itself when canonical), or None if unknown."""
        return self._canonical.get(self.filed(key))

    def filed(self, key: str) -> str:
        """The key an entity of ``key`` is stored under: ``key``, or the key an earlier graphmem gave
        the same name (see :meth:`add_existing`)."""
        return self._refiled.get(key, key)

    def add_existing(
        self,
        entities: Iterable[EntityRecord],
        aliases: Iterable[AliasRecord] = (),
    ) -> None:
        """Teach the resolver what the store already holds.

        A stored entity whose name keys otherwise now (an earlier graphmem's :func:`normalise_name`:
        "İstanbul" was "i stanbul" before a combining mark stayed in its word) keeps its key: its name's
        key now is filed under it, so that its next mention, or its speaker's next message, is that
        entity and not a second one of the same name.

        Args:
            entities: stored entities (canonical and alias ones).
            aliases: stored alias edges; their alias entities resolve to the canonical key.
        """
        entities = list(entities)
        for record in entities:
            if record.key not in self._entities:
                self._register(record)
            self._speaker_keys.discard(record.key)
        for record in entities:
            self._refile(record)
        for alias in aliases:
            if alias.reason not in ALIAS_REASONS:  # a stored edge graphmem did not write
                from graphmem.errors import StorageError

                raise StorageError(f"entity {alias.alias_key!r} is an alias of {alias.canonical_key!r} for the reason "
                                   f"{alias.reason!r}, none of {', '.join(ALIAS_REASONS)}: graphmem check names such damage")
            self._aliases[alias.alias_key] = alias
        for alias in self._aliases.values():
            self._canonical[alias.alias_key] = self._follow(alias.canonical_key)

    def _refile(self, record: EntityRecord) -> None:
        """File ``record``'s name's key now under its stored key when an earlier graphmem keyed the
        name otherwise (the same name bar spaces and marks, and no stored entity has the key now)."""
        now = normalise_name(record.name)
        if not now or now == record.key or _loose(now) != _loose(record.key):
            return
        if now in self._entities and now not in self._speaker_keys:
            return  # an entity of its own is stored under it
        if now in self._speaker_keys:  # the speaker registered under the key now: it is the stored one
            self._speaker_keys.discard(now)
            del self._entities[now]
            self._canonical.pop(now, None)
            for where, key in list(self._loose.items()):
                if key == now:
                    self._loose[where] = record.key
            for keys in self._first_names.values():
                keys.discard(now)
        if label_group(record.label) == "person":  # "İlker" for "İlker Yılmaz" keyed "i lker yılmaz"
            self._first_names.setdefault(first_word(now), set()).add(record.key)
        self._refiled[now] = record.key

    def unmerge(self, alias_key: str) -> AliasRecord | None:
        """Undo a merge: ``alias_key`` becomes its own canonical entity again.

        Returns:
            The removed alias record (the store should delete that ALIAS_OF edge), or None
            when ``alias_key`` was not an alias.
        """
        record = self._aliases.pop(alias_key, None)
        if record is None:
            return None
        self._canonical[alias_key] = alias_key
        for other in self._aliases.values():
            self._canonical[other.alias_key] = self._follow(other.canonical_key)
        return record

    def lookup(self, key: str, *, person: bool = True) -> str | None:
        """The canonical key a mention of ``key`` would be filed under, without learning anything:
        a known key; the one known person a short form or nickname stands for (with ``person``,
        as for a capitalised mention); the same name bar accents, spaces and hyphens. ``None``
        when no known entity takes it (a name no rule ties to one known entity)."""
        key = self.filed(key)
        if key in self._canonical:
            return self._follow(self._canonical[key])
        found = self._person_for(key) if person else None
        return found if found is not None else self._loose_match(key)

    def _loose_match(self, key: str) -> str | None:
        """A known name of any group that is ``key`` bar accents, spaces and hyphens (one only)."""
        owners = {self._follow(known) for (group, loose), known in self._loose.items() if loose == _loose(key)}
        return owners.pop() if len(owners) == 1 else None

    def _follow(self, key: str) -> str:
        seen = set()
        while key in self._aliases and key not in seen:
            seen.add(key)
            key = self._aliases[key].canonical_key
        return key

    def _register(self, record: EntityRecord) -> None:
        key = record.key
        self._entities[key] = record
        self._canonical.setdefault(key, key)
        group = label_group(record.label) or "named"
        self._loose.setdefault((group, _loose(key)), key)
        if group == "person":
            self._first_names.setdefault(first_word(key), set()).add(key)
        if group == "concept":
            for singular in _key_singulars(key):
                self._plural_index.setdefault(singular, key)
            for word in key.split():
                for form in singular_forms(word) or {word}:
                    self._token_index.setdefault(form, set()).add(key)
            self._prefix_index.setdefault(key[:3], set()).add(key)

    # ----------------------------------------------------------------- resolution

    def resolve(self, mentions: Sequence[Mention], embed_fn: EmbedFn | None = None) -> ResolutionResult:
        """Map each mention to a canonical entity key, creating entities and aliases as needed.

        Args:
            mentions: mentions from :class:`~graphmem.extract.nlp.LanguagePipeline`.
            embed_fn: optional ``embed_fn(texts) -> array`` returning one L2-normalised row
                per text; enables embedding merges of near-duplicate key phrases.

        Returns:
            The resolutions, and the entities and aliases to write.
        """
        new_entities: dict[str, EntityRecord] = {}
        new_aliases: list[AliasRecord] = []
        pending: list[tuple[int, str, Mention]] = []  # concept keys awaiting the embedding step
        out: list[Resolution | None] = []
        for index, mention in enumerate(mentions):
            group = label_group(mention.label)
            key = self.filed(normalise_name(mention.text)) if group else ""
            if not key:
                out.append(Resolution(mention, None, None))
                continue
            known = self._canonical.get(key)
            if known is not None:
                self._upgrade_label(known, mention.label, new_entities)
                out.append(Resolution(mention, known, key))
                continue
            match = self._match(key, group)
            if match is not None:
                canonical, reason, score = match
                out.append(self._alias(mention, key, canonical, reason, score,
                                       new_entities, new_aliases))
                continue
            if group == "concept" and embed_fn is not None:
                pending.append((index, key, mention))
                out.append(None)
                continue
            out.append(self._create(mention, key, new_entities))
        if pending and embed_fn is not None:
            self._resolve_by_embedding(pending, embed_fn, out, new_entities, new_aliases)
        resolutions = tuple(r for r in out if r is not None)
        return ResolutionResult(resolutions, tuple(new_entities.values()), tuple(new_aliases))

    def _create(self, mention: Mention, key: str, new_entities: dict[str, EntityRecord]) -> Resolution:
        record = EntityRecord(key, _display_name(mention.text), mention.label)
        self._register(record)
        new_entities[key] = record
        return Resolution(mention, key, key)

    def _alias(
        self,
        mention: Mention,
        key: str,
        canonical: str,
        reason: str,
        score: float,
        new_entities: dict[str, EntityRecord],
        new_aliases: list[AliasRecord],
    ) -> Resolution:
        canonical = self._follow(canonical)
        record = EntityRecord(key, _display_name(mention.text), mention.label)
        self._entities[key] = record
        new_entities[key] = record
        alias = AliasRecord(key, canonical, reason, round(float(score), 4))
        self._aliases[key] = alias
        self._canonical[key] = canonical
        new_aliases.append(alias)
        logger.debug("alias %r -> %r (%s, %.3f)", key, canonical, reason, score)
        return Resolution(mention, canonical, key, reason)

    def _upgrade_label(self, key: str, label: str, new_entities: dict[str, EntityRecord]) -> None:
        record = self._entities.get(key)
        if record is None or record.label == label:
            return
        if _LABEL_RANK.get(record.label, 1) < _LABEL_RANK.get(label, 1):
            upgraded = EntityRecord(record.key, record.name, label)
            self._entities[key] = upgraded
            new_entities[key] = upgraded
            if label_group(label) == "person":
                self._first_names.setdefault(first_word(key), set()).add(key)

    def _match(self, key: str, group: str) -> tuple[str, str, float] | None:
        if group in ("person", "named"):
            person = self._person_for(key)
            if person is not None:
                return person, "nickname", 1.0
        loose = self._loose.get((group, _loose(key)))
        if loose is not None and loose != key:
            return loose, "normalised", 1.0
        if group == "concept":
            for singular in _key_singulars(key):
                if singular in self._canonical and label_group(
                        self._entities[self._follow(self._canonical[singular])].label) == "concept":
                    return self._canonical[singular], "plural", 1.0
            plural = self._plural_index.get(key)
            if plural is not None and plural != key:
                return plural, "plural", 1.0
        return None

    def _person_for(self, key: str) -> str | None:
        """The one known person a single-word name can stand for, or None."""
        if " " in key or not key.isalpha():
            return None
        owners: set[str] = set()
        owners |= self._first_names.get(key, set())
        if len(key) >= 3:
            for first, persons in self._first_names.items():
                if first.startswith(key) and first != key:
                    owners |= persons
        stands_for = gz.NICKNAMES.get(key, frozenset())
        for full in stands_for:
            owners |= self._first_names.get(full, set())
        for first, persons in self._first_names.items():
            if first == key:
                continue
            if stands_for & gz.NICKNAMES.get(first, frozenset()):  # "Tommy" for "Tom": short forms of one name
                owners |= persons
            elif len(first) >= 3 and key.startswith(first) and key[len(first):] in _DIMINUTIVE_ENDINGS:
                owners |= persons  # "Jonny" for "Jon", "Mikey" for "Mike"
        owners = {self._follow(self._canonical.get(o, o)) for o in owners}
        owners.discard(key)
        if len(owners) == 1:
            return owners.pop()
        if len(owners) > 1:
            logger.debug("%r could stand for %s; not merged", key, sorted(owners))
        return None

    def _candidates(self, key: str) -> set[str]:
        """Known concept keys lexically close enough to ``key`` to compare embeddings."""
        found: set[str] = set()
        for word in key.split():
            for form in singular_forms(word) or {word}:
                found |= self._token_index.get(form, set())
        for other in self._prefix_index.get(key[:3], set()):
            if difflib.SequenceMatcher(None, key, other).ratio() >= self.char_similarity:
                found.add(other)
        found.discard(key)
        return {k for k in found if self._canonical.get(k) == k}

    def _resolve_by_embedding(
        self,
        pending: list[tuple[int, str, Mention]],
        embed_fn: EmbedFn,
        out: list[Resolution | None],
        new_entities: dict[str, EntityRecord],
        new_aliases: list[AliasRecord],
    ) -> None:
        # Embed every pending key and every lexically close known key once.
        wanted: list[str] = []
        for _index, key, _mention in pending:
            for k in (key, *self._candidates(key)):
                if k not in self._vectors and k not in wanted:
                    wanted.append(k)
        if wanted:
            vectors = np.asarray(embed_fn(wanted), dtype=np.float32)
            if vectors.shape[0] != len(wanted):
                raise ValueError(f"embed_fn returned {vectors.shape[0]} rows for {len(wanted)} texts")
            for k, v in zip(wanted, vectors):
                self._vectors[k] = v
        for index, key, mention in pending:
            known = self._canonical.get(key)
            if known is not None:  # an earlier pending mention created it
                out[index] = Resolution(mention, known, key)
                continue
            match = self._match(key, "concept")
            if match is not None:
                canonical, reason, score = match
                out[index] = self._alias(mention, key, canonical, reason, score,
                                         new_entities, new_aliases)
                continue
            best, best_score = None, -1.0
            for other in sorted(self._candidates(key)):
                vector = self._vectors.get(other)
                if vector is None:
                    vector = np.asarray(embed_fn([other]), dtype=np.float32)[0]
                    self._vectors[other] = vector
                score = float(np.dot(self._vectors[key], vector))
                if score > best_score:
                    best, best_score = other, score
            if best is not None and best_score >= self.embedding_threshold:
                out[index] = self._alias(mention, key, best, "embedding", best_score,
                                         new_entities, new_aliases)
            else:
                out[index] = self._create(mention, key, new_entities)


def _display_name(text: str) -> str:
    name = " ".join(text.split())
    return _POSSESSIVE.sub("", name) or name
