"""Logged bandit data from another system, in Open Bandit Pipeline's shape: the README example and `ltrr ope --obp`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from ltrr_core import cli
from ltrr_core.evaluation.ope import OffPolicyEvaluation, load_feedback

README = Path(__file__).resolve().parents[2] / "README.md"


def _example() -> str:
    text = README.read_text()
    return re.search(r"<!-- ope-example -->\n```python\n(.*?)```", text, re.DOTALL).group(1)


def test_the_readme_example_grades_the_policy_and_the_cli_reads_its_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(_example(), "README.md", "exec"), namespace)
    values = namespace["ope"].estimate_policy_values(namespace["action_dist"])
    for name, value in values.items():
        assert value == pytest.approx(0.6, abs=0.05), name
    capsys.readouterr()
    assert cli.main(["ope", "--obp", "logged.npz", "--bootstrap", "50", "--json"]) in (0, None)
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 5_000 and set(out["estimates"]) == set(values)
    for name, row in out["estimates"].items():
        assert row["ci_low"] <= 0.6 <= row["ci_high"], name


def test_slates_take_a_position_and_the_model_is_shared_by_slots():
    rng = np.random.default_rng(1)
    n, n_actions, slots = 3_000, 4, 2
    position = rng.integers(slots, size=n)
    action = rng.integers(n_actions, size=n)
    reward = (rng.random(n) < 0.1 + 0.2 * action / n_actions).astype(float)
    dist = np.zeros((n, n_actions, slots))
    dist[:, 3, :] = 1.0  # always action 3, in either slot
    feedback = {"n_rounds": n, "n_actions": n_actions, "action": action, "reward": reward, "position": position,
                "pscore": np.full(n, 1 / n_actions), "context": rng.normal(size=(n, 2))}
    values = OffPolicyEvaluation(feedback).estimate_policy_values(dist)
    for name, value in values.items():
        assert value == pytest.approx(0.25, abs=0.05), name


def test_bad_logged_data_names_what_is_missing(tmp_path):
    np.savez(tmp_path / "bad.npz", action=np.array([0, 1]), reward=np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="no array 'pscore'"):
        load_feedback(str(tmp_path / "bad.npz"))
    with pytest.raises(ValueError, match="bandit_feedback lacks 'pscore'"):
        OffPolicyEvaluation({"n_rounds": 2, "n_actions": 2, "action": np.array([0, 1]), "reward": np.zeros(2)})
    with pytest.raises(ValueError, match=r"bandit_feedback\['reward'\] has 1 rows but n_rounds = 2"):
        OffPolicyEvaluation({"n_rounds": 2, "n_actions": 2, "action": np.array([0, 1]), "reward": np.zeros(1),
                             "pscore": np.full(2, 0.5)})
