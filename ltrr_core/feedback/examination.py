"""How likely a user examined a result at a rank: the weight of an unclicked impression.

An impression is a failure only if the user looked at it. The memory index counts clicks
against *expected* clicks (COEC, clicks over expected clicks): an impression at rank r adds
``examination(r)`` to the pair's examined count, so a result nobody scrolled to barely moves
its score. The curve is the position discount of DCG, ``1 / log2(r + 1)`` (1 at rank 1, 0.5 at
rank 3, 0.23 at rank 20): a documented prior, not yet fitted to this log.
"""

from __future__ import annotations

import math
from functools import lru_cache


@lru_cache(maxsize=1024)
def examination(rank: int) -> float:
    """Probability that the result at 1-based ``rank`` was examined."""
    return 1.0 / math.log2(rank + 1) if rank >= 1 else 0.0
