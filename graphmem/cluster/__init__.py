"""Clustering stage: GMM associations between memories and GMM topics per granularity.

* :mod:`graphmem.cluster.associate` decides ``ASSOCIATED`` edges from a new unit's similarity
  scores to its nearest historical units.
* :mod:`graphmem.cluster.topics` fits ``Topic`` nodes with soft ``IN_TOPIC`` memberships and
  ``WITHIN`` links between the topics of two granularities.
"""

from graphmem.cluster.associate import (
    AssociationConfig,
    AssociationLink,
    AssociationResult,
    associate,
    associate_batch,
    fit_gmm_1d,
)
from graphmem.cluster.topics import TopicConfig, TopicModel, link_hierarchy, membership_rows

__all__ = [
    "AssociationConfig",
    "AssociationLink",
    "AssociationResult",
    "TopicConfig",
    "TopicModel",
    "associate",
    "associate_batch",
    "fit_gmm_1d",
    "link_hierarchy",
    "membership_rows",
]
