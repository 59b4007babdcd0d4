"""Configurations as values: which strategies retrieve, and which ranker orders their union.

A spec string names one configuration: ``[name=]<retrieval>[/<ranker>]``

- retrieval: ``bandit`` (the engine's learned bandit picks per query, without exploring),
  ``all`` or ``all:K`` (every strategy at depth K), or strategies joined by ``+``, each with an
  optional depth: ``lexical:100+semantic:25``;
- ranker: ``interleave``, ``rrf`` or ``ltr`` (the engine's live LightGBM model); default ``ltr``.

Several specs are joined by commas: ``bandit/ltr,lexical+semantic/rrf``. Offline experiments and
online interleaving both run configurations through :meth:`Engine.run_configuration`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from ltrr_core.retrieval.registry import STRATEGY_ORDER

RANKERS = ("interleave", "rrf", "ltr")
BANDIT = "bandit"
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
        return "+".join(f"{s}:{d}" for s, d in self.depths.items())

    @property
    def spec(self) -> str:
        """The canonical spec: parsing it gives this configuration back (name included)."""
        return f"{self.name}={self.retrieval}/{self.ranker}"


def parse_configuration(spec: str, strategies: Sequence[str] = STRATEGY_ORDER) -> Configuration:
    """One spec string (see the module docstring) as a :class:`Configuration`."""
    text = spec.strip()
    if not text:
        raise ConfigurationError("configuration: empty spec; write e.g. bandit/ltr or lexical:100+semantic:100/rrf")
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
    if text == "all" or text.startswith("all:"):
        depth = _depth(text.partition(":")[2] or str(DEFAULT_DEPTH), spec)
        return {s: depth for s in strategies}
    depths: dict[str, int] = {}
    for part in text.split("+"):
        strategy, _, depth = part.strip().partition(":")
        if strategy not in strategies:
            raise ConfigurationError(f"configuration {spec!r}: unknown strategy {strategy!r}; "
                                     f"choose from {list(strategies)}, 'all' or 'bandit'")
        if strategy in depths:
            raise ConfigurationError(f"configuration {spec!r}: strategy {strategy!r} is named twice")
        depths[strategy] = _depth(depth or str(DEFAULT_DEPTH), spec)
    return depths


def _depth(text: str, spec: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ConfigurationError(f"configuration {spec!r}: depth {text!r} must be a positive whole number")
    return int(text)
