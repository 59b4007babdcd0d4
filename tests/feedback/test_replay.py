"""Warm start by replay: replaying a log gives the bandit, hit history and memory that a live run
on the same events learnt; a page grades only the arms it exposed, and without a positive event
gives them the default reward and still reaches the memory; the warm start survives a restart;
LTR learns from imported clicks."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest

from ltrr_core.base.config import Settings
from ltrr_core.engine import Engine
from ltrr_core.feedback.log_import import write_log
from ltrr_core.feedback.replay import EXPOSED_TOP, Replayer, log_context
from ltrr_core.pipeline import Pipeline
from ltrr_core.feedback.click_training import click_group
from ltrr_core.selection.bandit import PolicyConfig, split_arm

# Every strategy at one depth on every search: a live run pulls every arm, and its pages expose them all;
# a replayed round counts as a live one.
EVERY_ARM = PolicyConfig(name="all", depths=(100,), replay_weight=1.0)
QUERIES = ["love songs", "jazz", "love songs", "taylor swift", "chill playlist", "jazz", "beyonce", "80s rock",
           "love songs", "jazz", "sad songs", "love songs"]
SILENT = {5, 11}  # searches answered by a click alone: their windows close with the default reward


def replayer_of(engine: Engine) -> Replayer:
    """A replayer over a sandbox of ``engine``'s resources (its memory starts cold)."""
    rt = engine.runtime
    return Replayer(Pipeline(rt.pipeline.resources.sandboxed(), rt.strategy_names), rt.policy, rt.n_features,
                    rt.loop.window, rt.store.curve)


def live_run(engine: Engine, path) -> list[tuple]:
    """Search and respond live with contexts taken from the log's timestamps; every page but those of
    ``SILENT`` gets a positive event (engage or thumbs up). Writes what happened as a log and returns its rows."""
    rows = []
    for i, query in enumerate(QUERIES):
        timestamp, session = 1767225600.0 + i * 5400.0, f"s{i % 3}"  # every 1.5 h: hours and weekdays vary
        result = engine.searching.search(query, log_context(timestamp, session), k=10, source="simulated",
                                         user_id=session)
        rows += [(timestamp, session, query, item.id, "impression", item.rank, None, None) for item in result.items]
        pick = result.items[(i * 3) % len(result.items)].id
        events = [(pick, "click"), (pick, "engage")] if i % 2 == 0 else [(pick, "engage")]
        if i % 4 == 3:
            events = [(pick, "click"), (pick, "thumbs_up")]
        if i in SILENT:
            events = [(pick, "click")]
        engine.searching.respond(result.search_id, events, "simulated", session, then_close="next_search")
        rows += [(timestamp + 1, session, query, entity_id, kind, None, None, None) for entity_id, kind in events]
    write_rows(rows, path)
    return rows


def write_rows(rows: list[tuple], path) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        write_log(rows, fh)


def unanswered(rows: list[tuple], start: float) -> list[tuple]:
    """The logged pages shown again later to new sessions, clicked but without a positive event."""
    impressions = [r for r in rows if r[4] == "impression"]
    later = [(start + r[0], f"late-{r[1]}", *r[2:]) for r in impressions]
    first = impressions[0]
    return later + [(start + first[0] + 1, f"late-{first[1]}", first[2], first[3], "click", None, None, None)]


@pytest.fixture(scope="module")
def replayed(default_catalog, app_cache_dir, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("replay")
    live = Engine.open("default", Settings(cache_dir=app_cache_dir, db_path=tmp_path / "live.db"), EVERY_ARM,
                       catalog=default_catalog)
    log = tmp_path / "log.csv"
    rows = live_run(live, log)
    warm = Engine.open("default", Settings(cache_dir=app_cache_dir, db_path=tmp_path / "warm.db"), EVERY_ARM,
                       catalog=default_catalog)
    warm.logs.import_log(log)
    summary = warm.logs.warm_start()
    return live, warm, summary, rows


def test_a_replayed_warm_start_equals_the_live_run_on_the_same_events(replayed):
    live, warm, summary, _ = replayed
    assert summary.pages == summary.rounds == len(QUERIES)
    assert summary.rewarded == len(QUERIES) - len(SILENT)
    assert set(summary.arm_rounds.values()) == {len(QUERIES)}  # policy all: every page exposed every arm
    assert warm.runtime.state.bandit.stats.pulls == live.runtime.state.bandit.stats.pulls
    assert warm.runtime.state.bandit.stats.reward == pytest.approx(live.runtime.state.bandit.stats.reward)
    assert sum(live.runtime.state.bandit.stats.reward.values()) > 0
    warm_stats, live_stats = warm.runtime.state.bandit.stats, live.runtime.state.bandit.stats
    assert (warm_stats.shared, warm_stats.alone) == (live_stats.shared, live_stats.alone)
    for name, array in live.runtime.state.bandit.arrays().items():
        np.testing.assert_allclose(warm.runtime.state.bandit.arrays()[name], array, err_msg=name)
    assert warm.runtime.state.history.hits == pytest.approx(live.runtime.state.history.hits)
    assert warm.runtime.state.history.pulls == live.runtime.state.history.pulls
    for query in set(QUERIES):  # the memory index is warmed with the same observed statistics
        ours, theirs = (sorted(m.runtime.pipeline.resources.memory.explain(query), key=lambda r: r["entity_id"])
                        for m in (warm, live))
        assert [r["entity_id"] for r in ours] == [r["entity_id"] for r in theirs]
        assert [r.get("examined") for r in ours] == pytest.approx([r.get("examined") for r in theirs])
        assert [r.get("clicks") for r in ours] == [r.get("clicks") for r in theirs]


def test_replayed_rounds_count_the_policys_replay_weight(replayed):
    """Refolded with replay weight w, the warm state is the live run's counted w times: ridge sums, the
    leave-out counts and the hit history scale by w; pulls and rewards still count every round."""
    live, warm, _, _ = replayed
    try:
        warm.learning.set_policy(replace(EVERY_ARM, replay_weight=0.4))
        ours, theirs = warm.runtime.state.bandit.arrays(), live.runtime.state.bandit.arrays()
        eye = np.eye(warm.runtime.n_features)
        np.testing.assert_allclose(ours["A"] - eye, 0.4 * (theirs["A"] - eye))
        np.testing.assert_allclose(ours["Xty"], 0.4 * theirs["Xty"])
        stats, live_stats = warm.runtime.state.bandit.stats, live.runtime.state.bandit.stats
        assert stats.shared == pytest.approx({arm: 0.4 * n for arm, n in live_stats.shared.items()})
        assert stats.pulls == live_stats.pulls
        live_pulls = live.runtime.state.history.pulls
        assert warm.runtime.state.history.pulls == pytest.approx({k: 0.4 * n for k, n in live_pulls.items()})
    finally:
        warm.learning.set_policy(EVERY_ARM)
    assert warm.runtime.state.bandit.stats.shared == live.runtime.state.bandit.stats.shared


def test_pages_without_a_positive_event_charge_the_arms_they_exposed_the_default_reward(
        replayed, default_catalog, app_cache_dir, tmp_path):
    """Shown again to new sessions, clicked but without a positive event, the logged pages close like a
    live window without one: each arm they exposed gets the default reward 0, the rounds before stay."""
    _, warm, summary, rows = replayed
    log = tmp_path / "log.csv"
    write_rows(rows + unanswered(rows, 86400.0 * 30), log)
    again = Engine.open("default", Settings(cache_dir=app_cache_dir, db_path=tmp_path / "again.db"), EVERY_ARM,
                        catalog=default_catalog)
    again.logs.import_log(log)
    twice = again.logs.warm_start()
    rounds, before = again.runtime.store.replayed_rounds(), warm.runtime.store.replayed_rounds()
    assert twice.pages == twice.rounds == len(rounds) == 2 * len(QUERIES)
    assert twice.rewarded == summary.rewarded
    assert [r.rewards for r in rounds[:len(QUERIES)]] == [r.rewards for r in before]
    late = rounds[len(QUERIES):]
    assert {reward for r in late for reward in r.rewards.values()} == {0.0}
    pulls, previous = again.runtime.state.bandit.stats.pulls, warm.runtime.state.bandit.stats.pulls
    assert pulls == {arm: previous[arm] + sum(arm in r.rewards for r in late) for arm in previous}
    assert again.runtime.state.bandit.stats.reward == pytest.approx(warm.runtime.state.bandit.stats.reward)


def test_a_page_without_a_positive_event_still_reaches_the_replayed_memory(replayed):
    """The memory replayed against its own past counts a silent page's impressions and clicks."""
    _, warm, _, _ = replayed
    page = warm.runtime.store.logged_pages()[0]
    silent = replace(page, events=tuple(dict.fromkeys((e, "click") for e, _ in page.events)))  # clicks only
    replayer = replayer_of(warm)
    rounds = list(replayer.replay([silent]))
    assert replayer.replayed == 1 and replayer.rewarded == 0
    assert len(rounds) == 1 and set(rounds[0].rewards.values()) == {0.0}
    memory = {r["entity_id"]: r for r in replayer.pipeline.resources.memory.explain(page.query)}
    assert {e for e, _ in page.shown} <= {e for e, r in memory.items() if r.get("examined")}
    assert all(memory[e].get("clicks") == 1 for e, _ in silent.events)


def test_a_replayed_page_grades_only_the_strategies_it_exposed(replayed):
    """A page showing one item grades the strategies that rank it among their best and those that
    retrieved nothing (0); the others learn nothing from it."""
    _, warm, _, _ = replayed
    page = next(p for p in warm.runtime.store.logged_pages() if p.query == "jazz")
    replayer = replayer_of(warm)
    u = replayer.pipeline.understand(page.query)
    context = log_context(page.created_at, page.session)
    candidates = {name: replayer.pipeline.retrieve(name, u, context, replayer.depth) for name in replayer.strategies}
    item = candidates["explore"].ids[0]
    exposed = {name for name, found in candidates.items() if not len(found) or item in found.ids[:EXPOSED_TOP]}
    assert "explore" in exposed != set(replayer.strategies)
    rewards, positive = replayer.rewards(replace(page, shown=((item, 1),), events=((item, "engage"),)), candidates)
    assert positive and {split_arm(arm)[0] for arm in rewards} == exposed
    assert rewards == {arm: float(item in candidates[split_arm(arm)[0]].prefix(split_arm(arm)[1]).ids)
                       for arm in rewards}
    assert rewards["explore@100"] == 1.0


def test_a_deeper_arm_is_graded_only_where_the_page_shows_what_its_extra_depth_adds(replayed):
    _, warm, _, _ = replayed
    rt = warm.runtime
    two_depths = Replayer(Pipeline(rt.pipeline.resources.sandboxed(), rt.strategy_names),
                          PolicyConfig(depths=(25, 100)), rt.n_features, rt.loop.window, rt.store.curve)
    page = next(p for p in warm.runtime.store.logged_pages() if p.query == "love songs")
    u = two_depths.pipeline.understand(page.query)
    candidates = {name: two_depths.pipeline.retrieve(name, u, log_context(page.created_at, page.session), 100)
                  for name in two_depths.strategies}
    found = candidates["lexical"]
    assert len(found) > 40
    top, deep = found.ids[0], found.ids[40]
    shallow_page = replace(page, shown=((top, 1),), events=((top, "engage"),))
    rewards, _ = two_depths.rewards(shallow_page, candidates)
    assert rewards["lexical@25"] == 1.0 and "lexical@100" not in rewards
    deep_page = replace(page, shown=((top, 1), (deep, 2)), events=((deep, "engage"),))
    rewards, _ = two_depths.rewards(deep_page, candidates)
    assert rewards["lexical@25"] == 0.0 and rewards["lexical@100"] == 1.0


def test_imported_clicks_become_training_groups_weighted_by_inverse_examination(replayed):
    _, warm, _, _ = replayed
    warm.runtime.store.save_examination_curve([1.0, 0.8, 0.6, 0.5, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15])
    page = next(p for p in warm.runtime.store.logged_pages() if any(k == "click" for _, k in p.events))
    clicked = {e for e, k in page.events if k == "click"}
    naive = click_group(warm.runtime.pipeline, page, 100, None)
    debiased = click_group(warm.runtime.pipeline, page, 100, warm.runtime.store.curve)
    assert naive.weights is None and np.array_equal(naive.labels, debiased.labels)
    assert len(naive.labels) == len(page.shown)  # the live run showed only what the funnel retrieves
    assert naive.labels.tolist() == [2 if e in clicked else 0 for e, _ in sorted(page.shown, key=lambda s: s[1])]
    curve = warm.runtime.store.curve
    expected = [1.0 / curve(pos) if e in clicked else 1.0 for e, pos in sorted(page.shown, key=lambda s: s[1])]
    assert debiased.weights.tolist() == pytest.approx(expected)


def test_the_warm_start_is_rebuilt_from_the_log_after_a_restart(replayed, default_catalog):  # runs last: it resets
    _, warm, _, _ = replayed
    shutil.rmtree(warm.runtime.state_dir)  # no snapshot: the state is the fold of the replayed rounds
    again = Engine.open("default", warm.runtime.settings, EVERY_ARM, catalog=default_catalog)
    assert again.runtime.state.bandit.stats.pulls == warm.runtime.state.bandit.stats.pulls
    np.testing.assert_allclose(again.runtime.state.bandit.arrays()["beta"], warm.runtime.state.bandit.arrays()["beta"])
    assert again.learning.reset_learning()["replayed_rounds"] == len(QUERIES)
    assert again.runtime.state.bandit.stats.pulls == {} and again.runtime.store.logged_pages() == []
