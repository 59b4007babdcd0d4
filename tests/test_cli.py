"""The `ltrr` command line: JSON output and one-line errors for user mistakes."""

from __future__ import annotations

import argparse
import json

import pytest

from ltrr_core.cli import build_parser, main
from ltrr_core.feedback.store.feedback_store import FeedbackStore


@pytest.fixture()
def env(monkeypatch, app_cache_dir, tmp_path):
    monkeypatch.setenv("LTRR_CACHE_DIR", str(app_cache_dir))
    monkeypatch.setenv("LTRR_DB_PATH", str(tmp_path / "cli.db"))
    return tmp_path


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_catalog_json_reports_counts(capsys):
    code, out, _ = run(capsys, "catalog", "--source", "default", "--json")
    payload = json.loads(out)
    assert code == 0 and payload["entities"] >= 20_000 and len(payload["by_type"]) >= 6
    assert {"id", "type", "title", "genres", "related"} <= set(payload["fields"])


@pytest.mark.parametrize("source,needle", [
    ("csv:/no/such/file.csv", "file.csv"), ("nonsense:abc", "unknown catalog source"), ("spotify:/nope.csv.gz", "nope"),
])
def test_bad_sources_give_one_line_errors(capsys, source, needle):
    code, out, err = run(capsys, "catalog", "--source", source, "--json")
    assert code == 2 and out == "" and needle in err and "Traceback" not in err


def test_search_json_and_queries_file(capsys, env):
    code, out, _ = run(capsys, "search", "love", "--k", "5", "--json")
    payload = json.loads(out)
    assert code == 0 and len(payload["results"]) == 5
    assert {"id", "type", "title", "creator", "score", "found_by"} <= set(payload["results"][0])
    assert all({"name", "n_candidates", "ms"} <= set(s) for s in payload["trace"]["strategies"])
    queries = env / "queries.txt"
    queries.write_text("jazz\n\n80s rock\n", encoding="utf-8")
    code, out, _ = run(capsys, "search", "--queries-file", str(queries), "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [p["query"] for p in lines] == ["jazz", "", "80s rock"] and lines[1]["results"] == []


def test_labels_import_export_round_trip(capsys, env):
    src = env / "labels.csv"
    src.write_text('query,docid,rating\n"love, actually",trk_00001,3\njazz,trk_00002,1\n', encoding="utf-8")
    code, out, _ = run(capsys, "labels", "import", str(src), "--json")
    assert code == 0 and json.loads(out)["imported"] == 2
    dst = env / "out.csv"
    code, out, _ = run(capsys, "labels", "export", str(dst), "--format", "csv", "--json")
    assert code == 0 and json.loads(out)["exported"] == 2
    assert sorted(dst.read_text(encoding="utf-8").splitlines()[1:]) == sorted(src.read_text(encoding="utf-8").splitlines()[1:])


def test_malformed_label_file_names_the_line(capsys, env):
    bad = env / "bad.csv"
    bad.write_text("query,docid,rating\njazz,trk_1,2\nrock,trk_2,seven\n", encoding="utf-8")
    code, _, err = run(capsys, "labels", "import", str(bad))
    assert code == 2 and "line 3" in err and "Traceback" not in err


def test_corrupt_database_is_reported_and_left_untouched(capsys, env, monkeypatch):
    corrupt = env / "corrupt.db"
    corrupt.write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("LTRR_DB_PATH", str(corrupt))
    code, out, err = run(capsys, "search", "love", "--json")
    assert code == 2 and out == "" and "corrupt.db" in err and "Traceback" not in err
    assert corrupt.read_bytes() == b"this is not a database" * 100


def test_interleave_json_on_simulated_users_leaves_the_live_log_alone(capsys, env):
    code, out, err = run(capsys, "interleave", "--configs", "good=lexical:100+structured:100/rrf,bad=lexical:100/rrf",
                         "--rounds", "30", "--seed", "1", "--json")
    payload = json.loads(out)
    assert code == 0 and payload["searches"] <= 30 and payload["method"] == "team_draft"
    pair = payload["pairs"][0]
    assert (pair["a"], pair["b"]) == ("good", "bad") and pair["wins"] + pair["losses"] + pair["ties"] == payload["impressions"]
    assert "simulations" in payload["database"]
    with FeedbackStore(env / "cli.db") as live:
        assert live.counts()["searches"] == 0


def test_interleave_names_a_bad_configuration(capsys):
    code, out, err = run(capsys, "interleave", "--configs", "lexical/rrf,lexcal/rrf", "--json")
    assert code == 2 and out == "" and "'lexcal'" in err and "Traceback" not in err


def test_help_of_every_command_renders():
    """A '%' in a help text is argparse's format character: `ltrr --help` once crashed on one."""
    def helps(parser):
        yield parser.format_help()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    yield from helps(sub)

    texts = list(helps(build_parser()))
    assert len(texts) > 15 and "95% interval" in texts[0]


def test_commands_over_the_faces_on_a_fresh_database(capsys, env):
    code, out, _ = run(capsys, "experiments", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, err = run(capsys, "ope", "--target", "random", "--json")
    assert code == 2 and out == "" and "Traceback" not in err  # nothing logged yet: one line, no estimate
    code, out, _ = run(capsys, "train", "--json")
    decision = json.loads(out)
    assert code == 0 and decision["accepted"] is False and decision["previous_ranker"] == "interleave"
    assert decision["reason"]
    code, out, _ = run(capsys, "reset", "--json")
    assert code == 0 and set(json.loads(out)["deleted"]) >= {"searches"}
    code, _, err = run(capsys, "logs", "warm-start", "--json")
    assert code == 2 and "import a log first" in err


# -- ltrr report: one HTML file from a stored run; one-line errors (exit 2) for a missing one --
@pytest.mark.slow
def test_report_on_a_simulated_run_writes_one_html_file(capsys, env):
    code, out, _ = run(capsys, "simulate", "--rounds", "15", "--seed", "2", "--json")
    summary = json.loads(out)
    assert code == 0
    html_file = env / "report.html"
    code, out, err = run(capsys, "report", "--db", summary["database"], "--out", str(html_file), "--json")
    printed = json.loads(out)
    assert code == 0 and printed["file"] == str(html_file), err
    assert printed["sentences"][0].startswith(f"The bandit (linucb) found the wanted item in "
                                              f"{100 * summary['hit_rate']:.1f}% of searches; some strategy at full "
                                              f"depth could have found it in {100 * summary['oracle_hit_rate']:.1f}%")
    page = html_file.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count('class="plotly-graph-div"') == 3


@pytest.mark.parametrize("argv, needle", [
    (("--db", "nowhere/run.db"), "no such database"),
    (("--sweep", "nope"), "sweep 'nope'"),
    (("--experiment", "41"), "experiment 41"),
    (("--interleaving", "nope"), "nope"),
    (("--sweep", "a", "--interleaving", "b"), "report on one thing"),
])
def test_a_missing_run_is_one_line_and_exit_2(capsys, env, argv, needle):
    out_file = env / "r.html"
    code, out, err = run(capsys, "report", *argv, "--out", str(out_file), "--json")
    assert code == 2 and out == "" and needle in err and "Traceback" not in err, err
    assert not out_file.exists()


def test_report_without_a_subject_is_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("LTRR_DB_PATH", raising=False)
    code, _, err = run(capsys, "report", "--out", str(tmp_path / "r.html"))
    assert code == 2 and "report on one thing" in err


@pytest.mark.slow
def test_report_on_an_experiment_snapshot_quotes_its_table(capsys, env):
    code, out, _ = run(capsys, "experiment", "--queries", "sim:12", "--json")
    experiment = json.loads(out)
    assert code == 0
    code, out, err = run(capsys, "report", "--experiment", str(experiment["snapshot"]), "--out",
                         str(env / "e.html"), "--json")
    assert code == 0, err
    rows = experiment["configurations"]
    best = max(rows, key=lambda name: rows[name]["ndcg@10"])
    lead = json.loads(out)["sentences"][0]
    assert lead == (f"On {experiment['queries']} judged queries, {best} ranked best by ndcg@10 "
                    f"({rows[best]['ndcg@10']:.3f}); the baseline {experiment['baseline']} scored "
                    f"{rows[experiment['baseline']]['ndcg@10']:.3f}.")
    assert (env / "e.html").read_text(encoding="utf-8").count('class="plotly-graph-div"') == 2
