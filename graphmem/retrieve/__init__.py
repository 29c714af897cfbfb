"""Retrieval: lexical and dense evidence at several granularities, fused into one ranking.

Modules, bottom up (each pure, over arrays and sparse matrices; the caller supplies ids and
positions; a module imports only modules listed above it):

* :mod:`graphmem.retrieve.config` -- :class:`~graphmem.retrieve.config.RetrievalConfig`, every
  weight, threshold and constant of retrieval, each with the measurement that set it.
* :mod:`graphmem.retrieve.cues` -- query cues (names, dates, temporal and aggregation cues).
* :mod:`graphmem.retrieve.types` -- the registry of strategies and units, the one query
  validation, the validated ``Query``, the per-query ``QueryContext``, ranking types, ``top_k``.

* :mod:`graphmem.retrieve.lexical` -- BM25 index over any unit kind (bm25s), save/load.
* :mod:`graphmem.retrieve.fusion` -- score calibration, fused scores with per-component
  contributions, relevance entropy.
* :mod:`graphmem.retrieve.router` -- the per-query :class:`~graphmem.retrieve.router.RoutePlan`.
* :mod:`graphmem.retrieve.hierarchy` -- event/turn/episode/session scores combined into a turn
  ranking (pooling up, broadcasting down, expansion along ``NEXT``, calendar match) and
  session ranking.
* :mod:`graphmem.retrieve.activation` -- spreading activation (personalised PageRank) over a
  typed sparse projection of the hypergraph, with explanations.
* :mod:`graphmem.retrieve.projection` -- the in-memory arrays of one namespace's memory
  (turns, events, episodes, sessions, entities, topics, typed edges), persisted as a cache.
* :mod:`graphmem.retrieve.loader` -- reads the projection from a store (named read queries
  only) with a count-checked on-disk cache.
* :mod:`graphmem.retrieve.strategies` -- ``auto``, ``dense``, ``lexical``, ``activation`` and
  ``expansion``, each with per-hit explanations.
* :mod:`graphmem.retrieve.engine` -- the per-namespace retrieval engine: dense scorers (ANN or
  exact), BM25 indexes, entity matching, time filtering, top-k.
"""
