"""Offline evaluation from the Evaluation page: BEIR runs with the app's settings."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from ltrr_core.evaluation.beir import BEIR_STRATEGIES, EvalReport
from ltrr_core.evaluation.beir import evaluate_beir as _evaluate_beir
from ui.resources import settings

BEIR_SYSTEMS: tuple[str, ...] = (*BEIR_STRATEGIES, "fusion", "ltr")


def evaluate_beir(folder: str | Path, split: str, systems: Sequence[str],
                  progress: Callable[[str, float], None] | None = None) -> EvalReport:
    """Every chosen system on ``split`` of the BEIR folder, with the app's cache and model settings."""
    return _evaluate_beir(folder, split=split, systems=systems, settings=settings(), progress=progress)
