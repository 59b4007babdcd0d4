"""Offline evaluation from the Experiments page: BEIR runs with the app's settings, the bundled
SciFact folder, and uploaded query or judgment files kept as temporary files for the engine."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Callable, Sequence

from ltrr_core.evaluation.beir import BEIR_STRATEGIES, EvalReport
from ltrr_core.evaluation.beir import evaluate_beir as _evaluate_beir
from ui.resources import settings

BEIR_SYSTEMS: tuple[str, ...] = (*BEIR_STRATEGIES, "fusion", "ltr")
PROJECT = Path(__file__).resolve().parents[1]
SCIFACT_PLACES = (PROJECT.parent / "shared" / "datasets" / "scifact", PROJECT.parent / "scifact", PROJECT / "scifact")


def evaluate_beir(folder: str | Path, split: str, systems: Sequence[str],
                  progress: Callable[[str, float], None] | None = None) -> EvalReport:
    """Every chosen system on ``split`` of the BEIR folder, with the app's cache and model settings."""
    return _evaluate_beir(folder, split=split, systems=systems, settings=settings(), progress=progress)


def bundled_scifact() -> str:
    """The SciFact BEIR folder beside the project (``../shared/datasets/scifact`` or ``scifact``), or ``""``."""
    return next((str(p) for p in SCIFACT_PLACES if any(p.glob("corpus.jsonl*"))), "")


def uploaded_file(name: str, data: bytes) -> Path:
    """An upload written once to a temporary file (named by its content), so a spec can point at it."""
    folder = Path(tempfile.gettempdir()) / "ltrr_uploads"
    folder.mkdir(exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()[:16]}-{Path(name).name}"
    if not path.exists():
        path.write_bytes(data)
    return path
