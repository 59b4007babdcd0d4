"""The one progress report of long work, and the one way its pace is written."""

from __future__ import annotations

from typing import Callable

from tqdm import tqdm

Progress = Callable[[str, float], None]
"""``progress(message, fraction)``: what runs (with any counts and pace) and the share of it done, 0..1."""


def pace(elapsed: float, fraction: float, done: float | None = None, unit: str = "") -> str:
    """``"412 docs/s · 01:05 left"``: the rate of ``done`` ``unit`` s over ``elapsed`` seconds (left out
    without ``done``) and the time left at this pace for the ``1 - fraction`` still to do, in tqdm's
    :meth:`~tqdm.tqdm.format_sizeof` and :meth:`~tqdm.tqdm.format_interval`."""
    parts = []
    if done is not None and elapsed > 0:
        parts.append(tqdm.format_sizeof(done / elapsed, f" {unit}/s" if unit else "/s"))
    if fraction > 0:
        parts.append(f"{tqdm.format_interval(elapsed * max(1 - fraction, 0) / fraction)} left")
    else:
        parts.append("time left unknown")
    return " · ".join(parts)
