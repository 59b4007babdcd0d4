"""Finished sweeps on disk: JSON reports in ``sweeps/`` beside the live database (written
by ``ltrr sweep``, read by the engine face for the Live learning page)."""

from __future__ import annotations

import json
from pathlib import Path

from ltrr_core.base.config import Settings
from ltrr_core.base.cache import write_atomic

SWEEPS_DIR = "sweeps"


def sweeps_dir(settings: Settings) -> Path:
    """Where saved sweep reports live (``<name>.json``)."""
    return settings.db_path.parent / SWEEPS_DIR


def save_report(sweep: dict, path: Path) -> Path:
    """Write ``sweep`` as JSON at ``path`` (atomically)."""
    write_atomic(path, lambda p: p.write_text(json.dumps(sweep), encoding="utf-8"))
    return path


def load_report(path: Path) -> dict:
    """A saved report; a clear error for a file that is not one."""
    try:
        sweep = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable sweep report ({exc}); rerun `ltrr sweep`") from exc
    if not isinstance(sweep, dict) or not {"policies", "curves", "config"} <= set(sweep):
        raise ValueError(f"{path}: not a sweep report (no policies/curves/config); rerun `ltrr sweep`")
    return sweep


def saved_reports(settings: Settings) -> list[Path]:
    """The saved reports, newest first."""
    folder = sweeps_dir(settings)
    found = folder.glob("*.json") if folder.is_dir() else []
    return sorted(found, key=lambda p: (-p.stat().st_mtime, p.name))
