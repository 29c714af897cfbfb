"""The language pipeline is total: no text makes a function of ``graphmem.extract`` raise.

Property tests over arbitrary Unicode, and over generated markdown, code and list text of the
kind long assistant turns hold (headings, bullets, tables, fenced code, URLs, emoji,
combining marks, line and paragraph separators, zero-width and right-to-left characters)."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from graphmem.extract.activities import states_activity
from graphmem.extract.entities import LOOKUP_LABELS, select_entities
from graphmem.extract.events import EventLimits, content_score, split_events
from graphmem.extract.markup import code_spans, table_spans
from graphmem.extract.nlp import LanguagePipeline, Mention
from graphmem.extract.vocabulary import is_english_word
from graphmem.extract.resolve import EntityResolver, label_group, normalise_name, singular_forms
from graphmem.extract.temporal import (find_time_expressions, find_time_spans, parse_session_datetime, states_age,
                                       states_duration, states_frequency)
from graphmem.retrieve.cues import QueryFeatures

PIPELINE = LanguagePipeline.load(None)
SPEAKERS = ("Melanie", "Caroline")
ANCHOR = datetime(2023, 5, 8, 13, 56)

ODD = ["\u0301", "\u0300\u0301", "\u200b", "\u200d", "\u2028", "\u2029", "\u0085", "\ufeff", "\u202e", "\u00ad",
       "\U0001F600", "\U0001F468\u200d\U0001F469\u200d\U0001F467", "ǅ", "İ", "ß", "ﬁ", "Ⅻ", "\u05d0\u05d1",
       "\u0627\u0644", "\t", "\r\n", "…", "“", "”", "’", "—", "|", "`", "*", "#", "$", "\\", "[", "]", "(", ")"]
WORDS = ["Mel", "Caroline", "Paris", "New York", "the", "I", "went", "to", "Python", "API", "last", "Saturday",
         "May", "7", "2023", "next", "week", "Dr.", "St.", "U.S.", "LGBTQ", "support", "group", "don't", "A",
         "Élodie", "Zoë", "ÅNGSTRÖM", "X", "e.g.", "i.e.", "http://example.com/a?b=c", "a@b.io", "3.14", "v2.0",
         "C++", "__init__", "x_y", "CamelCase", "yesterday", "tonight", "Monday", "spring", "'90s"]
word = st.one_of(st.sampled_from(WORDS), st.sampled_from(ODD), st.text(min_size=1, max_size=8))
sentence = st.lists(word, min_size=1, max_size=14).map(" ".join)
line = st.one_of(
    sentence,
    sentence.map(lambda s: f"# {s}"), sentence.map(lambda s: f"### {s.title()}"),
    sentence.map(lambda s: f"- {s}"), sentence.map(lambda s: f"* **{s}**"), sentence.map(lambda s: f"1. {s}"),
    st.lists(sentence, min_size=2, max_size=4).map(lambda cells: "| " + " | ".join(cells) + " |"),
    st.just("|---|---|---|"),
    sentence.map(lambda s: f"```python\ndef f(x):\n    return x  # {s}\n```"),
    sentence.map(lambda s: f"> {s}"), sentence.map(lambda s: f"[{s}](https://example.org/{len(s)})"),
    st.just(""), st.just("    indented code();"),
)
markdown = st.lists(line, min_size=1, max_size=12).map("\n".join)
texts = st.one_of(st.text(max_size=300), markdown)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _analyse(text: str):
    [analysis] = PIPELINE.analyse([text], speakers=SPEAKERS, known_names=("Jon Smith",))
    return analysis


@SETTINGS
@given(texts)
def test_analyse_and_split_events_never_raise(text):
    analysis = _analyse(text)
    for mention in analysis.mentions:
        assert 0 <= mention.char_start < mention.char_end <= len(text)
        assert text[mention.char_start:mention.char_end] == mention.text
    for start, end in analysis.sentences:
        assert 0 <= start <= end <= len(text)
    for anchor in (ANCHOR, None):
        for unit in split_events(text, analysis, anchor=anchor):
            assert isinstance(unit.text, str)
    every = split_events(text, analysis)
    for limit in (1, 3):
        capped = split_events(text, analysis, max_units=limit)
        assert len(capped) == min(limit, len(every))
        assert all(u.text in [e.text for e in every] for u in capped)
    EventLimits().max_units(text)
    selected = select_entities(analysis)
    assert set(selected) <= set(analysis.mentions)
    assert all(m.label in LOOKUP_LABELS and "\n" not in m.text for m in selected)
    for start, end in code_spans(text) + table_spans(text):
        assert 0 <= start < end <= len(text)


@SETTINGS
@given(st.lists(texts, min_size=1, max_size=6))
def test_batches_analyse_like_single_texts(batch):
    analyses = PIPELINE.analyse(batch, speakers=SPEAKERS)
    assert [a.text for a in analyses] == batch


@SETTINGS
@given(texts)
def test_time_functions_never_raise(text):
    for start, end in find_time_spans(text):
        assert 0 <= start < end <= len(text)
    for ref in find_time_expressions(text, ANCHOR):
        assert ref.start <= ref.end
    find_time_expressions(text, ANCHOR.date())
    parse_session_datetime(text)
    assert isinstance(states_duration(text), bool)
    assert isinstance(states_age(text), bool)
    assert isinstance(states_frequency(text), bool)
    assert isinstance(states_activity(text), bool)


@SETTINGS
@given(texts)
def test_scores_and_names_never_raise(text):
    assert isinstance(content_score(text), float)
    key = normalise_name(text)
    assert key == key.strip()
    for part in text.split():
        singular_forms(part)
        assert isinstance(is_english_word(part), bool)


@SETTINGS
@given(st.lists(st.tuples(st.text(min_size=1, max_size=30) | sentence,
                          st.sampled_from(["PERSON", "GPE", "ORG", "MISC", "CONCEPT", "DATE", "WORK_OF_ART"])),
                max_size=12))
def test_resolving_any_mentions_never_raises(pairs):
    resolver = EntityResolver(speakers=SPEAKERS)
    mentions = [Mention(text, label, 0, len(text)) for text, label in pairs]
    result = resolver.resolve(mentions)
    assert len(result.resolutions) == len(mentions)
    for label in {label for _, label in pairs}:
        label_group(label)


@pytest.mark.parametrize("text", ["\u0301", "A\u0301 \u0301B", "Ⅻ Ⅻ", "\u200b\u200b Paris", "İstanbul Ǆ",
                                  "# \u0301\u0301\n- \u2028", "Mr. \u0301", "Dr. ", "| A | B |\n|---|---|"])
def test_odd_texts_seen_in_real_turns(text):
    analysis = _analyse(text)
    split_events(text, analysis, anchor=ANCHOR, max_units=1)
    select_entities(analysis)


@SETTINGS
@given(texts, st.dates())
def test_query_cues_never_raise_on_any_text_asked_on_any_day(text, asked):
    """A query is read with the same resolver, at any day of years 1-9999 ("next year" in 9999)."""
    features = QueryFeatures.from_query(text + " last year and next week", ("Mel",), asked)
    assert all(first <= last for first, last in features.time.spans)
