"""Sweep runs as Ray remote tasks (the ``ray`` extra). A task whose worker dies is retried
(``sweep_runs.RETRIES`` times) by Ray; past that the sweep fails naming the run. Ray reuses worker
processes, so each loads the catalog, indexes and model once (``sweeps._base``)."""

from __future__ import annotations

import ray
from ray.exceptions import RayError

from ltrr_core.base.progress import Progress
from ltrr_core.base.cluster import connect
from ltrr_core.base.config import Settings
from ltrr_core.services import sweep_runs
from ltrr_core.services.sweep_runs import SeedRun, SweepConfig, SweepError, run_seed


def run_on_ray(config: SweepConfig, settings: Settings, workers: int, address: str | None,
               progress: Progress | None) -> list[SeedRun]:
    """Every run of ``config`` as a task; at most ``workers`` at once on a local cluster."""
    connect(address, num_cpus=workers)
    retries = sweep_runs.RETRIES
    task = ray.remote(num_cpus=1, max_retries=retries)(run_seed)
    pending = {task.remote(config.source, settings, p, s, config.rounds): (p, s) for p, s in config.runs}
    results: list[SeedRun] = []
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            policy, seed = pending.pop(ref)
            try:
                results.append(ray.get(ref))
            except RayError as exc:
                raise SweepError(f"sweep run {policy} seed {seed} failed on Ray after {retries} retries: "
                                 f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from exc
        if progress:
            progress("sweep", len(results) / len(config.runs))
    return results
