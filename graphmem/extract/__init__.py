"""Language work of ingestion: sentences, mentions, times, event units and entity resolution.

* :mod:`~graphmem.extract.temporal` resolves time expressions against the session date.
* :mod:`~graphmem.extract.nlp` finds sentences and mentions (spaCy: trained pipeline when
  installed, rule-based otherwise).
* :mod:`~graphmem.extract.events` splits turns into event units.
* :mod:`~graphmem.extract.resolve` maps mentions to canonical entities, with aliases.

Nothing here imports spaCy or a model at import time.
"""

from graphmem.extract.events import EventUnit, content_score, split_events
from graphmem.extract.nlp import (
    ENTITY_LABELS,
    TIME_LABELS,
    LanguagePipeline,
    Mention,
    TextAnalysis,
)
from graphmem.extract.resolve import (
    AliasRecord,
    EntityRecord,
    EntityResolver,
    Resolution,
    ResolutionResult,
    normalise_name,
)
from graphmem.extract.temporal import (
    TimeRef,
    find_time_expressions,
    parse_session_datetime,
)

__all__ = [
    "ENTITY_LABELS",
    "TIME_LABELS",
    "AliasRecord",
    "EntityRecord",
    "EntityResolver",
    "EventUnit",
    "LanguagePipeline",
    "Mention",
    "Resolution",
    "ResolutionResult",
    "TextAnalysis",
    "TimeRef",
    "content_score",
    "find_time_expressions",
    "normalise_name",
    "parse_session_datetime",
    "split_events",
]
