"""The strategy registry: the one list of strategies, in the order every table and feature uses.

Adding a strategy is one new module under ``strategies/`` and one entry here; the bandit's
arms, the context features and the ranker's per-strategy feature columns all derive from
:data:`STRATEGY_ORDER`.
"""

from __future__ import annotations

from typing import Callable

from ltrr_core.retrieval.resources import Resources
from ltrr_core.retrieval.strategies.base import Strategy
from ltrr_core.retrieval.strategies.explore import Explore
from ltrr_core.retrieval.strategies.lexical import Lexical
from ltrr_core.retrieval.strategies.memory import Memory
from ltrr_core.retrieval.strategies.popular import Popular
from ltrr_core.retrieval.strategies.semantic import Semantic
from ltrr_core.retrieval.strategies.structured import Structured

StrategyBuilder = Callable[[Resources], Strategy]
REGISTRY: dict[str, StrategyBuilder] = {
    builder.name: builder for builder in (Lexical, Popular, Structured, Semantic, Memory, Explore)
}
STRATEGY_ORDER: tuple[str, ...] = tuple(REGISTRY)
