"""The learning loop of one feedback database: log searches, collect their events, close reward
windows, and fold every settled round into the learning state.

The store is the source of truth. A search is written with its impressions and stays *open*
until its reward window closes (:mod:`ltrr_core.feedback.settlement`); open windows survive a
restart because they are the store's unsettled searches. The bandit and hit history are a fold
over the settled rounds, restored from a snapshot plus the rounds after it
(:mod:`ltrr_core.feedback.learning_state`); the memory index's observed statistics are the
store's aggregate of impressions (weighted by examination) and feedback.

Any number of processes (the app, CLI runs) may share one database. Each one's state is the fold
of a *prefix* of the reward log: before it learns a round, and before every logged search
(:meth:`FeedbackLoop.close_expired`), it folds every round settled since, its own and the other
processes', in the log's order. So ``state.seq`` always means "every round up to seq is folded",
and so does a snapshot. The memory index's statistics count only this process's searches and
events until it restarts (they are not an ordered fold, and re-reading their aggregate per
search would cost a scan of every impression).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from ltrr_core.feedback.learning_state import LearningState, StateFiles
from ltrr_core.base.records import FeedbackEvent, ImpressionRow, SearchRecord
from ltrr_core.feedback.settlement import RewardWindow, Settlement
from ltrr_core.feedback.store.feedback_store import FeedbackStore
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
    """Open reward windows, the learning state and the memory statistics of one store."""

    def __init__(self, store: FeedbackStore, memory: MemoryIndex, files: StateFiles, strategies: list[str],
                 n_features: int, policy: PolicyConfig | None = None, window: RewardWindow | None = None) -> None:
        self.store, self.memory, self.files, self.window = store, memory, files, window or RewardWindow()
        self.strategies, self.n_features = list(strategies), n_features
        self.lock = threading.RLock()
        self._log_end = 0  # the last reward-log row folded: every round with a row up to it is in the state
        self._saved_at = 0  # ``state.updates`` at the last snapshot
        self._restore(policy or files.saved_policy(store.database_id()) or PolicyConfig())

    def _restore(self, policy: PolicyConfig) -> None:
        """Everything from the store, as on a start: the snapshot (if it checks) and the rounds after
        it, the open windows and the memory's observed statistics."""
        self._log_end = 0
        state = self.files.load(self.strategies, self.n_features, policy, self.store.last_settled_seq(),
                                self.store.database_id())
        self.state = state or self._warm(policy)
        self._saved_at = self.state.updates
        self.catch_up()
        self._open: dict[int, _Window] = {p.search_id: _Window(p.user_id, p.created_at, p.chosen_arms)
                                          for p in self.store.pending()}
        self.memory.reset_observed()
        self.memory.load_stats(self.store.q2e_stats())

    def _warm(self, policy: PolicyConfig) -> LearningState:
        """A state before any live round: fresh, warm-started by the rounds replayed from imported
        logs if there are any (:mod:`ltrr_core.feedback.replay`; the imported past comes first)."""
        state = LearningState.fresh(self.strategies, self.n_features, policy)
        state.fold(self.store.replayed_rounds())
        state.seq = 0  # replayed rounds are not in the reward log: live rounds resume from its start
        return state

    def catch_up(self) -> int:
        """Fold every round settled since the state, by any process, in the log's order; returns how
        many. One ``MAX`` query when nothing is new. A log shorter than what was folded was reset by
        another process: the state, open windows and memory statistics are re-read from the store."""
        with self.lock:
            end = self.store.last_settled_seq()
            if end == self._log_end:
                return 0
            if end < self._log_end:
                self._restore(self.state.bandit.config)
                return 0
            rounds = self.store.settled_rounds(after_seq=self.state.seq)
            self.state.fold(rounds)
            self._log_end = max(end, _last_row(rounds[-1].seq, rounds[-1].rewards) if rounds else 0)
            self._maybe_save()
            return len(rounds)

    @property
    def open_searches(self) -> list[int]:
        """Searches whose reward window is open, oldest first."""
        return sorted(self._open)

    # -- searches and events -----------------------------------------------------------
    def log(self, record: SearchRecord, impressions: list[ImpressionRow], x: np.ndarray) -> int:
        """Store a search and its page (the session's previous open window closes first); the
        memory index counts the page as examined by rank. One lock spans closing and opening, so two
        searches of a session at once cannot leave the first one's window open for good."""
        with self.lock:
            self.close_session(record.user_id)
            search_id = self.store.log_search_bundle(record, impressions)
            self._open[search_id] = _Window(record.user_id, time.time(), record.chosen_arms, record.normalized_query,
                                            x, record.category, {i.entity_id: i.found_by for i in impressions})
        self.memory.record_shown(record.normalized_query, [i.entity_id for i in impressions], self.store.curve)
        return search_id

    def log_interleaved(self, record: SearchRecord, impressions: list[ImpressionRow], teams: list[str],
                        experiment_id: str) -> int:
        """Store an interleaved search (:meth:`FeedbackStore.log_interleaved_search`): no reward window
        opens, so its events are stored and counted by the memory index but never settle a bandit round."""
        self.close_session(record.user_id)
        search_id = self.store.log_interleaved_search(record, impressions, teams, experiment_id)
        self.memory.record_shown(record.normalized_query, [i.entity_id for i in impressions], self.store.curve)
        return search_id

    def respond(self, search_id: int, events: list[tuple[str, str]], source: str, user_id: str,
                then_close: str | None = None) -> Settlement | None:
        """Store ``(entity_id, kind)`` events on a search in one transaction; the first positive
        event on a shown result closes its window (and the events go in with the settlement).
        ``then_close`` (a reason) closes a window the events left open, in the same transaction."""
        with self.lock:
            window = self._open.get(search_id)
            query = window.query if window and window.query else self.store.search(search_id).normalized_query
            feedback = [FeedbackEvent(search_id, query, entity_id, kind, source, user_id) for entity_id, kind in events]
            positive = None
            if window is not None:
                positive = self.window.first_positive(e for e in events if self._found_by(search_id, window, e[0]))
            closing = positive or ((None, then_close) if window is not None and then_close else None)
            settlement = self._settle(search_id, window, closing, feedback) if closing else None
            if settlement is None and feedback:
                self.store.log_response(search_id, feedback)
        for event in feedback:
            if event.kind in MEMORY_COUNTS:
                self.memory.record(query, event.entity_id, **{MEMORY_COUNTS[event.kind]: 1})
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
        seq = self.store.settle(search_id, rewards, reason, events)
        del self._open[search_id]
        if seq is None:
            return None
        if seq == self._log_end + 1 and window.x is not None:
            # The round's rows directly follow the folded prefix (rowids are given in commit order):
            # no other round settled in between, so it is learnt from the window without a read.
            self.state.apply(window.x, window.category, rewards, seq)
            self._log_end = _last_row(seq, rewards)
            self._maybe_save()
        else:
            self.catch_up()
        return Settlement(search_id, reason, entity_id, rewards)

    # -- state -------------------------------------------------------------------------
    def save(self) -> None:
        with self.lock:
            self.files.save(self.state, self.store.database_id())
            self._saved_at = self.state.updates

    def _maybe_save(self) -> None:
        if self.state.updates - self._saved_at >= SAVE_EVERY:
            self.save()

    def set_policy(self, policy: PolicyConfig) -> None:
        """Switch policy: the new policy's state is the fold of the whole log (replayed imported
        rounds first), and it is saved."""
        with self.lock:
            labelled = self.state.labelled_since_train
            self.state, self._log_end = self._warm(policy), 0
            self.state.labelled_since_train = labelled
            self.catch_up()
            self.save()

    def reset(self) -> dict[str, int]:
        """Forget the log (labels are kept), the learning state, its snapshot and the memory's observations."""
        with self.lock:
            deleted = self.store.reset_learning()
            self.state = LearningState.fresh(self.strategies, self.n_features, self.state.bandit.config)
            self._log_end = self._saved_at = 0
            self._open.clear()
            self.memory.reset_observed()
            self.files.remove()
        return deleted


def _last_row(seq: int, rewards: dict[str, float]) -> int:
    """A round's last row in the reward log: its arms' rows are written together, from ``seq`` on."""
    return seq + len(rewards) - 1
