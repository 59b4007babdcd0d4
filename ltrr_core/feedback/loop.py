"""The learning loop of one feedback database: log searches, collect their events, close reward
windows, and fold every settled round into the learning state.

The store is the source of truth. A search is written with its impressions and stays *open*
until its reward window closes (:mod:`ltrr_core.feedback.settlement`); open windows survive a
restart because they are the store's unsettled searches. The bandit and hit history are a fold
over the settled rounds, restored from a snapshot plus the rounds after it
(:mod:`ltrr_core.feedback.learning_state`); the memory index's observed statistics are the
store's aggregate of impressions (weighted by examination) and feedback, then the rows logged
after it, added in log order.

Any number of processes (the app, CLI runs) may share one database. Each one's state is the fold
of a *prefix* of the log: before it learns a round, and before every logged search
(:meth:`FeedbackLoop.close_expired`), it catches up (:meth:`FeedbackLoop.catch_up`): it folds every
round settled since, its own and the other processes', in the log's order, and counts every
impression and event logged since into the memory, as a restart would. So ``state.seq`` always
means "every round up to seq is folded", and so does a snapshot. What a catch-up by position
cannot follow is told by the store (:meth:`FeedbackStore.log_position`): a log rewritten under the
state (a reset, a warm start) advances the log generation and the state is rebuilt; a change to
the memory's aggregate (an import, a new examination curve, a reset) advances the stats
generation and the memory is re-read; the policy chosen for the database (one for every process)
changed and the state is refolded under it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from ltrr_core.feedback.learning_state import LearningState, StateFiles, policy_from_record, policy_record
from ltrr_core.base.records import FeedbackEvent, ImpressionRow, SearchRecord
from ltrr_core.feedback.settlement import RewardWindow, Settlement
from ltrr_core.feedback.store.feedback_store import FeedbackStore
from ltrr_core.feedback.store.shared import LogPosition
from ltrr_core.retrieval.indexes.memory import MemoryIndex
from ltrr_core.selection.bandit import PolicyConfig

SAVE_EVERY = 50  # settled rounds between snapshots (the log makes every round durable anyway)
MEMORY_COUNTS = {"click": "clicks", "thumbs_up": "thumbs_up", "thumbs_down": "thumbs_down"}


@dataclass
class _Window:
    """An open search: what settling it needs (``x`` and ``shown`` are read from the store after a restart)."""

    user_id: str
    created_at: float
    chosen: tuple[str, ...]
    query: str | None = None
    x: np.ndarray | None = None
    category: str = ""
    shown: dict[str, tuple[str, ...]] | None = None  # entity id -> the strategies that found it


class FeedbackLoop:
    """Open reward windows, the learning state and the memory statistics of one store.

    ``policy``, when given, is chosen for the database (as :meth:`set_policy` does); otherwise the
    loop follows the database's choice (:meth:`chosen_policy`)."""

    def __init__(self, store: FeedbackStore, memory: MemoryIndex, files: StateFiles, strategies: list[str],
                 n_features: int, policy: PolicyConfig | None = None, window: RewardWindow | None = None) -> None:
        self.store, self.memory, self.files, self.window = store, memory, files, window or RewardWindow()
        self.strategies, self.n_features = list(strategies), n_features
        self.lock = threading.RLock()
        self._log_end = 0  # the last reward-log row folded: every round with a row up to it is in the state
        self._saved_at = 0  # ``state.updates`` at the last snapshot
        self._generations = (-1, -1)  # the (log, stats) generations the state and the memory hold: none yet
        self._marks = (0, 0)  # the last impression and feedback ids the memory counts
        at = store.log_position()
        # A database from before the choice was stored in it: its last snapshot's policy is the choice.
        choice = policy or (files.saved_policy(store.database_id()) if at.policy is None else None)
        if choice is not None and choice != _policy(at):
            store.choose_policy(policy_record(choice))
        self.catch_up()  # everything from the store, as on a start

    def _restore(self, at: LogPosition) -> None:
        """The learning state (the snapshot if it checks for this log, else the log's start) and the
        open windows, re-read from the store."""
        self.state = self._load(_policy(at), at)
        self._open: dict[int, _Window] = {p.search_id: _Window(p.user_id, p.created_at, p.chosen_arms)
                                          for p in self.store.pending()}

    def _load(self, policy: PolicyConfig, at: LogPosition) -> LearningState:
        """The state under ``policy`` as of the snapshot that checks for the log ``at`` (its generation,
        its length), else as of the log's start; the rounds after it are folded next (:meth:`_fold_rounds`)."""
        self._log_end, self._generations = 0, (at.log_generation, self._generations[1])
        state = self.files.load(self.strategies, self.n_features, policy, at.last_seq, self.store.database_id(),
                                at.log_generation) or self._warm(policy)
        self._saved_at = state.updates
        return state

    def _warm(self, policy: PolicyConfig) -> LearningState:
        """A state before any live round: fresh, warm-started by the rounds replayed from imported
        logs if there are any (:mod:`ltrr_core.feedback.replay`; the imported past comes first)."""
        state = LearningState.fresh(self.strategies, self.n_features, policy)
        state.fold(self.store.replayed_rounds())
        state.seq = 0  # replayed rounds are not in the reward log: live rounds resume from its start
        return state

    def catch_up(self) -> int:
        """Fold every round settled since the state, by any process, in the log's order, and count
        every impression and event logged since into the memory; returns the rounds folded. One
        read when nothing is new. A rewritten log (its generation advanced) is re-read whole; a
        changed policy choice refolds the state under it; a changed aggregate re-reads the memory."""
        with self.lock:
            at = self.store.log_position()
            if at.log_generation != self._generations[0]:
                self._restore(at)
            elif (policy := _policy(at)) != self.state.bandit.config:
                labelled = self.state.labelled_since_train  # labels are no part of the log
                self.state = self._load(policy, at)
                self.state.labelled_since_train = labelled
            if at.stats_generation != self._generations[1]:
                self._reload_memory(at)
            elif (at.impressions, at.feedback) != self._marks:
                self._fold_memory()
            return self._fold_rounds(at)

    def _fold_rounds(self, at: LogPosition) -> int:
        if at.last_seq <= self._log_end:
            return 0
        rounds = self.store.settled_rounds(after_seq=self.state.seq)
        self.state.fold(rounds)
        self._log_end = max(at.last_seq, _last_row(rounds[-1].seq, rounds[-1].rewards) if rounds else 0)
        self._maybe_save()
        return len(rounds)

    def _reload_memory(self, at: LogPosition) -> None:
        """The memory's observed statistics: the store's aggregate up to ``at``, under its curve in use."""
        self.store.reload_curve()
        self.memory.reset_observed()
        self.memory.load_stats(self.store.q2e_stats(through=(at.impressions, at.feedback)))
        self._generations, self._marks = (self._generations[0], at.stats_generation), (at.impressions, at.feedback)

    def _fold_memory(self) -> None:
        """Count the impressions and events logged after the memory's marks (by any process), in log
        order, each as the aggregate counts it: a restart and a running process hold the same."""
        shown, events = self.store.memory_rows(after=self._marks)
        for row in shown:
            self.memory.record_shown(row.query, [row.entity_id], self.store.curve, [row.rank])
        for event in events:
            if event.kind in MEMORY_COUNTS:
                self.memory.record(event.query, event.entity_id, **{MEMORY_COUNTS[event.kind]: 1})
        self._marks = (shown[-1].id if shown else self._marks[0], events[-1].id if events else self._marks[1])

    @property
    def open_searches(self) -> list[int]:
        """Searches whose reward window is open, oldest first."""
        return sorted(self._open)

    # -- searches and events -----------------------------------------------------------
    def log(self, record: SearchRecord, impressions: list[ImpressionRow], x: np.ndarray) -> int:
        """Store a search and its page (the session's previous open window closes first); the
        memory index then counts the page as examined by rank (:meth:`_count_shown`, else
        :meth:`catch_up`). One lock spans closing and opening, so two searches of a session at once
        cannot leave the first one's window open for good."""
        with self.lock:
            self.close_session(record.user_id)
            search_id, last_shown = self.store.log_search_rows(record, impressions)
            self._open[search_id] = _Window(record.user_id, time.time(), record.chosen_arms, record.normalized_query,
                                            x, record.category, {i.entity_id: i.found_by for i in impressions})
            if not self._count_shown(record.normalized_query, impressions, last_shown):
                self.catch_up()
        return search_id

    def log_interleaved(self, record: SearchRecord, impressions: list[ImpressionRow], teams: list[str],
                        experiment_id: str) -> int:
        """Store an interleaved search (:meth:`FeedbackStore.log_interleaved_search`): no reward window
        opens, so its events are stored and counted by the memory index but never settle a bandit round."""
        self.close_session(record.user_id)
        search_id = self.store.log_interleaved_search(record, impressions, teams, experiment_id)
        self.catch_up()
        return search_id

    def respond(self, search_id: int, events: list[tuple[str, str]], source: str, user_id: str,
                then_close: str | None = None) -> Settlement | None:
        """Store ``(entity_id, kind)`` events on a search in one transaction; the first positive
        event on a shown result closes its window (and the events go in with the settlement).
        ``then_close`` (a reason) closes a window the events left open, in the same transaction.
        The memory index then counts the events (:meth:`_count_events`, else :meth:`catch_up`)."""
        with self.lock:
            window = self._open.get(search_id)
            query = window.query if window and window.query else self.store.search(search_id).normalized_query
            feedback = [FeedbackEvent(search_id, query, entity_id, kind, source, user_id) for entity_id, kind in events]
            positive = None
            if window is not None:
                positive = self.window.first_positive(e for e in events if self._found_by(search_id, window, e[0]))
            closing = positive or ((None, then_close) if window is not None and then_close else None)
            settlement = self._settle(search_id, window, closing, feedback) if closing else None
            if settlement is None and feedback and not self._count_events(
                    feedback, self.store.log_response(search_id, feedback)):
                self.catch_up()
        return settlement

    def close(self, search_id: int, reason: str) -> Settlement | None:
        """Close an open window with the default reward (``reason``: none_of_these, next_search, timeout)."""
        with self.lock:
            window = self._open.get(search_id)
            return self._settle(search_id, window, (None, reason), []) if window else None

    def close_session(self, user_id: str) -> list[Settlement]:
        """The session searches again: its open windows close with the default reward."""
        with self.lock:
            mine = [s for s, w in self._open.items() if w.user_id == user_id]
        return [s for s in (self.close(search_id, "next_search") for search_id in mine) if s]

    def close_expired(self, now: float | None = None) -> list[Settlement]:
        """Windows open longer than the reward window's ``wait_s`` close with the default reward; first,
        the rounds other processes settled are folded (:meth:`catch_up`), so a search selects with them."""
        cutoff = (time.time() if now is None else now) - self.window.wait_s
        with self.lock:
            self.catch_up()
            expired = [s for s, w in self._open.items() if w.created_at < cutoff]
        return [s for s in (self.close(search_id, "timeout") for search_id in expired) if s]

    def label(self, normalized_query: str, entity_id: str, grade: int) -> Settlement | None:
        """A label of at least ``label_grade`` on a result an open search of that query showed closes
        the newest such window with that result."""
        if grade < self.window.label_grade:
            return None
        with self.lock:
            for search_id in sorted(self._open, reverse=True):
                window = self._open[search_id]
                if self._query(search_id, window) == normalized_query and self._found_by(search_id, window, entity_id):
                    return self._settle(search_id, window, (entity_id, "label"), [])
        return None

    # -- settling ----------------------------------------------------------------------
    def _query(self, search_id: int, window: _Window) -> str:
        if window.query is None:
            window.query = self.store.search(search_id).normalized_query
        return window.query

    def _found_by(self, search_id: int, window: _Window, entity_id: str) -> tuple[str, ...] | None:
        if window.shown is not None:
            return window.shown.get(entity_id)
        return self.store.shown(search_id, entity_id)

    def _settle(self, search_id: int, window: _Window, closing: tuple[str | None, str],
                events: list[FeedbackEvent]) -> Settlement | None:
        """Write the settlement, then learn through it in the log's order; None if another process
        settled the search first (its round is folded at the next catch-up)."""
        entity_id, reason = closing
        found_by = self._found_by(search_id, window, entity_id) if entity_id else None
        rewards = self.window.rewards(window.chosen, found_by)
        seq, last_event = self.store.settle_rows(search_id, rewards, reason, events)
        del self._open[search_id]
        if seq is None:
            return None
        counted = self._count_events(events, last_event)
        # The round's rows directly follow the folded prefix (rowids are given in commit order): no
        # other round settled in between, so it is learnt from the window without a read.
        learnt = seq == self._log_end + 1 and window.x is not None
        if learnt:
            self.state.apply(window.x, window.category, rewards, seq)
            self._log_end = _last_row(seq, rewards)
            self._maybe_save()
        if not (learnt and counted):
            self.catch_up()
        return Settlement(search_id, reason, entity_id, rewards)

    # -- this process's own rows ---------------------------------------------------------
    def _count_shown(self, query: str, impressions: list[ImpressionRow], last_id: int | None) -> bool:
        """Count a page this process just logged into the memory as the fold of the log would, without
        reading it back, when its rows directly follow the memory's marks (ids are given in commit
        order: no other process logged a page in between); False, counting nothing, otherwise."""
        if last_id is None:
            return True
        if last_id != self._marks[0] + len(impressions):
            return False
        self.memory.record_shown(query, [i.entity_id for i in impressions], self.store.curve,
                                 [i.rank for i in impressions])
        self._marks = (last_id, self._marks[1])
        return True

    def _count_events(self, events: list[FeedbackEvent], last_id: int | None) -> bool:
        """Count events this process just stored into the memory (as :meth:`_count_shown` counts a
        page), each under its search's normalized query; False, counting nothing, when another
        process stored events in between."""
        if last_id is None:
            return True
        if last_id != self._marks[1] + len(events):
            return False
        for event in events:
            if event.kind in MEMORY_COUNTS:
                self.memory.record(event.query, event.entity_id, **{MEMORY_COUNTS[event.kind]: 1})
        self._marks = (self._marks[0], last_id)
        return True

    # -- state -------------------------------------------------------------------------
    def save(self) -> None:
        with self.lock:
            self.files.save(self.state, self.store.database_id(), self._generations[0])
            self._saved_at = self.state.updates

    def _maybe_save(self) -> None:
        if self.state.updates - self._saved_at >= SAVE_EVERY:
            self.save()

    def chosen_policy(self) -> PolicyConfig:
        """The policy chosen for the database, which every process sharing it follows (the default
        when none was chosen)."""
        return _policy(self.store.log_position())

    def set_policy(self, policy: PolicyConfig) -> None:
        """Choose ``policy`` for the database (every process refolds under it at its next catch-up),
        refold under it now (:meth:`catch_up`: replayed imported rounds first, then the log) and save."""
        with self.lock:
            self.store.choose_policy(policy_record(policy))
            self.catch_up()
            self.save()

    def reset(self) -> dict[str, int]:
        """Forget the log (labels are kept), the learning state, its snapshot and the memory's observations."""
        with self.lock:
            deleted = self.store.reset_learning()
            self.files.remove()
            self.catch_up()  # the reset advanced the generations: everything is re-read (empty)
            self.state.labelled_since_train = set()
        return deleted


def _policy(at: LogPosition) -> PolicyConfig:
    """The policy chosen in the database (the default when none was chosen, or its record is not one)."""
    try:
        return PolicyConfig() if at.policy is None else policy_from_record(at.policy)
    except (TypeError, ValueError, KeyError):
        return PolicyConfig()


def _last_row(seq: int, rewards: dict[str, float]) -> int:
    """A round's last row in the reward log: its arms' rows are written together, from ``seq`` on."""
    return seq + len(rewards) - 1
