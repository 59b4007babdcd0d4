"""LTR training data from the feedback store: one group per logged search with feedback or labels.

A group's rows are the search's candidate pool, rebuilt by re-running the strategies the
bandit picked for it (strategies are deterministic, so the pool is the one the user saw;
only the live memory index may have moved on). Grades come from
:func:`ltrr_core.ranker.labels_from_feedback`: graded labels win over thumbs and clicks.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from ltrr_core.bandit import split_arm
from ltrr_core.context import Context
from ltrr_core.pool import CandidatePool
from ltrr_core.ranker import TrainingGroup, labels_from_feedback

if TYPE_CHECKING:
    from ltrr_core.engine import Engine

MAX_GROUPS = 1500


def training_groups(engine: "Engine", source: str | None = None, limit: int = MAX_GROUPS) -> list[TrainingGroup]:
    """Groups for the newest ``limit`` searches that carry feedback, or whose query has labels.

    ``source`` selects ``"human"`` or ``"simulated"`` feedback (None: both).
    """
    store = engine.store
    searches = store.searches(source=source)
    events = store.feedback_events(source=source)
    labels: dict[str, dict[str, int]] = defaultdict(dict)
    for label in store.labels():
        labels[label.normalized_query][label.entity_id] = max(label.grade, labels[label.normalized_query].get(label.entity_id, 0))
    by_search: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in events.itertuples():
        if row.search_id is not None and row.search_id == row.search_id:  # skip NaN ids
            by_search[int(row.search_id)][row.kind].add(row.entity_id)
    groups: list[TrainingGroup] = []
    for row in searches.itertuples():
        if len(groups) >= limit:
            break
        feedback = by_search.get(int(row.search_id), {})
        graded = labels.get(row.normalized_query, {})
        if not feedback and not graded:
            continue
        understanding = engine.understand(row.query)
        lists = [engine.retrieve(split_arm(arm)[0], understanding, Context(), split_arm(arm)[1]) for arm in row.chosen_arms]
        pool = CandidatePool.union(lists)
        grades = labels_from_feedback(pool.ids, feedback.get("click", ()), feedback.get("thumbs_up", ()),
                                      feedback.get("thumbs_down", ()), graded)
        groups.append(TrainingGroup(engine.features(pool, understanding), grades, str(row.search_id)))
    return groups
