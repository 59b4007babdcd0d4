"""The Catalog & settings page saves the model, backend and dense index (a JSON file beside the
database) and the bandit policy; a restart (fresh caches, new engine) shows and uses them. Another
catalog opens in a job, then the session switches to it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from ltrr_core.catalog.demo import to_jsonl_gz
from ltrr_core.services.jobs import job_runner

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 300


@pytest.fixture()
def app_env(app_cache_dir, default_catalog, tmp_path, monkeypatch):
    """The app on a 60-entity catalog (cheap to embed with a new backend) and its own database."""
    catalog = tmp_path / "small.jsonl.gz"
    catalog.write_bytes(to_jsonl_gz(list(default_catalog)[:60]))
    db = tmp_path / "feedback.db"
    monkeypatch.setenv("LTRR_CACHE_DIR", str(app_cache_dir))
    monkeypatch.setenv("LTRR_DB_PATH", str(db))
    for name in ("LTRR_MODEL", "LTRR_BACKEND", "LTRR_DENSE_INDEX", "LTRR_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    return f"jsonl:{catalog}", db


def catalog_page(source: str) -> AppTest:
    """A new session (after clearing every cached engine: what a restart sees) on the settings page."""
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["active_source"] = source
    at.run()
    at.switch_page("pages/catalog.py").run()
    assert not at.exception, at.exception
    return at


def shown(at: AppTest) -> dict[str, str]:
    for element in at.table:
        frame = element.value
        if "value" in frame.columns and "backend" in frame.index:
            return frame["value"].to_dict()
    raise AssertionError("no settings table on the page")


@pytest.mark.slow
def test_model_backend_dense_index_and_policy_survive_a_restart(app_env):
    source, db = app_env
    at = catalog_page(source)
    assert shown(at)["backend"] == "onnx" and shown(at)["dense index"] == "auto"
    at.selectbox(key="setting_backend").set_value("onnx-int8")
    at.selectbox(key="setting_dense_index").set_value("hnsw")
    at.button(key="save_settings").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    saved = json.loads(db.with_name("feedback.db.settings.json").read_text(encoding="utf-8"))
    assert saved == {"model": "bundled:all-MiniLM-L6-v2", "backend": "onnx-int8", "dense_index": "hnsw"}
    assert shown(at)["backend"] == "onnx-int8"  # the page shows what it changed, at once
    at.selectbox(key="policy_name").set_value("lints")
    at.number_input(key="policy_replay_weight").set_value(0.3)
    at.button(key="apply_policy").click().run()
    assert not at.exception

    again = catalog_page(source)
    assert shown(again)["backend"] == "onnx-int8" and shown(again)["dense index"] == "hnsw"
    assert again.selectbox(key="setting_backend").value == "onnx-int8"
    assert again.selectbox(key="setting_dense_index").value == "hnsw"
    assert again.selectbox(key="policy_name").value == "lints"
    assert again.number_input(key="policy_replay_weight").value == pytest.approx(0.3)


def test_a_model_folder_that_does_not_exist_is_a_message_and_nothing_is_saved(app_env, tmp_path):
    source, db = app_env
    at = catalog_page(source)
    at.text_input(key="setting_model").set_value(str(tmp_path / "no-such-model"))
    at.button(key="save_settings").click().run()
    assert not at.exception
    assert any("is not a folder" in e.value for e in at.error)
    assert not db.with_name("feedback.db.settings.json").exists()


def test_applying_a_policy_keeps_every_field_the_page_does_not_show(app_env, app_cache_dir):
    from ltrr_core.base.config import Settings
    from ltrr_core.selection.bandit import PolicyConfig
    from ltrr_core.studio import Studio

    source, db = app_env
    hidden = dict(l2_lambda=2.5, cut=0.1, depth_cost=0.002, depths=(10, 50), seed=11)
    Studio.open(source, Settings.from_env()).learning.set_policy(PolicyConfig(name="linucb", **hidden))
    at = catalog_page(source)
    at.selectbox(key="policy_name").set_value("lints")
    at.number_input(key="policy_alpha").set_value(0.9)
    at.button(key="apply_policy").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    st.cache_resource.clear()
    policy = Studio.open(source, Settings.from_env()).learning.policy  # what a restart reads back
    assert (policy.name, policy.alpha) == ("lints", 0.9)
    assert {name: getattr(policy, name) for name in hidden} == hidden


def test_use_this_catalog_opens_it_in_a_job_then_switches_the_session(app_env, default_catalog, tmp_path):
    source, _ = app_env
    small = tmp_path / "small.csv"
    with small.open("w", newline="", encoding="utf-8") as fh:  # its columns map to the entity fields by name
        csv.writer(fh).writerows([("id", "type", "title"), *((e.id, e.type, e.title) for e in list(default_catalog)[:40])])
    at = catalog_page(source)
    at.radio(key="source_kind").set_value("csv").run()
    at.text_input(key="csv_path").set_value(str(small)).run()
    at.button(key="apply_source").click().run()
    assert not at.exception, at.exception
    assert at.session_state["active_source"] == source  # the page serves the current catalog while the job runs
    assert job_runner().wait(at.session_state["open_catalog_job"], TIMEOUT).status == "done"
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    chosen = at.session_state["active_source"]
    assert chosen.startswith(f"csv:{small}#")
    assert at.metric[0].value == "40"
    st.cache_resource.clear()  # a restart, then a new tab: both open the chosen catalog, named in the sidebar
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not fresh.exception, fresh.exception
    assert fresh.session_state["active_source"] == chosen
    assert f"Catalog: `{chosen}` · 40 entities" in [c.value for c in fresh.sidebar.caption]
