"""Online interleaving experiments: their configurations, the searches they served, and team credits."""

from __future__ import annotations

import json
import time
from typing import Iterable

from ltrr_core.base.records import ImpressionRow, SearchRecord, integer, to_json
from ltrr_core.feedback.store.core import StoreCore
from ltrr_core.feedback.store.searches import CLOSE_SEARCH, found_by_json, insert_search


def _check_name(experiment_id: str) -> None:
    if not isinstance(experiment_id, str) or not experiment_id.strip():
        raise ValueError(f"experiment: {experiment_id!r} is not a name; give a non-empty one")


class InterleavingRepository(StoreCore):
    """Interleaving experiments and the interleaved searches (with each shown result's team)."""

    def create_interleaving(self, experiment_id: str, configurations: list[str], method: str) -> None:
        """Register an interleaving experiment (configuration specs, in team order); registering it
        again with the same specs is a no-op, with others a ValueError naming both."""
        _check_name(experiment_id)
        with self._write() as db:
            row = db.execute("SELECT configurations FROM interleaving_experiments WHERE id = ?",
                             [experiment_id]).fetchone()
            if row is None:
                db.execute("INSERT INTO interleaving_experiments (id, created_at, configurations, method) "
                           "VALUES (?, ?, ?, ?)", [experiment_id, time.time(), to_json(configurations), method])
            elif json.loads(row[0]) != list(configurations):
                raise ValueError(f"interleaving experiment {experiment_id!r} already compares {json.loads(row[0])}, "
                                 f"not {list(configurations)}; give the new comparison another name")

    def interleaving_experiment(self, experiment_id: str) -> list[str]:
        """The configuration specs of ``experiment_id`` (team order); ValueError if there is no such experiment."""
        with self._read() as db:
            row = db.execute("SELECT configurations FROM interleaving_experiments WHERE id = ?",
                             [experiment_id]).fetchone()
        if row is None:
            raise ValueError(f"interleaving experiment {experiment_id!r} does not exist; start it first")
        return json.loads(row[0])

    def interleaving_experiments(self) -> list[dict]:
        """Every interleaving experiment, newest first, with how many searches it served."""
        sql = ("SELECT e.id, e.created_at, e.configurations, e.method, COUNT(s.search_id) FROM interleaving_experiments e "
               "LEFT JOIN interleaved_searches s ON s.experiment_id = e.id GROUP BY e.id ORDER BY e.created_at DESC")
        with self._read() as db:
            rows = db.execute(sql).fetchall()
        return [{"id": i, "created_at": c, "configurations": json.loads(specs), "method": m, "searches": n}
                for i, c, specs, m, n in rows]

    def log_interleaved_search(self, rec: SearchRecord, impressions: Iterable[ImpressionRow], teams: Iterable[str],
                               experiment_id: str) -> int:
        """Store an interleaved search, its page with the team of every result, and its experiment, in
        one transaction. It is stored already closed (reason ``interleaved``) and without bandit
        updates, so it never becomes a pending window, a settled round or a bandit-log record."""
        rows = list(impressions)
        teams = list(teams)
        if len(teams) != len(rows):
            raise ValueError(f"teams: {len(teams)} teams for {len(rows)} shown results; give one team per result")
        with self._write() as db:
            search_id = insert_search(db, rec)
            db.execute(CLOSE_SEARCH, (rec.created_at, "interleaved", search_id))
            db.conn.executemany(
                "INSERT INTO impressions (search_id, entity_id, rank, score, found_by, team) VALUES (?, ?, ?, ?, ?, ?)",
                [(search_id, r.entity_id, r.rank, r.score, found_by_json(r.found_by), t) for r, t in zip(rows, teams)])
            db.execute("INSERT INTO interleaved_searches (search_id, experiment_id) VALUES (?, ?)",
                       [search_id, experiment_id])
        return search_id

    def interleaved_teams(self, search_id: int) -> list[str | None]:
        """The team of each result ``search_id`` showed, by rank (None for a search that was not interleaved)."""
        sql = "SELECT team FROM impressions WHERE search_id = ? ORDER BY rank, id"
        with self._read() as db:
            return [row[0] for row in db.execute(sql, [integer("search_id", search_id)]).fetchall()]

    def interleaving_credits(self, experiment_id: str) -> list[tuple[int, dict[str, int]]]:
        """Per search of the experiment, oldest first: clicked results per team that placed a result."""
        sql = (
            "SELECT x.search_id, i.team, COUNT(DISTINCT f.entity_id) FROM interleaved_searches x "
            "LEFT JOIN impressions i ON i.search_id = x.search_id "
            "LEFT JOIN feedback f ON f.search_id = x.search_id AND f.entity_id = i.entity_id AND f.kind = 'click' "
            "WHERE x.experiment_id = ? GROUP BY x.search_id, i.team ORDER BY x.search_id"
        )
        with self._read() as db:
            rows = db.execute(sql, [experiment_id]).fetchall()
        credits: list[tuple[int, dict[str, int]]] = []
        for search_id, team, clicked in rows:
            if not credits or credits[-1][0] != search_id:
                credits.append((search_id, {}))
            if team is not None:  # a page with no results: a tie
                credits[-1][1][team] = clicked
        return credits
