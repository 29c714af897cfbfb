"""The language pipeline over every turn of the LongMemEval dev12 file: nothing raises.

The dev file is development data beside the repository (``../shared/data``); a clone without
it skips this test. The property tests in ``test_extract_total.py`` cover arbitrary text."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphmem.extract.entities import select_entities
from graphmem.extract.events import split_events
from graphmem.extract.nlp import LanguagePipeline
from graphmem.extract.resolve import EntityResolver
from graphmem.loaders import load
from graphmem.ingest.events import EVENT_LIMITS, _analysed_part

DEV12 = Path(__file__).resolve().parents[3] / "shared" / "data" / "longmemeval" / "longmemeval_s_dev12.json.gz"


@pytest.mark.slow
@pytest.mark.skipif(not DEV12.exists(), reason=f"development data not present at {DEV12}")
def test_every_dev12_turn_goes_through_the_language_pipeline():
    pipeline = LanguagePipeline.load(None)
    conversations = load(DEV12)
    assert len(conversations) == 12
    analysed = 0
    for conversation in conversations:
        turns = [t for s in conversation.sessions for t in s.turns]
        texts = [_analysed_part(t.text) for t in turns]
        analyses = pipeline.analyse(texts, speakers=conversation.speakers)
        resolver = EntityResolver(speakers=conversation.speakers)
        for turn, text, analysis in zip(turns, texts, analyses):
            assert all(0 <= m.char_start < m.char_end <= len(text) for m in analysis.mentions)
            assert [m.char_start for m in analysis.mentions] == sorted(m.char_start for m in analysis.mentions)
            units = split_events(text, analysis, anchor=None)
            assert all(u.text.strip() for u in units)
            capped = split_events(text, analysis, anchor=None, max_units=EVENT_LIMITS.max_units(text))
            assert len(capped) <= len(units)
            named = set(select_entities(analysis))  # what the ingest resolves
            resolver.resolve([m for u in capped for m in u.mentions if m in named])
            resolver.resolve([m for u in units for m in u.mentions])
            analysed += 1
    assert analysed == sum(c.turn_count for c in conversations)
