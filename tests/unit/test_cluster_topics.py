"""TopicModel and link_hierarchy on small synthetic embeddings."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from graphmem.cluster.topics import (
    FitPaused,
    Mixtures,
    TopicConfig,
    TopicModel,
    _ENGLISH_STOPWORDS,
    _fit_mixture,
    _search_k,
    fit_models,
    link_hierarchy,
    membership_rows,
    text_terms,
)


def _blobs(n_per: int, centres: int, dim: int = 24, spread: float = 0.05, seed: int = 0):
    """Unit vectors around ``centres`` random directions; returns (x, true labels)."""
    rng = np.random.default_rng(seed)
    anchors = rng.normal(size=(centres, dim))
    anchors /= np.linalg.norm(anchors, axis=1, keepdims=True)
    labels = np.repeat(np.arange(centres), n_per)
    x = anchors[labels] + rng.normal(scale=spread, size=(labels.size, dim))
    return x / np.linalg.norm(x, axis=1, keepdims=True), labels


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def test_bic_recovers_the_number_of_blobs():
    x, labels = _blobs(30, 4)
    model = TopicModel(TopicConfig(k_max=10, pca_dims=8)).fit(x)
    assert model.n_topics_ == 4
    assert _same_partition(model.predict(x), labels)
    assert model.topic_sizes_.tolist() == [30, 30, 30, 30]
    assert model.topic_labels_ == ["topic 0", "topic 1", "topic 2", "topic 3"]
    assert model.fallback_ is None
    assert min(model.bic_) == 2 and max(model.bic_) == 10 and 4 in model.bic_


def test_diag_covariance_is_supported():
    x, labels = _blobs(30, 3)
    model = TopicModel(TopicConfig(k_max=6, pca_dims=8, covariance_type="diag")).fit(x)
    assert _same_partition(model.predict(x), labels)


@pytest.mark.parametrize("covariance_type", ["spherical", "diag"])
@pytest.mark.parametrize("k, n_init", [(2, 1), (5, 1), (9, 1), (5, 3)])
def test_the_mixture_fit_is_sklearns(covariance_type, k, n_init):
    """``_fit_mixture`` runs sklearn's EM without the estimator around it: from the same
    k-means start it reaches the same weights, means, variances and BIC, overlapping
    blobs (several EM iterations) included."""
    from sklearn.mixture import GaussianMixture

    x, _ = _blobs(40, 6, dim=12, spread=0.3, seed=3)
    config = TopicConfig(covariance_type=covariance_type, n_init=n_init, random_state=7)
    weights, means, variances, bic = _fit_mixture(x, k, config)
    reference = GaussianMixture(k, covariance_type=covariance_type, reg_covar=config.reg_covar, max_iter=config.max_iter,
                                n_init=n_init, random_state=7).fit(x)
    assert reference.n_iter_ > 2
    np.testing.assert_allclose(weights, reference.weights_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(means, reference.means_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(variances, reference.covariances_, rtol=1e-9, atol=1e-12)
    assert bic == pytest.approx(reference.bic(x), rel=1e-10)


def test_k_max_scales_with_n():
    x, _ = _blobs(10, 6)  # 60 units; min_cluster_size 20 allows at most 3 topics
    model = TopicModel(TopicConfig(k_max=40, min_cluster_size=20, pca_dims=8)).fit(x)
    assert max(model.bic_) == 3
    assert model.n_topics_ <= 3



def test_a_large_granularity_fits_its_mixtures_on_a_sample_and_places_every_unit(monkeypatch):
    """Beyond ``fit_sample`` units the mixtures see a seeded sample; every unit still gets its
    memberships, the topics their sizes and labels from all of them, and the fit stays
    deterministic. Below it nothing changes."""
    x, labels = _blobs(150, 4, seed=3)  # 600 units
    texts = [f"{word} {word}s" for word in ("garden", "violin", "kayak", "pottery") for _ in range(150)]
    seen: list[int] = []
    real = _fit_mixture

    def spy(z, k, cfg):
        seen.append(z.shape[0])
        return real(z, k, cfg)

    monkeypatch.setattr("graphmem.cluster.topics._fit_mixture", spy)
    config = TopicConfig(k_max=8, pca_dims=8, fit_sample=120)
    model = TopicModel(config).fit(x, texts)
    assert seen and set(seen) == {120}
    assert model.fitted_units_ == 120
    assert model.n_topics_ == 4 and _same_partition(model.predict(x), labels)
    assert sorted(model.topic_sizes_.tolist()) == [150, 150, 150, 150]  # sizes count every unit
    words = ("garden", "kayak", "pottery", "violin")
    assert sorted(w for label in model.topic_labels_ for w in words if w in label) == list(words)  # each labelled by its units' words
    assert model.assign(x).shape == (600, 4)
    assert TopicModel(config).fit(x, texts).to_state() == model.to_state()
    restored = TopicModel.from_state(json.loads(json.dumps(model.to_state())))
    assert restored.fitted_units_ == 120 and np.array_equal(restored.assign(x), model.assign(x))

    seen.clear()
    whole = TopicModel(TopicConfig(k_max=8, pca_dims=8, fit_sample=600)).fit(x, texts)
    assert set(seen) == {600} and whole.fitted_units_ == 600
    assert whole.n_topics_ == 4 and _same_partition(whole.predict(x), labels)
    # a state saved before fit_sample existed: its mixtures saw every unit
    old = whole.to_state()
    del old["fitted_units"], old["config"]["fit_sample"]
    assert TopicModel.from_state(old).fitted_units_ == 600

@pytest.mark.parametrize("n", [1, 3])
def test_small_n_falls_back_to_one_topic(n, caplog):
    x, _ = _blobs(n, 1)
    with caplog.at_level(logging.INFO, logger="graphmem.cluster.topics"):
        model = TopicModel().fit(x, ["pasta with basil"] * n)
    assert model.n_topics_ == 1
    assert model.fallback_ is not None and "single topic" in model.fallback_
    assert "single topic" in caplog.text
    assert model.assign(x).tolist() == [[1.0]] * n
    # "with" is a stopword and a bigram never bridges one
    assert model.topic_terms_ == [["basil", "pasta"]]
    assert np.isfinite(model.score_fit(x))


def test_assign_keeps_strong_memberships_only():
    x, _ = _blobs(20, 3, spread=0.2)
    model = TopicModel(TopicConfig(k_max=5, pca_dims=8, membership_threshold=0.3)).fit(x)
    post = model.predict_proba(x)
    kept = model.assign(x)
    strongest = post.argmax(axis=1)
    assert np.all(kept[np.arange(len(x)), strongest] == post[np.arange(len(x)), strongest])
    others = kept.copy()
    others[np.arange(len(x)), strongest] = 0
    assert np.all((others == 0) | (others >= 0.3))
    assert np.all((kept == 0) | (kept == post))
    rows = membership_rows(kept)
    assert len(rows) == int(np.count_nonzero(kept))
    assert all(kept[u, t] == p for u, t, p in rows)


def test_labels_from_texts_are_distinctive():
    x, labels = _blobs(12, 2)
    texts = [
        "the tomato sauce and basil" if lab == 0 else "the goalkeeper saved a penalty"
        for lab in labels
    ]
    model = TopicModel(TopicConfig(k_max=4, pca_dims=4)).fit(x, texts)
    first = model.predict(x[:1])[0]
    assert "tomato sauce" in model.topic_terms_[first]
    # a unigram inside a chosen bigram is not repeated
    assert "tomato" not in model.topic_terms_[first]
    assert all("goalkeeper" not in t for t in model.topic_terms_[first])


def test_a_long_word_does_not_widen_every_term_of_the_labelling():
    """Before, the terms were copied into a fixed-width string array to count their words: a
    50,000-letter word in two texts beside 1,000 words took 430 MB at the peak (each term at
    50,000 x 4 bytes; a megabyte word in a real memory, gigabytes), 47 MB now."""
    import gzip
    import tracemalloc
    from importlib import resources

    with resources.files("graphmem.data").joinpath("english_words.txt.gz").open("rb") as raw:
        words = [w for w in gzip.decompress(raw.read()).decode().split() if w.isalpha() and w.islower()][:2000:2]
    blob = "".join("qwertyuiopasdfghjklzxcvbnm"[(i * 7) % 26] for i in range(50_000))
    texts = [" ".join(words[i:i + 10]) for i in range(0, len(words), 10)] * 2 + [f"tomato {blob}", f"basil {blob}"]
    x, _ = _blobs(len(texts) // 2, 2)
    x = np.vstack([x, x[:len(texts) - len(x)]])
    tracemalloc.start()
    try:
        model = TopicModel(TopicConfig(k_max=2, pca_dims=4)).fit(x, texts)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100_000_000, peak
    assert model.topic_terms_ and all(isinstance(t, str) for terms in model.topic_terms_ for t in terms)


def test_relabel_from_the_fitted_memberships_gives_the_fit_labels_and_drops_words_of_removed_units():
    x, labels = _blobs(12, 2)
    texts = ["the tomato sauce and basil" if lab == 0 else "the goalkeeper saved a penalty" for lab in labels]
    texts[0] = texts[1] = "the tomato sauce and a zeppelin"  # two texts: the term passes min_term_df
    model = TopicModel(TopicConfig(k_max=4, pca_dims=4)).fit(x, texts)
    fitted = [list(t) for t in model.topic_terms_], list(model.topic_labels_), model.topic_sizes_.tolist()
    means = model.means_.copy()
    first = model.predict(x[:1])[0]
    assert "zeppelin" in model.topic_terms_[first]
    assert "zeppelin" in text_terms(texts[:1]) and not {"the", "and", "a"} & text_terms(texts)

    memberships = model.assign(x)
    model.relabel(texts, memberships)  # the units it was fitted on, as stored: the same labels
    assert ([list(t) for t in model.topic_terms_], model.topic_labels_, model.topic_sizes_.tolist()) == fitted
    model.relabel(texts[2:], memberships[2:])  # the two zeppelin texts forgotten
    assert all("zeppelin" not in term for terms in model.topic_terms_ for term in terms)
    assert "tomato sauce" in model.topic_terms_[first]
    assert model.topic_sizes_.sum() == len(texts) - 2
    assert np.array_equal(model.means_, means)  # the mixture stays
    restored = TopicModel.from_state(json.loads(json.dumps(model.to_state())))
    assert restored.topic_labels_ == model.topic_labels_
    with pytest.raises(ValueError, match="memberships of shape"):
        model.relabel(texts, memberships[2:])


def test_extra_stopwords_keep_names_out_of_labels():
    x, _ = _blobs(12, 2)
    texts = ["Caroline loves painting landscapes"] * 24
    model = TopicModel(TopicConfig(k_max=4, pca_dims=4)).fit(x, texts, extra_stopwords=["Caroline"])
    assert all("caroline" not in term for terms in model.topic_terms_ for term in terms)


def test_the_english_stopwords_are_scikit_learns():
    """graphmem keeps its own copy so that text_terms (run by every forget) needs no
    scikit-learn import; it must stay the list the labels' CountVectorizer leaves out."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    assert _ENGLISH_STOPWORDS == frozenset(ENGLISH_STOP_WORDS)


def test_text_terms_imports_no_scikit_learn():
    import subprocess
    import sys

    code = ("import sys; from graphmem.cluster.topics import text_terms; "
            "terms = text_terms(['We went hiking near the lake']); "
            "print(sorted(terms), any(m == 'sklearn' or m.startswith('sklearn.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")[0]
    assert out == "['hiking', 'hiking near', 'lake', 'near'] False"


def test_fit_is_deterministic_and_state_round_trips():
    x, _ = _blobs(25, 3, spread=0.15, seed=4)
    config = TopicConfig(k_max=6, pca_dims=8)
    a = TopicModel(config).fit(x)
    b = TopicModel(config).fit(x)
    assert a.to_state() == b.to_state()
    restored = TopicModel.from_state(json.loads(json.dumps(a.to_state())))
    assert restored.config == config
    assert np.array_equal(restored.assign(x), a.assign(x))


@pytest.mark.parametrize("workers", [None, 2, 3])
def test_models_fitted_side_by_side_are_the_ones_fitted_one_after_another(workers):
    jobs = [(TopicConfig(k_max=6, pca_dims=8), *_blobs(25, 3, spread=0.15, seed=4)[:1], None, ()),
            (TopicConfig(k_max=8, pca_dims=6, min_cluster_size=5), _blobs(40, 4, seed=1)[0],
             [f"text {i} about subject {i % 4}" for i in range(160)], ["subject"]),
            (TopicConfig(k_max=4, pca_dims=4), _blobs(6, 2, seed=2)[0], None, ())]
    alone = [TopicModel(cfg).fit(x, texts, extra_stopwords=stop).to_state() for cfg, x, texts, stop in jobs]
    assert [m.to_state() for m in fit_models(jobs, workers=workers)] == alone
    with pytest.raises(ValueError, match="blas_threads"):
        fit_models([jobs[0], (TopicConfig(blas_threads=None), *jobs[1][1:])], workers=2)
    with pytest.raises(ValueError, match="texts"):
        fit_models([jobs[0], (jobs[1][0], jobs[1][1], ["one"], ())], workers=2)


@pytest.mark.parametrize("stops", [1, 3, 6])
def test_a_fit_paused_between_mixtures_goes_on_to_the_model_an_uninterrupted_fit_gives(monkeypatch, stops):
    """A fit whose ``Mixtures`` says pause stops before its next mixture (FitPaused); fitted
    again with the same ``Mixtures`` (paused again, then not), it ends in the model of a fit
    without pauses, and fits each mixture once."""
    import graphmem.cluster.topics as topics

    x, _ = _blobs(30, 4, spread=0.1, seed=5)
    texts = [f"subject {i % 4} words {i}" for i in range(len(x))]
    config = TopicConfig(k_max=12, pca_dims=8, min_cluster_size=5)
    counts: list[int] = []
    original = topics._fit_mixture

    def counted(z, k, cfg):
        counts.append(k)
        return original(z, k, cfg)

    monkeypatch.setattr(topics, "_fit_mixture", counted)
    whole = TopicModel(config).fit(x, texts)
    once = sorted(counts)
    assert len(once) > stops + 1  # the search tries more counts than the pauses leave
    counts.clear()
    asked = 0

    def pause():  # true every ``stops`` mixtures
        nonlocal asked
        asked += 1
        return asked % (stops + 1) == 0

    mixtures = Mixtures(pause)
    pauses = 0
    while True:
        model = TopicModel(config)
        model._mixtures = mixtures
        try:
            model.fit(x, texts)
            break
        except FitPaused:
            pauses += 1
    assert pauses >= 1 and sorted(counts) == once
    assert model.to_state() == whole.to_state()
    # fit_models with the kept mixtures of a finished fit fits nothing again
    counts.clear()
    [again] = fit_models([(config, x, texts, ())], mixtures=[mixtures])
    assert counts == [] and again.to_state() == whole.to_state()
    with pytest.raises(ValueError, match="mixture stores"):
        fit_models([(config, x, texts, ())], mixtures=[])


def test_bad_input_is_rejected():
    model = TopicModel(TopicConfig(pca_dims=4))
    with pytest.raises(RuntimeError, match="not fitted"):
        model.assign(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="2-D"):
        model.fit(np.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        model.fit(np.full((4, 3), np.nan))
    with pytest.raises(ValueError, match="texts"):
        model.fit(np.ones((4, 3)), ["a"])
    x, _ = _blobs(10, 2)
    model.fit(x)
    with pytest.raises(ValueError, match="dimension"):
        model.assign(np.ones((2, 5)))
    with pytest.raises(ValueError, match="format"):
        TopicModel.from_state({"format": "other"})
    with pytest.raises(ValueError, match="covariance_type"):
        TopicConfig(covariance_type="full")


def test_search_k_finds_the_minimum_with_few_fits():
    calls = []

    def bic(k):
        calls.append(k)
        return (k - 23) ** 2

    assert _search_k(bic, 2, 200, 8) == 23
    assert len(set(calls)) < 25
    assert _search_k(lambda k: -k, 2, 5, 8) == 5


def test_link_hierarchy_weights():
    # four events in three turns; event topics (2) within turn topics (2)
    child = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    parent_of = np.array([0, 1, 2, -1])  # the last event has no turn
    parent = np.array([[1.0, 0.0], [0.6, 0.4], [0.0, 1.0]])
    edges = link_hierarchy(child, parent_of, parent, min_weight=0.25, max_parents=2)
    # event topic 0: mass (1.0 + 0.6, 0.4) -> (0.8, 0.2); 0.2 < min_weight is dropped
    assert edges == [(0, 0, pytest.approx(0.8)), (1, 1, pytest.approx(1.0))]
    loose = link_hierarchy(child, parent_of, parent, min_weight=0.1)
    assert (0, 1, pytest.approx(0.2)) in loose
    with pytest.raises(ValueError, match="out of range"):
        link_hierarchy(child, np.array([0, 1, 2, 3]), parent)


def test_topic_terms_are_words_of_any_alphabet():
    """Labels took ASCII letters only: "Café Müller" gave "caf" and "ller", "Fußball" "fu" and
    "ball", a Russian chat no word at all, a Chinese one nothing."""
    assert {"café", "müller", "münchen", "fußball"} <= text_terms(["Wir waren im Café Müller in München, Fußball schauen."])
    assert {"москва", "дмитрий"} <= text_terms(["Дмитрий переехал в Москва недавно."])
    assert {"上海", "钢琴"} <= text_terms(["我妹妹在上海学习钢琴"])
    assert not {"caf", "ller", "fu", "nchen"} & text_terms(["Wir waren im Café Müller in München, Fußball schauen."])


def test_a_chinese_topic_label_is_not_made_of_joined_character_pairs():
    """The overlapping character pairs of a CJK run were joined into two-word terms ("习钢 钢琴"),
    and a speaker typed with a combining accent was kept in the labels ("zoë adopted")."""
    import unicodedata

    terms = text_terms(["我妹妹在上海学习钢琴"])
    assert "钢琴" in terms and not any(" " in t for t in terms), terms
    texts = [f"{unicodedata.normalize('NFD', 'Zoë')} adopted a kitten named Mochi {i}" for i in range(6)]
    model = TopicModel(TopicConfig(k_min=1, k_max=1, pca_dims=2)).fit(np.random.default_rng(0).normal(size=(6, 4)), texts,
                                                             extra_stopwords=["Zoë"])
    assert not any("zoë" in unicodedata.normalize("NFC", t) for t in model.topic_terms_[0]), model.topic_terms_
