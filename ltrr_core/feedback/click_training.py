"""LTR training data from imported result pages: clicks as labels, debiased by position.

A page with at least one click becomes one group: the entities it showed that the engine's
funnel also retrieves (every strategy at full depth, replayed through the one
:class:`~ltrr_core.pipeline.Pipeline`, so the features are the ones serving computes), labelled
``GRADE_CLICK`` when clicked and 0 otherwise. A click at a rank few users examine says more than
one at rank 1: with ``debias`` each clicked row is weighted by the inverse of its rank's
examination probability (inverse propensity scoring, Joachims et al. 2017), from the estimated
curve where there is one (:mod:`ltrr_core.feedback.position_bias`).
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from ltrr_core.base.grades import GRADE_CLICK
from ltrr_core.base.records import LoggedPage
from ltrr_core.pipeline import Pipeline
from ltrr_core.ranking.ltr import TrainingGroup
from ltrr_core.selection.context import Context
from ltrr_core.understanding.text import normalize

MAX_WEIGHT = 20.0  # inverse propensities are clipped here (a rank almost nobody examines)


def click_group(pipeline: Pipeline, page: LoggedPage, depth: int, curve: Callable[[int], float] | None,
                context: Context | None = None) -> TrainingGroup | None:
    """The group of one page (None: nothing clicked, or nothing shown the funnel retrieves);
    ``curve`` None trains naively (every row weight 1)."""
    clicked = {entity_id for entity_id, kind in page.events if kind == "click"}
    if not clicked:
        return None
    run = pipeline.replay(page.query, {name: depth for name in pipeline.strategy_names}, context=context)
    row_of = {entity_id: row for row, entity_id in enumerate(run.pool.ids)}
    shown = [(entity_id, position) for entity_id, position in sorted(page.shown, key=lambda s: s[1])
             if entity_id in row_of]
    if not shown:
        return None
    rows = [row_of[entity_id] for entity_id, _ in shown]
    labels = np.array([GRADE_CLICK if entity_id in clicked else 0 for entity_id, _ in shown])
    weights = None
    if curve is not None:
        weights = np.array([min(1.0 / curve(position), MAX_WEIGHT) if entity_id in clicked else 1.0
                            for entity_id, position in shown])
    return TrainingGroup(run.features[rows], labels, f"page:{page.page}", weights,
                         np.array([position for _, position in shown]), query=normalize(page.query))


def click_groups(pipeline: Pipeline, pages: Iterable[LoggedPage], depth: int,
                 curve: Callable[[int], float] | None) -> list[TrainingGroup]:
    """:func:`click_group` of every page that yields one."""
    groups = (click_group(pipeline, page, depth, curve) for page in pages)
    return [g for g in groups if g is not None]
