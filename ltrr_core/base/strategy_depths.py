"""The one grammar for strategies at candidate depths, shared by arms, configurations and policies.

An arm is a strategy at a depth: ``lexical@100`` (:func:`arm_name`, :func:`split_arm`). A list joins
items ``strategy[@depth]`` with ``+``: ``lexical@100+semantic`` (:func:`parse_strategy_depths`),
which configurations (``lexical@100+semantic/ltr``, ``all@200/rrf``) and fixed policies
(``fixed:lexical@25+semantic``) use. ``@`` is what is written; ``:`` is read as well, for specs and
stored snapshots written before ``@`` (``lexical:100+semantic:25``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Mapping, Sequence

DEPTH_SEPARATOR = "@"
OLD_DEPTH_SEPARATOR = ":"  # read, never written
JOIN = "+"
FIXED_PREFIX = "fixed:"  # a fixed policy's name: this prefix, then a strategy list


class StrategyDepthError(ValueError):
    """A strategy list with an unknown strategy, one named twice, an empty item or a bad depth;
    ``problem`` says which, the message names the spec too."""

    def __init__(self, spec: str, problem: str) -> None:
        super().__init__(f"strategies {spec!r}: {problem}")
        self.spec, self.problem = spec, problem


def arm_name(strategy: str, depth: int) -> str:
    """``("lexical", 100)`` -> ``"lexical@100"``."""
    return f"{strategy}{DEPTH_SEPARATOR}{depth}"


@lru_cache(maxsize=4096)  # arms are few, and the bandit splits each several times per search
def split_arm(arm: str) -> tuple[str, int]:
    """``"lexical@100"`` (or ``"lexical:100"``) -> ``("lexical", 100)``; StrategyDepthError when
    ``arm`` is not one strategy at a depth."""
    strategy, depth = _item(arm, arm)
    if depth is None:
        raise StrategyDepthError(arm, f"an arm needs a depth, e.g. {arm_name(strategy, 100)}")
    return strategy, depth


def parse_strategy_depths(spec: str, strategies: Sequence[str] | None = None) -> dict[str, int | None]:
    """``"lexical@100+semantic"`` -> ``{"lexical": 100, "semantic": None}`` (None: no depth given), in
    the spec's order; with ``strategies``, any other name is refused."""
    depths: dict[str, int | None] = {}
    for item in spec.split(JOIN):
        strategy, depth = _item(item, spec)
        if strategies is not None and strategy not in strategies:
            raise StrategyDepthError(spec, f"unknown strategy {strategy!r}; choose from {list(strategies)}")
        if strategy in depths:
            raise StrategyDepthError(spec, f"strategy {strategy!r} is named twice")
        depths[strategy] = depth
    return depths


def format_strategy_depths(depths: Mapping[str, int | None]) -> str:
    """The spec :func:`parse_strategy_depths` reads back: ``{"lexical": 100, "semantic": None}`` ->
    ``"lexical@100+semantic"``."""
    return JOIN.join(strategy if depth is None else arm_name(strategy, depth) for strategy, depth in depths.items())


def base_strategy(name: str) -> str:
    """The strategy a name is about: ``semantic@100`` -> ``semantic``, ``fixed:lexical`` -> ``lexical``;
    a name of several strategies (``lexical+semantic``), or no strategy list at all (``bandit/ltr``),
    is its own base."""
    body = name.removeprefix(FIXED_PREFIX)
    try:
        depths = parse_strategy_depths(body)
    except StrategyDepthError:
        return name
    return next(iter(depths)) if len(depths) == 1 else name


def _item(item: str, spec: str) -> tuple[str, int | None]:
    """One ``strategy[@depth]`` of ``spec``: the strategy and its depth (None: none given)."""
    text = item.strip()
    cut = max(text.rfind(DEPTH_SEPARATOR), text.rfind(OLD_DEPTH_SEPARATOR))
    strategy, depth = (text[:cut].strip(), text[cut + 1:].strip()) if cut >= 0 else (text, None)
    if not strategy or any(c in strategy for c in (DEPTH_SEPARATOR, OLD_DEPTH_SEPARATOR, JOIN)):
        raise StrategyDepthError(spec, f"{text!r} is not strategy[@depth]" if text else
                                 "a strategy is missing (nothing given, or nothing beside a '+')")
    if depth is None:
        return strategy, None
    if not (depth.isascii() and depth.isdigit()) or int(depth) < 1:
        raise StrategyDepthError(spec, f"depth {depth!r} of {strategy!r} must be a positive whole number")
    return strategy, int(depth)
