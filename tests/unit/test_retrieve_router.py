"""Query cues and routing decisions."""

from __future__ import annotations

from datetime import date

import pytest

from graphmem.retrieve.config import RetrievalConfig
from graphmem.retrieve.router import (
    QueryFeatures,
    TimeCue,
    parse_time_cue,
    route,
)

PLAIN = RetrievalConfig(activation_weight=0.0, entropy_route_temperature=None)

NAMES = ["Caroline", "Melanie", "Mel", "Jon"]


def _day(year: int, month: int, day: int) -> int:
    return (date(year, month, day) - date(1970, 1, 1)).days


def test_parse_time_cue():
    may3, feb1 = (_day(2023, 5, 3),) * 2, (_day(2023, 2, 1),) * 2
    assert parse_time_cue("Who did Maria have dinner with on May 3, 2023?") == TimeCue((5,), (2023,), (3,), dates=(may3,))
    assert parse_time_cue("What did Gina find on 1 February, 2023?") == TimeCue((2,), (2023,), (1,), dates=(feb1,))
    assert parse_time_cue("When did Melanie go camping in June?") == TimeCue((6,), (), ())
    assert parse_time_cue("How many times has Melanie gone to the beach in 2023?") == TimeCue((), (2023,), ())
    # "may" the modal verb, and "May" without a date context, are not months
    assert not parse_time_cue("May I ask what you may have done?")
    assert parse_time_cue("What happened in May?") == TimeCue((5,), (), ())
    assert parse_time_cue("What did I buy last May?") == TimeCue((5,), (), ())
    assert parse_time_cue("Where are we going next May?").months == (5,)


def test_days_named_with_their_month_are_dates_of_the_cue():
    tuesday = date(2023, 5, 30)
    # written with its year: the same day whenever asked
    assert parse_time_cue("What did I buy on 2023-05-03?").dates == ((_day(2023, 5, 3),) * 2,)
    assert parse_time_cue("What did I buy on 2023-05-03?").months == (5,)  # digits name the month too
    assert parse_time_cue("What did I say on the evening of 7 July, 2023?", tuesday).dates == ((_day(2023, 7, 7),) * 2,)
    # without its year: resolved against when the query is asked, and left out when that is not known
    assert parse_time_cue("What did I do on March 10?", tuesday).dates == ((_day(2023, 3, 10),) * 2,)
    assert parse_time_cue("What did I do on March 10?").dates == ()
    assert parse_time_cue("What did I do on March 10?").months == (3,)
    # two days named as a range: the days from the first to the last; else each day
    assert parse_time_cue("What happened between May 3 and May 20, 2023?").dates == ((_day(2023, 5, 3), _day(2023, 5, 20)),)
    assert parse_time_cue("What did I do on May 3 or on September 20, 2023?").dates == (
        (_day(2023, 5, 3),) * 2, (_day(2023, 9, 20),) * 2)  # (not the summer between them)
    assert parse_time_cue("What did I buy on 2023-05-03 and on 2023-05-09?").dates == (
        (_day(2023, 5, 3),) * 2, (_day(2023, 5, 9),) * 2)  # (an ISO date's dashes are no range)
    # a month, a year or a relative day is no date
    assert parse_time_cue("What did I do in May 2023?", tuesday).dates == ()
    assert parse_time_cue("What did I do yesterday?", tuesday).dates == ()
    assert "on 2023-05-03" in parse_time_cue("Who did Maria have dinner with on May 3, 2023?").describe()


def test_relative_time_expressions_resolve_against_when_the_query_is_asked():
    tuesday = date(2023, 5, 30)
    assert parse_time_cue("What did I do last Saturday?", tuesday).spans == ((_day(2023, 5, 27), _day(2023, 5, 27)),)
    assert parse_time_cue("What did I buy two weeks ago?", tuesday).spans == ((_day(2023, 5, 15), _day(2023, 5, 21)),)
    assert parse_time_cue("Where did we go last summer?", tuesday).spans == ((_day(2022, 6, 1), _day(2022, 8, 31)),)
    # not asked at a known time: relative expressions are left out, explicit ones stay
    assert not parse_time_cue("What did I do last Saturday?")
    assert parse_time_cue("What did I do last Saturday?", date(2024, 1, 10)).spans == ((_day(2024, 1, 6), _day(2024, 1, 6)),)
    # the one full date the query states anchors its relative expressions
    anchored = parse_time_cue("What did Maria do last weekend before April 10, 2023?", tuesday)
    # the date itself is a day named
    assert anchored == TimeCue((4,), (2023,), (10,), ((_day(2023, 4, 8), _day(2023, 4, 9)),), ((_day(2023, 4, 10),) * 2,))
    assert parse_time_cue("Which airline did I fly with on Valentine's day?", tuesday).spans == ((_day(2023, 2, 14),) * 2,)
    # an expression right before another is read through the later one ("which Wednesday")
    assert parse_time_cue("What did I do on the Wednesday two months ago?", tuesday).spans == ((_day(2023, 3, 1), _day(2023, 3, 31)),)
    # a season opening a name is no time; a bare "ago" resolves nothing
    assert not parse_time_cue("How many weeks passed before I joined the Spring Fling Market?", tuesday)
    assert not parse_time_cue("How many days ago did I attend the baking class?", tuesday)
    features = QueryFeatures.from_query("What did I do last Saturday?", NAMES, tuesday)
    assert features.time and features.temporal and "time:resolved" in features.cues
    plan = route(features, None, PLAIN)
    assert plan.weights["time"] == 1.0
    assert any("days 2023-05-27" in r for r in plan.reasons)


def test_features_names_and_cues():
    f = QueryFeatures.from_query("When did Caroline's friend visit the LGBTQ center in Boston?", NAMES)
    assert f.names == ("Caroline",)
    assert f.candidate_names == ("LGBTQ", "Boston")
    assert f.temporal and not f.aggregation
    g = QueryFeatures.from_query("What books has Melanie read?", NAMES)
    assert g.aggregation and "aggregation:what books" in g.cues
    assert g.names == ("Melanie",)  # "Mel" is not matched inside "Melanie"
    h = QueryFeatures.from_query("What do Melanie and Caroline both like?", NAMES)
    assert set(h.names) == {"Melanie", "Caroline"}
    assert "aggregation:both" in h.cues and "aggregation:and" in h.cues
    assert QueryFeatures.from_query("Where has Melanie camped?", NAMES).aggregation
    plain = QueryFeatures.from_query("What is Caroline's identity?", NAMES)
    assert not plain.aggregation and not plain.temporal and not plain.time


def test_names_a_query_gives_in_any_alphabet_are_candidates_whole():
    """"Zoë" was the candidate name "Zo", "Kraków" was "Krak", "São Paulo" was "Paulo"; "Élodie" and
    "Дмитрий" were no candidates (activation was not switched on for them)."""
    f = QueryFeatures.from_query("Did Zoë visit Kraków or São Paulo with Élodie and Дмитрий?", NAMES)
    assert f.candidate_names == ("Zoë", "Kraków", "São Paulo", "Élodie", "Дмитрий"), f.candidate_names
    assert QueryFeatures.from_query("कमला कहाँ गई?", ["कमल", "कमला"]).names == ("कमला",)  # a vowel sign ends no word
    assert QueryFeatures.from_query("कमला कहाँ गई?", ["कमल"]).names == ()
    # a day of the week is a time, not a name to spread activation from
    assert QueryFeatures.from_query("What did I tell you on Sunday?", NAMES).candidate_names == ()
    assert QueryFeatures.from_query("Where did Ana go last Saturday?", NAMES).candidate_names == ("Ana",)


def test_route_defaults_and_time():
    plan = route(QueryFeatures.from_query("What is Caroline's identity?", NAMES), None, PLAIN)
    assert dict(plan.weights) == {
        "lexical:turn": 1.0, "dense:turn": 1.0, "lexical:episode": 0.5, "dense:episode": 0.5, "expansion:next": 0.5,
    }
    assert not plan.uses("time") and not plan.uses("activation")
    timed = route(QueryFeatures.from_query("When did Melanie go camping in June?", NAMES), None, PLAIN)
    assert timed.weights["time"] == 1.0 and timed.time == TimeCue((6,), (), ())
    assert any("date in the query (months [6])" in r for r in timed.reasons)


def test_route_aggregation_and_activation_switches():
    feats = QueryFeatures.from_query("What books has Melanie read in Paris?", NAMES)
    plan = route(feats, None, PLAIN.with_(aggregation_episode_factor=0.5, activation_weight=0.7))
    assert plan.weights["lexical:episode"] == 0.25 and plan.weights["dense:episode"] == 0.25
    assert plan.weights["activation"] == 0.7
    assert plan.seed_names == ("Melanie", "Paris")


def test_route_entropy_reweighting_hand_values():
    feats = QueryFeatures.from_query("What is Caroline's identity?", NAMES)
    plan = route(feats, {"turn": 0.2, "episode": 0.6}, PLAIN.with_(entropy_route_temperature=0.4))
    # shares softmax(-[0.2, 0.6] / 0.4) = softmax([-0.5, -1.5]); the granularities' total
    # weight (turn 1 + 1, episode 0.5 + 0.5) of 3 is kept and split by them
    share_turn = 1 / (1 + pytest.importorskip("math").exp(-1.0))
    assert plan.weights["lexical:turn"] == pytest.approx(3 * share_turn / 2)
    assert plan.weights["dense:episode"] == pytest.approx(3 * (1 - share_turn) / 2)
    assert plan.weights["expansion:next"] == 0.5
    untouched = route(feats, {"turn": 0.2, "episode": 0.6}, PLAIN)
    assert untouched.weights["lexical:turn"] == 1.0


def test_known_names_whole_words_longest_first():
    f = QueryFeatures.from_query("What did Jon Smith tell Mel?", ["Jon", "Jon Smith", "Mel", "Melanie"])
    assert f.names == ("Jon Smith", "Mel")
    assert QueryFeatures.from_query("Did Jon call?", ["Jon", "Jon Smith"]).names == ("Jon",)


def test_aggregation_cue_asks_for_episode_diversity_only_when_configured():
    feats = QueryFeatures.from_query("What books has Melanie read?", NAMES)
    assert route(feats, None, PLAIN.with_(episode_diversity=0.0)).episode_diversity == 0.0
    plan = route(feats, None, PLAIN.with_(episode_diversity=0.25))
    assert plan.episode_diversity == 0.25 and any("spread over episodes" in r for r in plan.reasons)
    single = route(QueryFeatures.from_query("What is Caroline's identity?", NAMES), None, PLAIN.with_(episode_diversity=0.25))
    assert single.episode_diversity == 0.0
    assert RetrievalConfig().episode_diversity > 0  # on by default


@pytest.mark.parametrize(("question", "aggregates"), [
    ("What books has Melanie read?", True),  # plural noun after "what"
    ("How many times has Melanie gone to the beach?", True),
    ("What kinds of art does Caroline make?", True),  # plural "kinds of": several
    ("What kind of pot did Mel and her kids make with clay?", False),  # one kind: one answer
    ("What type of workout class did Maria start?", False),
    ("How often does John take his kids to the park?", False),  # a frequency is stated once
    ("What is Caroline's identity?", False),
    ("Where has Melanie camped?", True),  # present perfect: over the whole history
    ("Which countries has Maria been to?", True),  # "has been to": a perfect of visiting
    ("What topic has John been blogging about recently?", False),  # progressive: one ongoing activity
    ("How long has Caroline had her current group of friends?", False),  # a duration: when it began
])
def test_aggregation_cue(question, aggregates):
    assert QueryFeatures.from_query(question, ["Melanie", "Caroline", "John", "Maria"]).aggregation is aggregates


@pytest.mark.parametrize(("question", "asks"), [
    ("When did Caroline go to the LGBTQ support group?", True),
    ("Do you remember when did we last talk about Paris?", True),
    ("In what year did Melanie start painting?", True),
    ("How long ago was Jon's trip?", True),
    ("How many days ago did I attend the baking class?", True),  # "how long ago", counted
    ("How many days did I take social media breaks in total?", False),  # a sum of spans, not a time
    ("What did Melanie paint when she was at the lake?", False),
    ("How long has Caroline been practising art?", False),
    ("Where did Mel go camping?", False),
])
def test_asks_time_only_when_the_answer_is_a_time(question, asks):
    assert QueryFeatures.from_query(question).asks_time is asks


@pytest.mark.parametrize(("question", "asks"), [
    ("Can you remind me of the back-end languages you recommended I learn?", True),
    ("You mentioned that companies use two-factor authentication. Which methods?", True),
    ("What was the second book on the list you've previously shared?", True),
    ("I was thinking about our previous conversation about data privacy.", True),
    ("Can you recommend some recent publications I might find interesting?", False),  # asks for new advice
    ("Do you have any ideas on how I can find new inspiration?", False),
    ("How long did it take me to assemble the IKEA bookshelf?", False),
    ("I told you about my dog last week, what was his name?", False),  # what the user said
])
def test_asks_assistant_only_for_what_the_assistant_said(question, asks):
    features = QueryFeatures.from_query(question)
    assert features.asks_assistant is asks
    assert any(c.startswith("assistant:") for c in features.cues) is asks


@pytest.mark.parametrize(("question", "labels"), [
    ("Where has Melanie camped?", ("FAC", "GPE", "LOC")),
    ("Which cities has Jon visited?", ("FAC", "GPE", "LOC")),
    ("What European countries has Maria been to?", ("FAC", "GPE", "LOC")),
    ("Where did Caroline move from 4 years ago?", ("FAC", "GPE", "LOC")),
    ("What books has Melanie read?", ("WORK_OF_ART",)),
    ("Which song motivates Caroline to be courageous?", ("WORK_OF_ART",)),
    ("What did Melanie paint recently?", ()),
    ("When did Jon go to Paris?", ()),  # asks for a time; the place is given
    ("Who supports Caroline?", ()),
    ("How long has Caroline had her current group of friends for?", ("DURATION",)),
    ("How long did it take me to assemble the IKEA bookshelf?", ("DURATION",)),
    ("How long ago was Caroline's 18th birthday?", ()),  # asks for a time, not a span
    ("How many hours have I spent on my sculpture?", ()),
    ("What is the average age of me, my parents, and my grandparents?", ("AGE",)),
    ("How old is Melanie's son?", ("AGE",)),
    ("At what age did Jon start dancing?", ("AGE",)),
    ("How often does John work out with his family?", ("FREQUENCY",)),
    ("How many times a week does Maria run?", ("FREQUENCY",)),
    ("How many times has Melanie gone to the beach in 2023?", ()),  # a count, not a frequency
    ("What activities does Melanie partake in?", ("ACTIVITY",)),
    ("What outdoor activities has John done with his colleagues?", ("ACTIVITY",)),
    ("Which hobbies has Jon picked up?", ("ACTIVITY",)),
    ("What does Melanie do to destress?", ("ACTIVITY",)),
    ("What does Jon's brother do in his free time?", ("ACTIVITY",)),
    ("What does Melanie do for a living?", ()),  # a job, not a pastime
    ("What did Melanie do after the concert?", ()),
])
def test_answer_labels_name_the_entity_type_a_question_asks_for(question, labels):
    assert QueryFeatures.from_query(question).answer_labels == labels


def test_a_question_asking_for_a_time_adds_the_when_component_when_configured():
    features = QueryFeatures.from_query("When did Caroline go to the support group?")
    assert "when" not in route(features, None, RetrievalConfig(when_weight=0.0)).weights
    plan = route(features, None, RetrievalConfig(when_weight=0.5))
    assert plan.weights["when"] == 0.5 and any("asks for a time" in r for r in plan.reasons)
