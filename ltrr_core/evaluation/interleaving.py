"""Team-draft interleaving (two rankings) and team-draft multileaving (three or more), and their tally.

Team draft (Radlinski, Kurup and Joachims 2008; multileaving: Schuth et al. 2014): the page is
filled in rounds; each round the teams pick in a fresh random order, each adding its
highest-ranked item not on the page yet, and that item is credited to its team. A click on
an item counts for the team that contributed it; per impression, team i beats team j when
it got more clicked items. The random order makes the draft fair: two equally good rankings
win equally often, whatever position bias the users have.

:class:`InterleavingTally` counts wins, losses and ties per pair of configurations and tests
each pair with the anytime-valid mixture SPRT (:mod:`ltrr_core.evaluation.sequential`) at
``alpha / pairs`` (Bonferroni: the family of pairs keeps its false-positive rate below alpha).
A pair is decided at the first impression its test rejects; the experiment has a winner when
one configuration is decided better than every other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Iterable, Sequence

import numpy as np

from ltrr_core.evaluation.sequential import DEFAULT_ALPHA, DEFAULT_PRIOR, MixtureSPRT

METHOD = "team_draft"


@dataclass(frozen=True)
class Interleaved:
    """A drafted page: ``ids`` best first, ``teams[r]`` the index of the list that contributed ``ids[r]``."""

    ids: tuple[str, ...]
    teams: tuple[int, ...]


def team_draft(lists: Sequence[Sequence[str]], k: int, rng: np.random.Generator) -> Interleaved:
    """Draft up to ``k`` items from two (interleaving) or more (multileaving) ranked lists."""
    if len(lists) < 2:
        raise ValueError(f"lists: team draft needs at least two rankings, got {len(lists)}")
    if k < 1:
        raise ValueError(f"k: {k} must be >= 1")
    ids: list[str] = []
    teams: list[int] = []
    used: set[str] = set()
    cursor = [0] * len(lists)
    while len(ids) < k:
        added = False
        for team in rng.permutation(len(lists)).tolist():
            ranking = lists[team]
            while cursor[team] < len(ranking) and ranking[cursor[team]] in used:
                cursor[team] += 1
            if cursor[team] == len(ranking):
                continue  # this team has nothing left to give
            item = ranking[cursor[team]]
            ids.append(item)
            teams.append(team)
            used.add(item)
            added = True
            if len(ids) == k:
                break
        if not added:
            break
    return Interleaved(tuple(ids), tuple(teams))


@dataclass(frozen=True)
class PairTest:
    """One pair's tally: ``a``'s wins, losses and ties against ``b``, ``a``'s win rate and its
    anytime-valid confidence sequence, the test's log likelihood ratio against its threshold, and the
    impression at which it was decided (``decided_at``) for the ``better`` one (None: not yet)."""

    a: str
    b: str
    wins: int
    losses: int
    ties: int
    win_rate: float
    interval: tuple[float, float]
    log_ratio: float
    threshold: float
    decided_at: int | None
    better: str | None


@dataclass(frozen=True)
class TallyReport:
    """An interleaving tally: the method and test, the family level ``alpha`` and each pair's share,
    the test's prior, the impressions counted, the ``winner`` (None: none yet) and every pair's test."""

    method: str
    test: str
    alpha: float
    alpha_per_pair: float
    prior: float
    impressions: int
    winner: str | None
    pairs: tuple[PairTest, ...]

    def to_json(self) -> dict:
        """As JSON."""
        return asdict(self)


def credit(teams: Sequence[int], clicked_ranks: Iterable[int], n_teams: int) -> np.ndarray:
    """Clicked items per team: each click (a 1-based rank on the page) counts for the team that placed it."""
    counts = np.zeros(n_teams, dtype=np.int64)
    for rank in set(clicked_ranks):
        counts[teams[rank - 1]] += 1
    return counts


@dataclass
class InterleavingTally:
    """Wins per ordered pair of configurations, with each pair's sequential test (see the module docstring)."""

    names: tuple[str, ...]
    alpha: float = DEFAULT_ALPHA
    prior: float = DEFAULT_PRIOR
    impressions: int = 0
    wins: np.ndarray = field(init=False)  # wins[i, j]: impressions where i got more clicked items than j
    decided: dict[tuple[int, int], tuple[int, int]] = field(init=False)  # pair -> (impression, winner)

    def __post_init__(self) -> None:
        if len(self.names) < 2:
            raise ValueError(f"names: an interleaving experiment compares two or more configurations, got {list(self.names)}")
        self.names = tuple(self.names)
        self.wins = np.zeros((len(self.names), len(self.names)), dtype=np.int64)
        self.decided = {}

    @property
    def pairs(self) -> list[tuple[int, int]]:
        return list(combinations(range(len(self.names)), 2))

    @property
    def test(self) -> MixtureSPRT:
        """Each pair's test, at the Bonferroni level ``alpha / pairs``."""
        return MixtureSPRT(self.alpha / len(self.pairs), self.prior)

    def add(self, credits: Sequence[int]) -> None:
        """One impression's clicked items per team."""
        c = np.asarray(credits)
        if c.shape != (len(self.names),):
            raise ValueError(f"credits: expected one count per configuration ({len(self.names)}), got {c.tolist()}")
        self.impressions += 1
        self.wins += c[:, None] > c[None, :]
        test = self.test
        for i, j in self.pairs:
            if (i, j) not in self.decided and c[i] != c[j] and test.significant(self.wins[i, j], self.wins[j, i]):
                self.decided[(i, j)] = (self.impressions, i if self.wins[i, j] > self.wins[j, i] else j)

    @property
    def winner(self) -> str | None:
        """The configuration decided better than every other one, if any."""
        for k, name in enumerate(self.names):
            if all(self.decided.get((min(k, o), max(k, o)), (0, -1))[1] == k for o in range(len(self.names)) if o != k):
                return name
        return None

    def report(self) -> TallyReport:
        """Every pair's :class:`PairTest` so far, and the winner."""
        test = self.test
        pairs = []
        for i, j in self.pairs:
            wins, losses = int(self.wins[i, j]), int(self.wins[j, i])
            at, winner = self.decided.get((i, j), (None, None))
            pairs.append(PairTest(
                self.names[i], self.names[j], wins, losses, self.impressions - wins - losses,
                wins / (wins + losses) if wins + losses else 0.5, test.interval(wins, losses),
                float(test.log_ratio(wins, losses)), test.threshold, at,
                self.names[winner] if winner is not None else None))
        return TallyReport(METHOD, "beta-mixture SPRT (anytime-valid)", self.alpha, test.alpha, self.prior,
                           self.impressions, self.winner, tuple(pairs))
