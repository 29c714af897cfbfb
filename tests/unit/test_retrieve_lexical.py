"""BM25 index: tokenizer, Porter stemmer, hand-computed BM25 scores, save/load."""

from __future__ import annotations

import math

import numpy as np
import pytest

from graphmem.retrieve.lexical import BM25Params, LexicalIndex, Tokenizer, porter_stem


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("caresses", "caress"), ("ponies", "poni"), ("cats", "cat"), ("feed", "feed"),
        ("agreed", "agre"), ("plastered", "plaster"), ("motoring", "motor"), ("sing", "sing"),
        ("conflated", "conflat"), ("hopping", "hop"), ("falling", "fall"), ("filing", "file"),
        ("happy", "happi"), ("sky", "sky"), ("relational", "relat"), ("conditional", "condit"),
        ("vietnamization", "vietnam"), ("hopefulness", "hope"), ("goodness", "good"),
        ("electrical", "electr"), ("adjustment", "adjust"), ("adoption", "adopt"),
        ("effective", "effect"), ("probate", "probat"), ("rate", "rate"), ("controll", "control"),
        ("roll", "roll"), ("generalization", "gener"),
    ],
)
def test_porter_stem_reference_pairs(word, stem):
    assert porter_stem(word) == stem


def test_a_long_run_of_y_is_stemmed_without_recursion():
    """Before, Porter's consonant test recursed once per "y" of a run: a message with a word
    of a thousand y's ("yyyy...", a held key) raised RecursionError in the BM25 tokenizer, so
    every search of its namespace failed. The stems are those of the recursive definition."""
    import itertools

    def is_cons(word: str, i: int) -> bool:  # Porter (1980), as written
        return word[i] not in "aeiou" and (word[i] != "y" or i == 0 or not is_cons(word, i - 1))

    from graphmem.retrieve.lexical import _measure

    tokens = Tokenizer()("Yay" + "y" * 5000 + " we won, yaaay " + "ya" * 3000)
    assert len(tokens) == 4 and tokens[0].startswith("yayyy") and tokens[1:3] == ["won", "yaaai"]
    assert porter_stem("y" * 5000 + "ing") == "y" * 4999 + "i"  # y after a vowel (a y after a consonant y)
    for size in range(1, 8):
        for word in map("".join, itertools.product("ayeb", repeat=size)):
            vc = sum(1 for i in range(1, len(word)) if not is_cons(word, i - 1) and is_cons(word, i))
            assert _measure(word) == vc, word


def test_tokenizer_stopwords_possessives_and_drop():
    tok = Tokenizer()
    assert tok("When did Caroline's kids go hiking? I don't know.") == ["carolin", "kid", "go", "hike", "know"]
    assert tok("Caroline went hiking", drop=["CAROLINE"]) == ["went", "hike"]
    assert Tokenizer(frozenset({"the"}), None)("The Paintings") == ["paintings"]
    assert Tokenizer(stemmer="light")("paintings painted parties") == ["paint", "paint", "party"]
    with pytest.raises(ValueError):
        Tokenizer(stemmer="snowball")


def _lucene_bm25(tf: int, dl: int, avgdl: float, df: int, n: int, k1: float = 1.2, b: float = 0.75) -> float:
    """Lucene's BM25 (no (k1 + 1) factor in the numerator, as in Lucene >= 8 and bm25s)."""
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    return idf * tf / (tf + k1 * (1 - b + b * dl / avgdl))


def test_scores_match_hand_computed_bm25():
    index = LexicalIndex.build(["d1", "d2", "d3"], ["apple banana", "apple cherry cherry", "durian"])
    scores = index.scores("cherries?")
    # tokens: [appl, banana], [appl, cherri, cherri], [durian]; avgdl = 2
    expected = _lucene_bm25(tf=2, dl=3, avgdl=2.0, df=1, n=3)
    assert expected == pytest.approx(0.537441, abs=1e-5)
    np.testing.assert_allclose(scores, [0.0, expected, 0.0], rtol=1e-5)
    both = index.scores("apple")
    np.testing.assert_allclose(
        both, [_lucene_bm25(1, 2, 2.0, 2, 3), _lucene_bm25(1, 3, 2.0, 2, 3), 0.0], rtol=1e-5
    )


def test_query_orders_breaks_ties_and_omits_zero_scores():
    index = LexicalIndex.build(["a", "b", "c"], ["red fox", "red fox", "blue whale"])
    ids, scores = index.query("red fox", k=5)
    assert ids == ["a", "b"]
    assert scores[0] == pytest.approx(scores[1])
    assert index.query("unknownword") == ([], pytest.approx(np.zeros(0)))
    assert index.scores("the and of").tolist() == [0.0, 0.0, 0.0]


def test_empty_documents_keep_positions():
    index = LexicalIndex.build(["x", "y"], ["", "pottery class"])
    assert index.scores("pottery")[0] == 0.0
    assert index.scores("pottery")[1] > 0.0


def test_save_load_roundtrip(tmp_path):
    params = BM25Params(k1=0.9, b=0.5)
    index = LexicalIndex.build(["a", "b", "c"], ["camping in the mountains", "camped by the lake", "pottery"], params=params)
    index.save(tmp_path / "lex")
    loaded = LexicalIndex.load(tmp_path / "lex")
    assert loaded.ids == ["a", "b", "c"]
    assert loaded.params == params
    assert loaded.tokenizer == index.tokenizer
    np.testing.assert_allclose(loaded.scores("went camping"), index.scores("went camping"))
    with pytest.raises(FileNotFoundError):
        LexicalIndex.load(tmp_path / "missing")


def test_build_rejects_bad_input():
    with pytest.raises(ValueError):
        LexicalIndex.build(["a"], ["x", "y"])
    with pytest.raises(ValueError):
        LexicalIndex.build(["a", "a"], ["x", "y"])
    assert len(LexicalIndex.build([], [])) == 0
    assert LexicalIndex.build([], []).scores("x").shape == (0,)


class _CountingTokenizer(Tokenizer):
    """The default tokenizer, counting the texts it tokenises."""

    def __call__(self, text, drop=()):
        object.__setattr__(self, "calls", getattr(self, "calls", 0) + 1)
        return super().__call__(text, drop)


def test_a_rebuild_reuses_the_tokens_of_texts_it_indexed_before():
    """A rebuild after an add (the stale index passed as ``reuse``) tokenises only the new and
    changed texts, and scores exactly as a build from scratch."""
    texts = ["Mel: I painted a sunset last week", "Caroline: the pride parade was great",
             "Mel: pottery class with the kids", "Caroline: I painted too"]
    first = LexicalIndex.build(["a", "b", "c", "d"], texts, _CountingTokenizer())
    assert first.tokenizer.calls == 4
    later = ["Mel: I painted a sunset last week", "Caroline: the pride parade was wonderful",  # b corrected
             "Mel: pottery class with the kids", "Caroline: I painted too", "Mel: camping at the lake"]
    counting = _CountingTokenizer()
    rebuilt = LexicalIndex.build(["a", "b", "c", "d", "e"], later, counting, reuse=first)
    assert counting.calls == 2  # the corrected turn and the new one
    fresh = LexicalIndex.build(["a", "b", "c", "d", "e"], later, Tokenizer())
    for query in ("painted sunset", "pride parade wonderful", "camping lake", "great"):
        assert np.array_equal(rebuilt.scores(query), fresh.scores(query))
    assert rebuilt.scores("great")[1] == 0  # the corrected text's old words are gone

    other = _CountingTokenizer(stemmer=None)  # another tokenizer: nothing is taken over
    LexicalIndex.build(["a", "b", "c", "d", "e"], later, other, reuse=rebuilt)
    assert other.calls == 5


def test_one_long_word_does_not_widen_every_saved_word(tmp_path):
    """Before, the saved tokens were a fixed-width string array: every word of the vocabulary
    took the longest word's width, so a 50,000-letter hex dump beside 400 words wrote 80 MB
    (a real memory's vocabulary and a megabyte word: hundreds of GiB, a MemoryError at close
    and at every search after). The words come back as they were, long one and non-ASCII ones too."""
    blob = "".join("0123456789abcdef"[(i * 7919) % 16] for i in range(50_000)).replace("0", "x")
    texts = [f"note{i} zürich café 北京 entry{i}" for i in range(400)] + [f"the dump: {blob}"]
    ids = [f"t{i}" for i in range(len(texts))]
    built = LexicalIndex.build(ids, texts, Tokenizer())
    assert any(len(t) > 10_000 for doc in built._tokens.values() for t in doc)  # noqa: SLF001 - one long word indexed
    built.save(tmp_path / "index")
    assert (tmp_path / "index" / "graphmem_tokens.npz").stat().st_size < 1_000_000
    loaded = LexicalIndex.load(tmp_path / "index")
    loaded.remember_texts(texts)
    assert loaded._tokens == built._tokens  # noqa: SLF001
    np.testing.assert_allclose(loaded.scores("zürich dump"), built.scores("zürich dump"))


def test_an_index_loaded_from_disk_takes_its_saved_tokens_once_given_its_texts(tmp_path):
    """A saved index keeps each document's tokens: loaded and given the texts it was built
    from, a rebuild reusing it takes their tokens (tokenising only what is new, as one kept in
    memory does) and scores exactly as a build from scratch; texts that are not its own, or
    damaged tokens, only cost the tokenising."""
    texts = ["Mel: I painted a sunset last week", "", "Caroline: the pride parade was great",
             "Mel: pottery class with the kids, pottery again"]
    built = LexicalIndex.build(["a", "b", "c", "d"], texts, Tokenizer())
    built.save(tmp_path / "index")
    loaded = LexicalIndex.load(tmp_path / "index")
    assert loaded._tokens is None  # noqa: SLF001
    loaded.remember_texts(texts)
    assert loaded._tokens == built._tokens  # noqa: SLF001 - the saved tokens, per text
    later = [*texts, "Mel: camping at the lake"]
    rebuilt = LexicalIndex.build(["a", "b", "c", "d", "e"], later, Tokenizer(), reuse=loaded)
    assert all(rebuilt._tokens[t] is loaded._tokens[t] for t in texts)  # noqa: SLF001 - taken, not tokenised
    fresh = LexicalIndex.build(["a", "b", "c", "d", "e"], later, Tokenizer())
    for query in ("painted sunset", "pottery", "camping lake", "great"):
        assert np.array_equal(rebuilt.scores(query), fresh.scores(query))

    alone = LexicalIndex.load(tmp_path / "index")
    alone.remember_texts(texts[:2])  # not its texts (another count): ignored
    assert alone._tokens is None  # noqa: SLF001
    np.savez(tmp_path / "index" / "graphmem_tokens.npz", vocabulary=np.asarray(["x"]), indptr=np.asarray([0, 1, 1, 1, 9]),
             numbers=np.asarray([0], dtype=np.int32))
    damaged = LexicalIndex.load(tmp_path / "index")
    damaged.remember_texts(texts)
    assert damaged._tokens is None  # noqa: SLF001
    assert np.array_equal(damaged.scores("pottery"), built.scores("pottery"))  # the index itself is fine


def _per_document(bm25) -> dict[tuple[int, str], bytes]:
    """Every (document, term) score of a bm25s index, as the float's bytes, whatever the term's number."""
    term_of = {number: term for term, number in bm25.vocab_dict.items()}
    data, indices, indptr = bm25.scores["data"], bm25.scores["indices"], bm25.scores["indptr"]
    return {(int(indices[j]), term_of[column]): data[j].tobytes()
            for column in range(len(indptr) - 1) for j in range(indptr[column], indptr[column + 1])}


CORPORA = {
    "conversation": [
        "Mel: I went swimming with the kids, then painted a sunset.", "Caroline: Painting sunsets? I paint them too!",
        "", "Mel: swimming swimming swimming", "Caroline: The kids loved the dinosaur exhibit at the museum.",
        "Mel: ¿Qué tal? Café con leche, naïve résumé 東京 🎉", "Caroline: 12 34 2023 — done.",
    ],
    "one document": ["just one short text about pottery"],
    "repeats and lengths": [" ".join(["word"] * n + [f"w{n % 3}"] * (n % 4)) for n in range(1, 60)],
}


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_the_whole_corpus_build_gives_bm25s_scores_bit_for_bit(name):
    """LexicalIndex builds bm25s's Lucene score matrix over the whole corpus at once
    (lexical._Postings): every document's score for every term, and so every query's
    scores, must be the ones bm25s's own per-document build gives."""
    bm25s = pytest.importorskip("bm25s")
    texts = CORPORA[name]
    index = LexicalIndex.build([f"u{i}" for i in range(len(texts))], texts)
    reference = bm25s.BM25(k1=index.params.k1, b=index.params.b, method=index.params.method)
    reference.index([index.tokenizer(t) or [""] for t in texts], show_progress=False)
    ours = index.bm25()
    assert _per_document(ours) == _per_document(reference)
    assert set(ours.vocab_dict) == set(reference.vocab_dict) and ours.scores["num_docs"] == reference.scores["num_docs"]
    for key in ("data", "indices", "indptr"):
        assert ours.scores[key].dtype == reference.scores[key].dtype, key
    for query in ("swimming kids", "paint sunset", "pottery", "word w1", "café 東京", "nothing indexed here", "swimming swimming kids"):
        tokens = [t for t in index.tokenizer(query) if t in reference.vocab_dict]
        want = reference.get_scores(tokens) if tokens else np.zeros(len(texts))
        assert np.array_equal(index.scores(query), np.asarray(want, dtype=np.float64)), query


def test_other_bm25_variants_still_go_through_bm25s():
    bm25s = pytest.importorskip("bm25s")
    texts = CORPORA["conversation"]
    index = LexicalIndex.build([f"u{i}" for i in range(len(texts))], texts, params=BM25Params(method="atire"))
    reference = bm25s.BM25(k1=index.params.k1, b=index.params.b, method="atire")
    reference.index([index.tokenizer(t) or [""] for t in texts], show_progress=False)
    assert index.bm25().vocab_dict == reference.vocab_dict  # numbered by bm25s itself
    assert np.array_equal(index.scores("swimming kids"), reference.get_scores(index.tokenizer("swimming kids")))
    assert index.query("swimming kids", k=1)[0] == ["u0"]


def _reference_bm25(index: LexicalIndex, texts: list[str]):
    bm25s = pytest.importorskip("bm25s")
    reference = bm25s.BM25(k1=index.params.k1, b=index.params.b, method=index.params.method)
    reference.index([index.tokenizer(t) or [""] for t in texts], show_progress=False)
    return reference


def _matrix_of(index: LexicalIndex):
    """The score matrix of ``index``'s postings, on a bm25s object of its own (``index.bm25()``
    would make the index's postings flat)."""
    bm25s = pytest.importorskip("bm25s")
    out = bm25s.BM25(k1=index.params.k1, b=index.params.b, method=index.params.method)
    index._postings.flat().set_on(out)
    return out


WORDS = ("pottery", "painted", "sunset", "kids", "camping", "lake", "museum", "dinosaur", "parade", "café", "東京", "42")


@pytest.mark.parametrize("layers", ["always", "never", "as_sized"])
@pytest.mark.parametrize("carry", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_a_rebuild_after_writes_updates_the_counts_and_scores_as_bm25s(seed, carry, layers, monkeypatch):
    """The build after a write (the stale index passed as ``reuse``) counts only the documents
    added or changed, removes those gone, and gives every (document, term) score bit for bit as
    bm25s's own build over the new corpus, over a random run of adds, corrections, removals
    and empty documents, and a corpus whose kept documents changed order.
    With ``carry`` each build is told where the kept documents went (``carried``, as a patched
    projection tells it), and every third one is not (it then finds them by their texts).
    ``layers``: every update a layer over the first count's pairs (25 deep), every one made
    flat, or as the sizes decide."""
    from graphmem.retrieve import lexical

    if layers != "as_sized":
        monkeypatch.setattr(lexical, "_keep_layered", lambda *_: layers == "always")
    counted = []
    real_count = lexical._Postings.count.__func__
    monkeypatch.setattr(lexical._Postings, "count", classmethod(lambda cls, *a: counted.append(1) or real_count(cls, *a)))
    rng = np.random.default_rng(seed)

    def text() -> str:
        return " ".join(rng.choice(WORDS, size=int(rng.integers(0, 9))).tolist())

    docs = [(f"d{i:03d}", text()) for i in range(12)]
    index = LexicalIndex.build([d for d, _ in docs], [t for _, t in docs])
    before = list(docs)
    assert counted == [1]
    for step in range(25):
        op = rng.integers(4)
        if op == 0 or len(docs) < 3:  # an add, at the end or in the middle (a turn of an earlier session)
            at = int(rng.integers(len(docs) + 1))
            docs.insert(at, (f"n{seed}-{step}", text()))
        elif op == 1:  # a correction keeps the id, not the words
            at = int(rng.integers(len(docs)))
            docs[at] = (docs[at][0], text() + " corrected")
        elif op == 2:
            del docs[int(rng.integers(len(docs)))]
        else:  # several adds at once
            docs += [(f"m{seed}-{step}-{k}", text()) for k in range(3)]
        ids, texts = [d for d, _ in docs], [t for _, t in docs]
        if carry and step % 3:
            now = {d: (j, t) for j, (d, t) in enumerate(docs)}
            carried = np.array([now[d][0] if d in now and now[d][1] == t else -1 for d, t in before], dtype=np.int64)
            index = LexicalIndex.build(ids, texts, reuse=index, carried=carried)
        else:
            if carry:
                index.remember_texts([t for _, t in before])  # as the caches give it the old texts
            index = LexicalIndex.build(ids, texts, reuse=index)
        before = list(docs)
        reference = _reference_bm25(index, texts)
        assert _per_document(_matrix_of(index)) == _per_document(reference), step
        for query in ("pottery sunset", "kids camping lake", "東京 café", "corrected", "42 museum", "kids kids lake"):
            tokens = [t for t in index.tokenizer(query) if t in reference.vocab_dict]
            want = reference.get_scores(tokens) if tokens else np.zeros(len(texts))
            assert np.array_equal(index.scores(query), np.asarray(want, dtype=np.float64)), (step, query)
    assert counted == [1]  # every rebuild after the first updated the counts
    if layers != "as_sized":
        assert (index._postings.to_now is not None) == (layers == "always")
    scored = index.scores("kids camping lake")
    index.bm25()  # the matrix a save writes: the postings are made flat, the scores stay
    assert index._postings.to_now is None and np.array_equal(index.scores("kids camping lake"), scored)

    reordered = docs[1:] + docs[:1]  # the kept documents in another order are renumbered, not counted again
    again = LexicalIndex.build([d for d, _ in reordered], [t for _, t in reordered], reuse=index)
    assert counted == [1]
    for query in ("pottery sunset", "kids camping lake"):
        assert np.array_equal(again.scores(query), np.roll(index.scores(query), -1)), query
    assert _per_document(again.bm25()) == _per_document(_reference_bm25(again, [t for _, t in reordered]))


@pytest.mark.parametrize("carry", [False, True])
def test_a_saved_index_keeps_no_word_of_a_removed_or_changed_text_and_the_same_scores(tmp_path, carry):
    """An index updated after a forget (documents gone) or a correction (a text changed) kept
    every word of the old texts in its vocabulary, and saved it (bm25s's vocab.index.json): a
    forgotten word stayed on disk in a long-running process. The save prunes the words no
    document has; every query's scores stay the same bit for bit, before and after the save,
    after loading, and after later updates, as a fresh build's."""
    import json as json_

    docs = [("a", "pottery class with the kids"), ("b", "secret passport zq 77731 quillfeather lane"),
            ("c", "camping at the lake with the kids"), ("d", "sunset over the lake"), ("e", "quillfeather museum visit")]
    index = LexicalIndex.build([d for d, _ in docs], [t for _, t in docs])
    later = [("a", "pottery class with the kids"), ("c", "camping at the lake with the kids"), ("d", "sunset over the lake"),
             ("e", "museum visit"), ("f", "the kids went camping again")]
    ids, texts = [d for d, _ in later], [t for _, t in later]
    if carry:
        index = LexicalIndex.build(ids, texts, reuse=index, carried=np.array([0, -1, 1, 2, -1]))
    else:
        index = LexicalIndex.build(ids, texts, reuse=index)
    assert {"passport", "quillfeath", "77731"} <= set(index.absent_terms())
    queries = ("pottery kids", "camping lake", "museum", "kids kids lake sunset", "quillfeather passport", "again")
    fresh = LexicalIndex.build(ids, texts)
    before = {q: index.scores(q) for q in queries}
    for q in queries:
        assert np.array_equal(before[q], fresh.scores(q)), q
    index.save(tmp_path / "lexical")
    vocabulary = json_.loads((tmp_path / "lexical" / "bm25s" / "vocab.index.json").read_text(encoding="utf-8"))
    assert not {"passport", "quillfeath", "77731", "zq", "secret", "lane"} & set(vocabulary), vocabulary
    assert set(vocabulary) - {""} == {t for text in texts for t in index.tokenizer(text)}
    assert index.absent_terms() == []
    loaded = LexicalIndex.load(tmp_path / "lexical")
    assert loaded.absent_terms() == []
    for q in queries:
        assert np.array_equal(index.scores(q), before[q]) and np.array_equal(loaded.scores(q), before[q]), q
        (found, scores), (want, wanted) = index.query(q, k=5), fresh.query(q, k=5)
        assert found == want and np.array_equal(scores, wanted), q  # the same ranking
    again = LexicalIndex.build([*ids, "g"], [*texts, "a passport renewal"], reuse=index)  # updates go on from the pruned one
    reference = LexicalIndex.build([*ids, "g"], [*texts, "a passport renewal"])
    for q in (*queries, "passport renewal"):
        assert np.array_equal(again.scores(q), reference.scores(q)), q


def test_text_is_read_in_unicodes_compatibility_form():
    """"Zürich" typed with a combining accent (as macOS input gives it), with a zero-width space or a
    soft hyphen inside, or in fullwidth letters matched nothing of "Zürich" as stored."""
    import unicodedata

    tok = Tokenizer()
    assert tok(unicodedata.normalize("NFD", "Zürich")) == tok("Zürich") == tok("Zü\u200brich") == tok("Zür\u00adich")
    assert tok("\uff3a\uff55\uff52\uff49\uff43\uff48") == tok("Zurich")
    index = LexicalIndex.build(["a", "b"], ["We moved to Zürich in May.", "Lisbon was lovely."])
    assert index.query(unicodedata.normalize("NFD", "Zürich"), k=2)[0] == ["a"]
    old = Tokenizer.from_dict({k: v for k, v in tok.to_dict().items() if k != "fold"})
    assert not old.fold and old != tok  # an index saved before: loaded as it was built, tokenised anew at its next build


def test_words_of_every_script_are_found_whole():
    """A Chinese or Japanese clause was one token (searching "钢琴" found nothing of "我妹妹在上海学习钢琴"),
    a word was cut at each combining mark ("राम" and "रोम" were both the letters र and म), "İstanbul"
    lost its first letter to a stop word and "Hauptstraße" did not match "HAUPTSTRASSE"."""
    tok = Tokenizer()
    texts = ["我妹妹在上海学习钢琴。", "昨天我们去了北京看长城。", "कल राम से मिला।", "मैं रोम गया था।",
             "We flew to İstanbul.", "Wir wohnen in der Hauptstraße.", "東京でコーヒーを飲みました。", "서울에서 만나요."]
    index = LexicalIndex.build([str(i) for i in range(len(texts))], texts)
    for query, found in (("钢琴", "0"), ("北京", "1"), ("长城", "1"), ("राम", "2"), ("रोम", "3"), ("istanbul", "4"),
                         ("ISTANBUL", "4"), ("HAUPTSTRASSE", "5"), ("コーヒー", "6"), ("東京", "6"), ("서울", "7")):
        ids, scores = index.query(query, k=len(texts))
        assert ids[0] == found and scores[0] > 0 and (len(ids) == 1 or scores[1] < scores[0]), (query, ids, scores)
    assert tok("京") == ["京"] and tok("钢琴") == ["钢琴", "钢", "琴"]
    cats = LexicalIndex.build(["a", "b", "c"], ["我的猫很可爱", "我家的狗叫小白", "猫が好きです"])
    assert sorted(cats.query("猫", k=3)[0][:2]) == ["a", "c"] and cats.query("狗", k=1)[0] == ["b"]  # one character
    assert tok("I don't like Caroline's cat.") == Tokenizer(scripts=False)("I don't like Caroline's cat.")
    old = Tokenizer.from_dict({k: v for k, v in tok.to_dict().items() if k != "scripts"})
    assert not old.scripts and old != tok and old("钢琴 上海") == ["钢琴", "上海"]  # a saved index: as it was built
