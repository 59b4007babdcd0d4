"""Offline evaluation from the Experiments page: where the bundled SciFact BEIR folder lies."""

from __future__ import annotations

from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SCIFACT_PLACES = (PROJECT.parent / "shared" / "datasets" / "scifact", PROJECT.parent / "scifact", PROJECT / "scifact")


def bundled_scifact() -> str:
    """The SciFact BEIR folder beside the project (``../shared/datasets/scifact`` or ``scifact``), or ``""``."""
    return next((str(p) for p in SCIFACT_PLACES if any(p.glob("corpus.jsonl*"))), "")
