"""Retrieval strategies (the bandit's arms). Importing this package registers all of them."""

from ltrr_core.strategies import explore, lexical, memory, popular, semantic, structured  # noqa: F401
from ltrr_core.strategies.base import REGISTRY, Candidates, Strategy, register

__all__ = ["REGISTRY", "Candidates", "Strategy", "register"]
