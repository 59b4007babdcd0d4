"""Live learning: run seeded simulated traffic through the engine and watch the bandit learn, live."""

import streamlit as st

from ui import charts
from ui.resources import studio, warming_banner
from ui.sim_runner import (
    DEFAULT_MIX,
    INTENT_KINDS,
    SimulationConfig,
    SimulationRunner,
)

RUNNER = "sim_runner"
MAX_ROUNDS = 20_000
REDRAW_S = 0.5
SCENARIOS = {
    "Topics & descriptions": dict(
        mix={"semantic": 0.7, "broad": 0.3},
        caption="Topic and description queries (\"podcast about making bread\"): watch the **semantic** strategy's "
        "running reward climb and the bandit pick it more and more.",
    ),
    "Typo'd names": dict(
        mix={"spearfish": 1.0},
        caption="Artist and title look-ups, some misspelled: **structured** (fuzzy names) and, as clicks pile up, "
        "**memory** earn their keep; regret flattens once the bandit knows.",
    ),
    "Fresh releases": dict(
        mix={"fresh": 0.6, "spearfish": 0.4},
        caption="New releases nobody has played yet: popularity-driven strategies miss them, only **explore** "
        "surfaces them — watch its reward appear.",
    ),
    "Traffic shift": dict(
        mix={"spearfish": 0.9, "broad": 0.1},
        mix_after={"semantic": 0.8, "broad": 0.2},
        caption="Half way through (the dashed line), traffic switches from name look-ups to topic queries. Before "
        "it, regret stays nearly flat: on name look-ups the bandit's picks find the target about as often as "
        "running every strategy. After it, every strategy's running reward falls, **semantic**'s least, so it "
        "climbs the ranking; regret turns upward and keeps rising at a steady slope (it did not flatten in our "
        "runs of up to 1,000 rounds): on topic queries running every strategy still finds targets the bandit's "
        "picks miss.",
    ),
}


st.title("Live learning")
st.caption(
    "Simulated users (profiles, intents with known targets, a noisy click and engagement model) search a sandbox of "
    "the engine: each run has its own database and learning state, so live learning is never touched."
)
faces = studio()
warming_banner(faces.search)  # a run waits for the semantic index: say so, and how far along it is
runner: SimulationRunner | None = st.session_state.get(RUNNER)


def apply_scenario(name: str) -> None:
    """Load a preset into the settings widgets (new widget keys, so the preset values show) and start."""
    scenario = SCENARIOS[name]
    st.session_state["mix_preset"] = scenario["mix"]
    st.session_state["mix_after_preset"] = scenario.get("mix_after")
    st.session_state["mix_version"] = st.session_state.get("mix_version", 0) + 1
    st.session_state["scenario"] = name
    st.session_state["start_requested"] = True


version = st.session_state.get("mix_version", 0)
preset, preset_after = st.session_state.get("mix_preset", DEFAULT_MIX), st.session_state.get("mix_after_preset")


def mix_from(prefix: str) -> dict[str, float]:
    return {kind: float(st.session_state.get(f"{prefix}_{kind}_v{version}", 0.0)) for kind in INTENT_KINDS}


# ------------------------------------------------------------------ scenarios
st.subheader("Demo scenarios")
cols = st.columns(len(SCENARIOS))
for i, name in enumerate(SCENARIOS):
    cols[i].button(name, key=f"scenario_{i}", on_click=apply_scenario, args=(name,), width="stretch")
if st.session_state.get("scenario"):
    st.info(f"**{st.session_state['scenario']}** — {SCENARIOS[st.session_state['scenario']]['caption']}")

# ------------------------------------------------------------------ configuration
with st.expander("Simulation settings", expanded=runner is None):
    top = st.columns(3)
    rounds = top[0].number_input("Rounds per policy", min_value=1, max_value=MAX_ROUNDS, value=300, step=50, key="sim_rounds")
    seed = top[1].number_input("Seed", min_value=0, max_value=2**31 - 1, value=7, step=1, key="sim_seed")
    policy_options = faces.learning.policy_names()
    policies = top[2].multiselect("Policies (several = compare mode)", policy_options, default=["linucb"], key="sim_policies")
    st.caption("Traffic mix (relative weights): " + ", ".join(f"**{k}**" for k in INTENT_KINDS))
    mix_cols = st.columns(len(INTENT_KINDS))
    for col, kind in zip(mix_cols, INTENT_KINDS):
        col.slider(kind, 0.0, 1.0, float(preset.get(kind, 0.0)), 0.05, key=f"mix_{kind}_v{version}")
    shift = st.toggle("Shift the traffic mix half way", value=preset_after is not None, key=f"sim_shift_v{version}")
    if shift:
        after_cols = st.columns(len(INTENT_KINDS))
        for col, kind in zip(after_cols, INTENT_KINDS):
            col.slider(f"{kind} (after)", 0.0, 1.0, float((preset_after or {}).get(kind, 0.0)), 0.05,
                       key=f"mix_after_{kind}_v{version}")


def build_configs() -> dict[str, SimulationConfig] | None:
    """The run configs from the widgets, or None after showing what is wrong."""
    if not policies:
        st.error("Policies: pick at least one policy to simulate.")
        return None
    if rounds < 10:
        st.error(f"Rounds: {rounds} is too few to learn anything; use at least 10.")
        return None
    try:
        return {
            policy: SimulationConfig(
                rounds=int(rounds), seed=int(seed), policy=policy, mix=mix_from("mix"),
                mix_after=mix_from("mix_after") if shift else None, shift_at=int(rounds) // 2 if shift else None,
            )
            for policy in policies
        }
    except ValueError as exc:
        st.error(f"Simulation settings: {exc}")
        return None


def start() -> None:
    configs = build_configs()
    if configs is None:
        return
    if runner is not None:
        runner.stop()
    st.session_state[RUNNER] = SimulationRunner(  # each run gets its own database, queued behind another session's run
        lambda config: faces.simulation.new_run(config, name=f"app-{config.run_name}"), configs, faces.search,
        name=f"Live learning: {', '.join(configs)}", record=faces.reports.record_runs).start()
    st.session_state["sim_timer"] = True
    st.rerun()


# ------------------------------------------------------------------ controls
buttons = st.columns(4)
if buttons[0].button("Start", key="sim_start", type="primary") or st.session_state.pop(
    "start_requested", False
):
    start()
snap = runner.snapshot() if runner else None
if runner is not None and snap.status in ("running", "paused"):
    label = "Pause" if snap.status == "running" else "Resume"
    if buttons[1].button(label, key="sim_pause"):
        (runner.pause if snap.status == "running" else runner.resume)()
        st.session_state["sim_timer"] = snap.status != "running"
        st.rerun()
if buttons[2].button("Reset", key="sim_reset", disabled=runner is None):
    runner.stop()
    st.session_state.pop(RUNNER, None)
    st.session_state.pop("scenario", None)
    st.session_state["sim_timer"] = False
    st.rerun()
log_x = buttons[3].toggle("log-x regret", key="sim_log_x")


# ------------------------------------------------------------------ live charts
@st.fragment(run_every=REDRAW_S if st.session_state.get("sim_timer") else None)
def live_panel() -> None:
    current: SimulationRunner | None = st.session_state.get(RUNNER)
    if current is None:
        st.info("Pick a demo scenario or set up a run and press **Start**.")
        return
    snap = current.snapshot()
    st.progress(
        min(snap.fraction, 1.0),
        text=f"{snap.status}: {snap.done_rounds:,} / {snap.total_rounds:,} rounds"
        + (f" · now {snap.current}" if snap.status == "running" else "")
        + (f" · {snap.done_rounds / snap.elapsed_s:.0f} searches/s" if snap.elapsed_s > 0 else ""),
    )
    if snap.waiting_for:
        st.info(f"The simulation waits for {snap.waiting_for}.", icon=":material/hourglass_top:")
    if snap.error:
        st.error(f"The simulation stopped: {snap.error}")
    if not snap.history.empty:
        shown = snap.current if snap.current in set(snap.history["run"]) else snap.history["run"].iloc[-1]
        shift_at = next((c.shift_at for c in current.configs.values() if c.shift_at is not None), None)
        figures = charts.simulation_figures(snap.history, shown, snap.summaries[shown],
                                            log_x=st.session_state.get("sim_log_x", False), shift_at=shift_at)
        left, right = st.columns(2)
        left.plotly_chart(figures["rewards"], key="chart_rewards")
        right.plotly_chart(figures["pulls"], key="chart_pulls")
        left.plotly_chart(figures["regret"], key="chart_regret")
        right.plotly_chart(figures["hit_rate"], key="chart_hit_rate")
        st.plotly_chart(figures["candidates"], key="chart_candidates")
        st.table(charts.summary_table(snap.summaries))
    if snap.status not in ("queued", "running") and st.session_state.get("sim_timer"):
        st.session_state["sim_timer"] = False  # stop polling once the run ends
        st.rerun()


live_panel()


# ------------------------------------------------------------------ finished sweeps
st.subheader("Finished sweeps")
saved_sweeps = faces.learning.saved_sweeps()
if not saved_sweeps:
    st.caption("Compare policies over many seeds with `ltrr sweep --policies linucb,lints,random --seeds 1-8 "
               "--rounds 300` (add `--backend ray` for a Ray cluster); a finished sweep shows here.")
else:
    chosen_sweep = st.selectbox("Sweep", saved_sweeps, key="sweep_name")
    try:
        sweep = faces.learning.load_sweep(chosen_sweep)
    except ValueError as exc:
        st.error(str(exc))
    else:
        st.plotly_chart(charts.bands(charts.sweep_curves(sweep), "round", "mean", "low", "high", "policy",
                                     f"Cumulative regret: mean and {sweep.level:.0%} interval over seeds", "round",
                                     "cumulative regret"), key="chart_sweep")
        st.dataframe(charts.sweep_table(sweep), hide_index=True, key="sweep_table")
        st.caption(f"{len(sweep.seeds)} seeds x {sweep.rounds} rounds per policy on `{sweep.source}`, "
                   f"{sweep.backend} backend with {sweep.workers} workers, {sweep.seconds:.0f} s.")


# ------------------------------------------------------------------ the engine's own learning
st.subheader("This engine's learning")
st.caption("Every search you (or a simulated user on the Search page) made, once its reward window closed: the "
           "strategies that found an engaged, thumbed-up or well-labelled result earn 1, the others 0; a search left "
           "without one is a miss for every picked arm.")
learned = faces.learning.learning_history()
counts = st.columns(4)
counts[0].metric("settled searches", len(learned))
counts[1].metric("rewarded", int(learned["rewarded"].sum()) if len(learned) else 0)
counts[2].metric("misses", int((~learned["rewarded"]).sum()) if len(learned) else 0)
counts[3].metric("reward windows open", len(faces.search.open_searches))
if len(learned):
    left, right = st.columns(2)
    left.plotly_chart(charts.lines(charts.strategy_rewards(learned), "round", "reward", "strategy",
                                   "Running reward per strategy (this engine)", "settled search", "mean reward when picked"),
                      key="engine_rewards")
    right.plotly_chart(charts.bar(charts.arm_pulls(learned), "arm", "pulls", "Pulls per arm (this engine)",
                                  "arm (strategy@depth)", "times picked", color_by="arm"), key="engine_pulls")
st.dataframe(faces.learning.arm_stats(), key="engine_arm_stats", hide_index=True)
