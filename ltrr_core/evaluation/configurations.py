"""Configurations as values: which strategies retrieve, and which ranker orders their union.

A spec string names one configuration: ``[name=]<retrieval>[/<ranker>]``

- retrieval: ``bandit`` (the engine's learned bandit picks per query, without exploring),
  ``all`` or ``all@K`` (every strategy at depth K), or strategies joined by ``+``, each with an
  optional depth (:mod:`ltrr_core.base.strategy_depths`): ``lexical@100+semantic@25``; a depth
  left out is 100;
- ranker: ``interleave``, ``rrf`` or ``ltr`` (the engine's live LightGBM model); default ``ltr``.

Several specs are joined by commas: ``bandit/ltr,lexical+semantic/rrf``. Specs written with the
old ``:`` before a depth (``lexical:100``, ``all:50``) still parse; :attr:`Configuration.spec`
writes ``@``. Offline experiments and online interleaving both run configurations through
:meth:`ltrr_core.services.runtime.Runtime.run_configuration`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from ltrr_core.base.strategy_depths import StrategyDepthError, format_strategy_depths, parse_strategy_depths
from ltrr_core.retrieval.registry import STRATEGY_ORDER

RANKERS = ("interleave", "rrf", "ltr")
BANDIT = "bandit"
ALL = "all"
DEFAULT_DEPTH = 100


class ConfigurationError(ValueError):
    """A spec that names an unknown strategy or ranker, or is malformed; the message says which part."""


@dataclass(frozen=True)
class Configuration:
    """``depths`` None: the bandit's greedy pick per query; else a fixed ``{strategy: depth}``."""

    name: str
    depths: Mapping[str, int] | None
    ranker: str

    @property
    def retrieval(self) -> str:
        if self.depths is None:
            return BANDIT
        return format_strategy_depths(self.depths)

    @property
    def spec(self) -> str:
        """The canonical spec: parsing it gives this configuration back (name included)."""
        return f"{self.name}={self.retrieval}/{self.ranker}"


def parse_configuration(spec: str, strategies: Sequence[str] = STRATEGY_ORDER) -> Configuration:
    """One spec string (see the module docstring) as a :class:`Configuration`."""
    text = spec.strip()
    if not text:
        raise ConfigurationError("configuration: empty spec; write e.g. bandit/ltr or lexical@100+semantic@100/rrf")
    name, _, body = text.rpartition("=") if "=" in text else ("", "", text)
    retrieval, _, ranker = body.partition("/")
    ranker = ranker.strip() or "ltr"
    if ranker not in RANKERS:
        raise ConfigurationError(f"configuration {text!r}: unknown ranker {ranker!r}; choose from {list(RANKERS)}")
    depths = _parse_retrieval(retrieval.strip(), text, strategies)
    config = Configuration("", depths, ranker)
    return Configuration(name.strip() or f"{config.retrieval}/{ranker}", depths, ranker)


def parse_configurations(specs: str | Sequence[str], strategies: Sequence[str] = STRATEGY_ORDER) -> list[Configuration]:
    """Comma-joined specs (or a list of them); names must be distinct."""
    parts = [p for p in (specs.split(",") if isinstance(specs, str) else specs) if p.strip()]
    if not parts:
        raise ConfigurationError("configurations: none given; write e.g. bandit/ltr,all/rrf")
    configs = [parse_configuration(p, strategies) for p in parts]
    names = [c.name for c in configs]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ConfigurationError(f"configurations: the name {duplicate!r} is used twice; name them with name=spec")
    return configs


def _parse_retrieval(text: str, spec: str, strategies: Sequence[str]) -> dict[str, int] | None:
    if text == BANDIT:
        return None
    try:
        depths = parse_strategy_depths(text, [*strategies, ALL, BANDIT])
    except StrategyDepthError as err:
        raise ConfigurationError(f"configuration {spec!r}: {err.problem}") from err
    if BANDIT in depths:
        raise ConfigurationError(f"configuration {spec!r}: write 'bandit' alone; it picks the strategies and depths")
    if ALL in depths:
        if len(depths) > 1:
            raise ConfigurationError(f"configuration {spec!r}: write 'all' alone; it names every strategy")
        return dict.fromkeys(strategies, depths[ALL] or DEFAULT_DEPTH)
    return {s: d or DEFAULT_DEPTH for s, d in depths.items()}
