"""LTR training data from the feedback log: one group per logged search with feedback or labels.

A group's rows are the search's candidate pool, rebuilt by replaying the arms the bandit
picked through the one :class:`~ltrr_core.pipeline.Pipeline` (strategies are deterministic,
so the pool is the one the user saw; only the live memory index may have moved on). Grades
come from :func:`labels_from_feedback`: graded labels win over thumbs and clicks. A group knows
its normalized query (the retrain gate holds queries out whole) and whether its query carries
human labels (those judge a retrained model first).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ltrr_core.base.grades import (
    GRADE_CLICK,
    GRADE_THUMBS_DOWN,
    GRADE_THUMBS_UP,
    MAX_GRADE,
)
from ltrr_core.base.records import Label
from ltrr_core.pipeline import Pipeline
from ltrr_core.ranking.ltr import TrainingGroup
from ltrr_core.selection.bandit import arm_depths

MAX_GROUPS = 1500


def training_groups(pipeline: Pipeline, searches: pd.DataFrame, events: pd.DataFrame, labels: Iterable[Label],
                    limit: int = MAX_GROUPS) -> list[TrainingGroup]:
    """Groups for the first ``limit`` ``searches`` (newest first, as the store lists them) that
    carry feedback ``events`` or whose query has ``labels``."""
    graded: dict[str, dict[str, int]] = defaultdict(dict)
    for label in labels:
        grades = graded[label.normalized_query]
        grades[label.entity_id] = max(label.grade, grades.get(label.entity_id, 0))
    by_search: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in events.itertuples():
        if row.search_id is not None and row.search_id == row.search_id:  # skip NaN ids
            by_search[int(row.search_id)][row.kind].add(row.entity_id)
    groups: list[TrainingGroup] = []
    for row in searches.itertuples():
        if len(groups) >= limit:
            break
        feedback = by_search.get(int(row.search_id), {})
        query_grades = graded.get(row.normalized_query, {})
        if not feedback and not query_grades:
            continue
        replayed = pipeline.replay(row.query, arm_depths(row.chosen_arms))
        grades = labels_from_feedback(replayed.pool.ids, feedback.get("click", ()), feedback.get("thumbs_up", ()),
                                      feedback.get("thumbs_down", ()), query_grades)
        groups.append(TrainingGroup(replayed.features, grades, str(row.search_id), query=row.normalized_query,
                                    judged=bool(query_grades)))
    return groups


def labels_from_feedback(
    pool_ids: Sequence[str],
    clicks: Iterable[str] = (),
    thumbs_up: Iterable[str] = (),
    thumbs_down: Iterable[str] = (),
    graded: dict[str, int] | None = None,
) -> np.ndarray:
    """Grades 0..3 for the pool rows, strongest evidence first.

    An analyst's graded label wins; else thumbs down = 0; else thumbs up = 3; else click = 2;
    everything else (shown but skipped, or never shown) = 0. Clicks rank below thumbs up
    because a click only shows interest, a thumbs up confirms the result.
    """
    graded = graded or {}
    clicks, up, down = set(clicks), set(thumbs_up), set(thumbs_down)
    grades = np.zeros(len(pool_ids), dtype=np.int32)
    for row, entity_id in enumerate(pool_ids):
        if entity_id in graded:
            grade = graded[entity_id]
            if not 0 <= grade <= MAX_GRADE:
                raise ValueError(f"graded[{entity_id!r}]: {grade} is not in 0..{MAX_GRADE}")
            grades[row] = grade
        elif entity_id in down:
            grades[row] = GRADE_THUMBS_DOWN
        elif entity_id in up:
            grades[row] = GRADE_THUMBS_UP
        elif entity_id in clicks:
            grades[row] = GRADE_CLICK
    return grades


