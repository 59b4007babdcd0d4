"""Catalog & settings: pick the catalog source, see what it holds, choose the embedding model,
backend and dense index (saved), tune the bandit (saved), reset learning."""

import hashlib
import json
from pathlib import Path

import pandas as pd
import streamlit as st

from ltrr_core.studio import env_settings, save_settings
from ltrr_core.vocabulary import ENCODER_BACKENDS, DENSE_INDEXES, ENTITY_FIELDS, POLICIES, REQUIRED_FIELDS
from ui import charts, jobs
from ui.resources import DEFAULT_SOURCE, active_source, choose_source, open_catalog, settings, studio

SOURCE_KINDS = {
    "default": "Default demo catalog (music, podcasts, playlists)",
    "csv": "CSV file with a column mapping",
    "beir": "BEIR folder (corpus.jsonl + queries + qrels)",
    "spotify": "Spotify songs CSV (.csv or .csv.gz)",
}
MAPPABLE_FIELDS = tuple(f for f in ENTITY_FIELDS if f != "related")
OPEN_JOB = "open_catalog_job"

st.title("Catalog & settings")
faces = studio()
learning = faces.learning

# ------------------------------------------------------------------ source
st.subheader("Catalog source")
pinned = env_settings()
st.caption(f"Active source: `{active_source()}` (kept for new tabs and restarts)")
if pinned.get("source", active_source()) != active_source():
    st.warning(f"LTRR_SOURCE={pinned['source']} is set: new tabs and restarts open that catalog until it is unset.")
kind = st.radio("Source type", list(SOURCE_KINDS), format_func=SOURCE_KINDS.get, horizontal=True, key="source_kind")


def csv_source() -> str | None:
    """The CSV path + mapping editor; returns ``csv:DATA#MAPPING.json``, or None after showing what is wrong."""
    path = st.text_input("CSV path", key="csv_path", placeholder="/path/to/catalog.csv")
    if not path.strip():
        st.info("Type the path of a CSV file on this machine.")
        return None
    if not Path(path).is_file():
        st.error(f"CSV path: {path} is not a file; check the path.")
        return None
    try:
        preview = pd.read_csv(path, nrows=20, dtype=str, keep_default_na=False)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        st.error(f"{path}: cannot be read as CSV ({exc}); save it as UTF-8 comma-separated text.")
        return None
    st.dataframe(preview.head(5), key="csv_preview", hide_index=True)
    columns = [str(c) for c in preview.columns]
    st.caption(
        "Map each entity field to a CSV column, or type a constant (e.g. type = `track`). "
        f"Required: {', '.join(REQUIRED_FIELDS)}. Genres/moods cells are `;`-separated."
    )
    mapping = st.data_editor(
        pd.DataFrame(
            {
                "entity field": MAPPABLE_FIELDS,
                "CSV column": [next((c for c in columns if c.lower() == f), "") for f in MAPPABLE_FIELDS],
                "or constant": [""] * len(MAPPABLE_FIELDS),
            }
        ),
        column_config={
            "entity field": st.column_config.TextColumn(disabled=True),
            "CSV column": st.column_config.SelectboxColumn(options=[""] + columns),
            "or constant": st.column_config.TextColumn(),
        },
        hide_index=True,
        key="csv_mapping",
    )
    scale = st.number_input("popularity scale (100 for 0-100 scores)", min_value=0.001, value=1.0, key="csv_popularity_scale")
    spec: dict = {"popularity_scale": float(scale)}
    for _, row in mapping.iterrows():
        column, constant = (row["CSV column"] or "").strip(), (row["or constant"] or "").strip()
        if column and constant:
            st.error(f"Column mapping, field {row['entity field']!r}: choose a column or a constant, not both.")
            return None
        if column or constant:
            spec[row["entity field"]] = column or {"const": constant}
    missing = [f for f in REQUIRED_FIELDS if f not in spec]
    if missing:
        st.error(f"Column mapping: map the required field(s) {', '.join(missing)} to a CSV column or a constant.")
        return None
    return f"csv:{path}#{save_mapping(spec)}"


def save_mapping(spec: dict) -> Path:
    """Persist the mapping as JSON under the cache dir (content-addressed) so the source string reproduces it."""
    text = json.dumps(spec, sort_keys=True, indent=1)
    folder = settings().cache_dir / "csv_mappings"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"mapping-{hashlib.sha256(text.encode()).hexdigest()[:12]}.json"
    path.write_text(text, encoding="utf-8")
    return path.resolve()


def path_source(prefix: str, label: str, placeholder: str) -> str | None:
    path = st.text_input(label, key=f"{prefix}_path", placeholder=placeholder)
    if not path.strip():
        st.info(f"Type the {label.lower()}.")
        return None
    if not Path(path).exists():
        st.error(f"{label}: {path} does not exist; check the path.")
        return None
    return f"{prefix}:{path}"


def default_source() -> str:
    """``default``, or ``default:N`` (the generator scaled to about N entities, same hard cases)."""
    size = st.text_input("Size in entities (empty: the built-in ~24k catalog)", key="default_size",
                         placeholder="e.g. 100000 or 1m")
    return f"default:{size.strip()}" if size.strip() else DEFAULT_SOURCE


SOURCE_INPUTS = {
    "default": default_source,
    "csv": csv_source,
    "beir": lambda: path_source("beir", "BEIR folder", "/path/to/scifact"),
    "spotify": lambda: path_source("spotify", "Spotify CSV path", "/path/to/spotify_songs.csv.gz"),
}
candidate = SOURCE_INPUTS[kind]()
if st.button("Use this catalog", key="apply_source", disabled=candidate is None, type="primary"):
    open_catalog(OPEN_JOB, candidate)  # a job: the pages keep serving the current catalog meanwhile
jobs.follow(OPEN_JOB, into="opened_catalog")
opened = st.session_state.pop("opened_catalog", None)
if opened is not None:
    choose_source(opened)  # this session's, and saved: a new tab or a restart opens it too
    st.rerun()

# ------------------------------------------------------------------ contents
st.subheader("What the catalog holds")
summary = faces.catalog.summary()
counts = pd.DataFrame(list(summary["by_type"].items()), columns=["type", "entities"])
left, right = st.columns([1, 2])
left.metric("Entities", f"{summary['entities']:,}")
left.table(counts.set_index("type"))
right.plotly_chart(
    charts.bar(counts, "type", "entities", "Entities by type", "entity type", "entities"), key="counts_chart"
)

# ------------------------------------------------------------------ storage / model
st.subheader("Embedding model and storage")
current = settings()
semantic = faces.search.semantic_status()
st.table(
    pd.DataFrame(
        {
            "setting": ["embedding model", "backend", "dense index", "semantic index", "cache dir", "feedback DB",
                        "saved settings"],
            "value": [current.model, current.backend, current.dense_index,
                      semantic.phase + (f": {semantic.label} ({semantic.fraction:.0%})"
                                        if semantic.phase == "warming" else ""),
                      str(current.cache_dir.resolve()), str(current.db_path.resolve()),
                      str(current.settings_file.resolve())],
        }
    ).set_index("setting")
)
with st.form("settings_form"):
    st.caption("Saved beside the feedback database and used on every start. A new backend or model embeds the "
               "catalog once (in the background: search keeps working meanwhile).")
    cols = st.columns(3)
    model = cols[0].text_input("Embedding model", current.model, key="setting_model",
                               help="bundled:all-MiniLM-L6-v2, or a local sentence-transformers folder")
    backend = cols[1].selectbox("Backend", ENCODER_BACKENDS, index=ENCODER_BACKENDS.index(current.backend),
                                key="setting_backend", help="torch fp32, or the same weights on ONNX Runtime (fp32, or int8 quantized)")
    dense = cols[2].selectbox("Dense index", DENSE_INDEXES, index=DENSE_INDEXES.index(current.dense_index),
                              key="setting_dense_index", help="auto: exact below the size threshold, IVF above; flat: exact; hnsw, ivf: approximate")
    if st.form_submit_button("Save settings", key="save_settings"):
        try:
            saved = save_settings(current, model=model.strip(), backend=backend, dense_index=dense)
        except ValueError as exc:
            st.error(f"Settings: {exc}")
        else:
            shadowed = [f"{k} (LTRR_{k.upper()}={v})" for k, v in pinned.items()
                        if k in ("model", "backend", "dense_index") and getattr(saved, k) != v]
            if shadowed:
                st.warning("Saved, but the environment overrides " + ", ".join(shadowed) + " until it is unset.")
            else:
                st.session_state["settings_saved"] = True
                st.rerun()
if st.session_state.pop("settings_saved", False):
    st.success(f"Settings saved: model {current.model}, backend {current.backend}, dense index {current.dense_index}.")
report = st.session_state.get("load_report", {}).get(active_source())
if report:
    st.caption("Load report (seconds): " + ", ".join(f"{k} {v:.2f}" for k, v in report.items()))

# ------------------------------------------------------------------ bandit policy
st.subheader("Bandit policy")
st.caption("Applies to the shared engine, i.e. to every open session.")
policy_names = learning.policy_names()
now = learning.policy
with st.form("policy_form"):
    name = st.selectbox(
        "Policy", policy_names, index=policy_names.index(now.name) if now.name in policy_names else 0, key="policy_name",
        help="\n".join(f"- **{k}**: {v}" for k, v in POLICIES.items()),
    )
    cols = st.columns(4)
    alpha = cols[0].number_input("alpha (exploration width)", 0.0, 10.0, float(now.alpha), 0.1, key="policy_alpha")
    epsilon = cols[1].number_input("epsilon (random subset rate)", 0.0, 1.0, float(now.epsilon), 0.01, key="policy_epsilon")
    max_arms = cols[2].number_input("max arms per search", 1, len(faces.strategies), int(now.max_arms), 1, key="policy_max_arms")
    replay_weight = cols[3].number_input(
        "replayed round weight", 0.05, 1.0, float(now.replay_weight), 0.05, key="policy_replay_weight",
        help="What a round replayed from an imported log counts in the bandit, a live round counting 1 "
             "(Logs & position bias: warm-start the bandit by replay).")
    if st.form_submit_button("Apply policy", key="apply_policy"):
        try:
            learning.tune_policy(name=name, alpha=float(alpha), epsilon=float(epsilon), max_arms=int(max_arms),
                                 replay_weight=float(replay_weight))  # every field not shown keeps its value
            st.success(f"Policy set to {name} (alpha={alpha}, epsilon={epsilon}, max arms={max_arms}, "
                       f"replayed round weight={replay_weight}).")
        except ValueError as exc:
            st.error(f"Policy: {exc}")
st.dataframe(learning.arm_stats(), key="arm_stats", hide_index=True)

# ------------------------------------------------------------------ reset
st.subheader("Reset learning state")
st.caption("Forgets the bandit, the query memory and the search/feedback logs. Labels are kept.")
confirm = st.checkbox("Yes, I want to forget everything the engine learned", key="confirm_reset")
if st.button("Reset learning", key="reset_learning", disabled=not confirm):
    learning.reset_learning()
    st.success("Learning state reset.")
