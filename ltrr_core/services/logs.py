"""The logs face: another system's interaction logs in (and this one's out), the examination curve
they reveal (position bias), and warming the bandit up by replaying the imported pages."""

from __future__ import annotations

import io
from pathlib import Path
import pandas as pd

from ltrr_core.base.examination import examination
from ltrr_core.base.progress import Progress
from ltrr_core.feedback.log_import import LogFileError, LogImport, import_log, write_log
from ltrr_core.feedback.position_bias import DEFAULT_MAX_RANK, CurveEstimate, estimate_from_impressions
from ltrr_core.feedback.replay import Replayer, ReplaySummary
from ltrr_core.pipeline import Pipeline
from ltrr_core.retrieval.registry import REGISTRY
from ltrr_core.services.runtime import Runtime


class LogService:
    """Interaction logs, position bias and the replay warm start over one :class:`Runtime`."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    def import_log(self, file: str | Path | tuple[str, bytes], fmt: str | None = None, skip_unknown: bool = False,
                   progress: Progress | None = None) -> LogImport:
        """Import an interaction log (a path, or ``(name, bytes)`` of an upload) in one transaction,
        streaming: a bad row raises ``LogFileError`` naming its line and field and nothing is stored;
        ids the catalog lacks refuse the file unless ``skip_unknown``. The memory index then counts
        the imported impressions and events. ``progress(f"{rows:,} rows read", fraction of the file)``."""
        if isinstance(file, tuple):
            name, binary, size = file[0], io.BytesIO(file[1]), len(file[1])
        else:
            path = Path(file)
            if not path.is_file():
                raise LogFileError(f"{path}: no such log file; give a CSV or JSON-lines interaction log")
            name, binary, size = str(path), path.open("rb"), path.stat().st_size
        with binary:
            report = import_log(self._rt.store, self._rt.catalog, name, binary, fmt, skip_unknown, size, progress)
        self._rt.reload_memory()
        return report

    def log_imports(self) -> pd.DataFrame:
        """One row per imported log file (events, skipped)."""
        return self._rt.store.log_imports()

    def log_event_counts(self) -> dict[str, int]:
        """Imported events per kind (impression, click, ...)."""
        return self._rt.store.log_event_counts()

    def export_log(self, path: str | Path) -> int:
        """Write this database's logged searches as an interaction log (CSV); returns the rows written."""
        with Path(path).open("w", encoding="utf-8", newline="") as fh:
            return write_log(self._rt.store.export_log_rows(), fh)

    def estimate_position_bias(self, max_rank: int = DEFAULT_MAX_RANK, apply: bool = True) -> CurveEstimate:
        """Estimate the examination curve from randomized traffic (imported pages and logged searches),
        leaving out searches a strategy that learns from clicks (``memory``) helped rank: it moves a
        result because it was clicked, which is no intervention (:mod:`ltrr_core.feedback.position_bias`).
        With ``apply`` and a trustworthy estimate (no ``refusals``) it replaces the prior for the memory
        and IPS weights."""
        learning = [name for name, strategy in REGISTRY.items() if strategy.learns]
        estimate = estimate_from_impressions(self._rt.store.position_impressions(), max_rank, leave_out=learning)
        if apply and estimate.usable:
            self._rt.store.save_examination_curve(estimate.theta)
            self._rt.reload_memory()
        return estimate

    def examination_curve(self, max_rank: int = DEFAULT_MAX_RANK) -> pd.DataFrame:
        """Examination probability by rank: the prior and the curve in use (``source``: prior or estimated)."""
        curve = self._rt.store.curve
        ranks = range(1, max_rank + 1)
        return pd.DataFrame({"rank": ranks, "prior": [examination(r) for r in ranks],
                             "in_use": [curve(r) for r in ranks], "source": curve.source})

    def warm_start(self, progress: Progress | None = None) -> ReplaySummary:
        """Warm-start the bandit by replaying every imported page (every strategy recomputed, each page
        grading the arms it exposed; memory against its own past, see :mod:`ltrr_core.feedback.replay`);
        the rounds are stored, and the learning state becomes the replayed rounds followed by the live
        ones (saved). What was replayed (:class:`~ltrr_core.feedback.replay.ReplaySummary`)."""
        rt = self._rt
        pages = rt.store.logged_pages()
        if not pages:
            raise ValueError("no imported result pages to replay; import a log first (ltrr logs import FILE)")
        replayer = Replayer(Pipeline(rt.pipeline.resources.sandboxed(), rt.strategy_names), rt.policy,
                            rt.n_features, rt.loop.window, rt.store.curve)
        replayed = (lambda done, total: progress(f"{done:,} of {total:,} pages replayed", done / total)) if progress else None
        rounds = list(replayer.replay(pages, replayed))
        rt.store.replace_replayed_rounds(rounds)
        rt.loop.set_policy(rt.policy)
        return replayer.summary(rounds)
