"""Simulated users: profiles and search intents with known targets.

Pure: a catalog and a seed in, typed records out (no engine import). The simulation loop
draws intents from a :class:`TrafficGenerator`, runs ``intent.query`` through the engine and
turns the ranked ids into clicks with :class:`ltrr_core.simulation.clicks.ClickModel`.

Intent kinds (``INTENT_KINDS``, name -> builder of a sampler over the catalog):

- ``spearfish``: an exact title or artist name, sometimes with a realistic typo;
- ``broad``: a genre / mood / decade phrase; relevant = the most popular matching entities;
- ``semantic``: a paraphrase of a podcast / playlist / episode description;
- ``fresh``: a new, not-yet-popular release, asked for by artist name or genre + type.
"""

from __future__ import annotations

import math
from typing import Callable, Mapping

import numpy as np

from ltrr_core.catalog.schema import Catalog
from ltrr_core.selection.context import UserProfile
from ltrr_core.simulation.catalog_view import CatalogView
from ltrr_core.simulation.intents import (
    DEFAULT_MIX,
    INTENT_KIND_NAMES,
    Intent,
    TrafficConfig,
)
from ltrr_core.simulation.paraphrase import SemanticSampler
from ltrr_core.simulation.profiles import draw_contexts, make_profiles
from ltrr_core.simulation.samplers import (
    BroadSampler,
    FreshSampler,
    IntentSampler,
    SpearfishSampler,
)


def validate_mix(mix: Mapping[str, float] | None) -> dict[str, float]:
    """The mix as weights summing to 1; ValueError naming the kind for unknown kinds or bad weights."""
    mix = DEFAULT_MIX if mix is None else mix
    if not isinstance(mix, Mapping) or not mix:
        raise ValueError(f"mix: expected a non-empty dict kind -> weight, got {mix!r}")
    for kind, weight in mix.items():
        if kind not in INTENT_KINDS:
            raise ValueError(f"mix: unknown kind {kind!r}; known kinds: {', '.join(INTENT_KINDS)}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
            raise ValueError(f"mix[{kind!r}]: weight {weight!r} is not a finite number >= 0")
    total = float(sum(mix.values()))
    if total <= 0:
        raise ValueError("mix: all weights are 0; give at least one kind a positive weight")
    return {kind: float(weight) / total for kind, weight in mix.items() if weight > 0}



INTENT_KINDS: dict[str, Callable[[CatalogView, TrafficConfig], IntentSampler]] = dict(
    zip(INTENT_KIND_NAMES, (SpearfishSampler, BroadSampler, SemanticSampler, FreshSampler)))






class TrafficGenerator:
    """Draws intents for one catalog; pools are built once, the mix can change between draws.

    Same catalog + seed + sequence of ``draw`` calls -> the same intents.
    """

    def __init__(
        self, catalog: Catalog, seed: int = 0, profiles: list[UserProfile] | None = None, config: TrafficConfig | None = None
    ) -> None:
        self.config = config or TrafficConfig()
        self.profiles = profiles if profiles is not None else make_profiles(catalog, seed=seed)
        if not self.profiles:
            raise ValueError("profiles: empty; pass None for generated profiles or at least one UserProfile")
        self.rng = np.random.default_rng(seed)
        view = CatalogView(catalog)
        self.samplers: dict[str, IntentSampler] = {kind: build(view, self.config) for kind, build in INTENT_KINDS.items()}

    @property
    def unavailable(self) -> dict[str, str]:
        """Kinds this catalog cannot produce, with the reason."""
        return {kind: s.unavailable for kind, s in self.samplers.items() if s.unavailable}

    def effective_mix(self, mix: Mapping[str, float] | None = None) -> dict[str, float]:
        """The validated mix; the default mix silently drops kinds the catalog cannot produce,
        an explicit mix asking for one raises ValueError naming it."""
        weights = validate_mix(mix)
        missing = {k: why for k, why in self.unavailable.items() if k in weights}
        if missing and mix is not None:
            kind, why = next(iter(missing.items()))
            raise ValueError(f"mix[{kind!r}]: this catalog has {why}; set its weight to 0")
        kept = {k: w for k, w in weights.items() if k not in missing}
        if not kept:
            raise ValueError(f"mix: this catalog can produce none of {sorted(weights)} ({missing})")
        return validate_mix(kept)

    def draw(self, n: int, mix: Mapping[str, float] | None = None) -> list[Intent]:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n: {n!r} is not an integer >= 0")
        weights = self.effective_mix(mix)
        kinds = list(weights)
        picks = self.rng.choice(len(kinds), size=n, p=np.array([weights[k] for k in kinds]))
        contexts = draw_contexts(self.rng, n, self.profiles, self.config.p_holiday)
        return [self.samplers[kinds[j]].draw(self.rng, ctx) for j, ctx in zip(picks.tolist(), contexts)]


def generate_intents(
    catalog: Catalog,
    n: int,
    mix: Mapping[str, float] | None = None,
    seed: int = 0,
    profiles: list[UserProfile] | None = None,
    reference_date: str = "2026-11-01",
) -> list[Intent]:
    """``n`` intents in proportions ``mix`` (default ``DEFAULT_MIX``); deterministic for a seed."""
    return TrafficGenerator(catalog, seed, profiles, TrafficConfig(reference_date=reference_date)).draw(n, mix)
