"""Offline experiments on a tiny catalog: the table equals metrics computed by hand, snapshots
round-trip and are refused on another catalog, bad input is one message and stores nothing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ltrr_core.catalog.schema import Catalog, Entity
from ltrr_core.base.config import Settings
from ltrr_core.engine import Engine
from ltrr_core.evaluation.experiments import SnapshotError
from ltrr_core.evaluation.configurations import ConfigurationError, parse_configuration
from ltrr_core.base.metrics import holm
from ltrr_core.evaluation.overlap import jaccard, rbo
from ltrr_core.evaluation.query_sets import QuerySetError

TINY = Catalog([
    Entity("bread", "episode", "Sourdough bread at home", description="baking bread with a starter"),
    Entity("cake", "episode", "Chocolate cake", description="baking a rich dessert"),
    Entity("jazz", "playlist", "Late night jazz", genres={"jazz": 1.0}, description="slow saxophone"),
    Entity("rock", "playlist", "Rock anthems", genres={"rock": 1.0}, description="loud guitars"),
    Entity("sea", "track", "Song of the sea", creator="Bo", genres={"folk": 1.0}, popularity=0.4),
    Entity("rain", "track", "Rainy day blues", creator="Ana", genres={"blues": 1.0}, popularity=0.2),
    Entity("news", "podcast", "Morning news", description="the day's headlines"),
    Entity("space", "podcast", "Space stories", description="planets, stars and rockets"),
], source="tiny")
QUERIES = "bread baking\njazz at night\nsongs about the sea\nrocket launches\n"
QRELS = "bread_baking 0 bread 3\nbread_baking 0 cake 1\njazz_at_night 0 jazz 2\nsongs_about_the_sea 0 sea 1\n" \
        "rocket_launches 0 space 2\nrocket_launches 0 news 0\n"
QRELS_QUERIES = ("bread baking", "jazz at night", "songs about the sea", "rocket launches")
CONFIGS = "lex=lexical:5/rrf,sem=semantic:5/interleave,both=lexical:5+semantic:5/rrf"


@pytest.fixture()
def files(tmp_path):
    (tmp_path / "queries.txt").write_text(QUERIES)
    (tmp_path / "qrels.txt").write_text(QRELS)
    return tmp_path


@pytest.fixture()
def engine(tmp_path):
    return Engine.open("tiny", Settings(cache_dir=tmp_path / "cache", db_path=tmp_path / "feedback.db"), catalog=TINY)


def run(engine, files, **kw):
    return engine.experiments.run_experiment(CONFIGS, f"file:{files / 'queries.txt'}", f"qrels:{files / 'qrels.txt'}",
                                             **kw)


def by_hand(ranked: list[str], grades: dict[str, int]) -> dict[str, float]:
    """nDCG@10 (gain = grade), recall@100 and MRR@10, written out."""
    dcg = sum(grades.get(d, 0) / math.log2(r + 2) for r, d in enumerate(ranked[:10]))
    ideal = sorted(grades.values(), reverse=True)[:10]
    idcg = sum(g / math.log2(r + 2) for r, g in enumerate(ideal))
    relevant = {d for d, g in grades.items() if g > 0}
    first = next((r for r, d in enumerate(ranked[:10], start=1) if d in relevant), None)
    return {"ndcg@10": dcg / idcg if idcg else 0.0,
            "recall@100": len(relevant & set(ranked[:100])) / len(relevant) if relevant else 0.0,
            "mrr@10": 1 / first if first else 0.0}


def test_table_equals_metrics_computed_by_hand(engine, files):
    experiment = run(engine, files)
    table = experiment.table().set_index("configuration")
    assert list(table.index) == ["lex", "sem", "both"]
    qrels = {"bread baking": {"bread": 3, "cake": 1}, "jazz at night": {"jazz": 2},
             "songs about the sea": {"sea": 1}, "rocket launches": {"space": 2, "news": 0}}
    assert experiment.qrels == qrels
    for config in experiment.configurations:
        hand = {m: [] for m in experiment.metrics}
        for query_id, grades in qrels.items():
            funnel = engine.runtime.run_configuration(parse_configuration(config.spec), query_id)
            ranked = [funnel.pool.ids[i] for i in funnel.ranked.order]
            assert list(experiment.outcomes[config.name][query_id].ranked) == ranked
            assert experiment.outcomes[config.name][query_id].candidates == len(funnel.pool)
            for metric, value in by_hand(ranked, grades).items():
                hand[metric].append(value)
        for metric, values in hand.items():
            assert table.loc[config.name, metric] == pytest.approx(np.mean(values)), (config.name, metric)
    assert np.isnan(table.loc["lex", "p ndcg@10"]) and 0 <= table.loc["sem", "p ndcg@10"] <= 1
    assert table.loc["both", "candidates"] >= table.loc["lex", "candidates"]
    assert {"p50 ms", "p50 ms lexical", "p50 ms semantic"} <= set(table.columns)
    assert np.isnan(table.loc["lex", "p50 ms semantic"]) and table.loc["sem", "p50 ms semantic"] > 0


def test_changed_queries_and_side_by_side_mark_unjudged_items(engine, files):
    experiment = run(engine, files, save=False)
    changed = experiment.changed_queries("lex", "sem")
    assert set(changed["query_id"]) == set(experiment.qrels)
    assert list(changed["delta"].abs()) == sorted(changed["delta"].abs(), reverse=True)
    assert changed["rbo"].between(0, 1).all() and changed["jaccard"].between(0, 1).all()
    side = experiment.side_by_side("lex", "sem", "bread baking", k=5)
    assert list(side.columns) == ["rank", "lex", "lex grade", "sem", "sem grade"]
    grades = dict(zip(side["sem"], side["sem grade"]))
    assert grades["bread"] == 3 and grades.get("rain", "unjudged") == "unjudged"
    assert "unjudged" in set(side["lex grade"]) | set(side["sem grade"])


def test_snapshot_round_trips_and_joins_a_later_run(engine, files):
    first = run(engine, files)
    loaded = engine.experiments.experiment_snapshot(first.snapshot_id)
    assert loaded.outcomes == first.outcomes and loaded.qrels == first.qrels and loaded.queries == first.queries
    assert loaded.table().equals(first.table())
    later = run(engine, files, against=first.snapshot_id)
    names = list(later.table()["configuration"])
    assert names == ["lex", "sem", "both", f"#{first.snapshot_id} lex", f"#{first.snapshot_id} sem",
                     f"#{first.snapshot_id} both"]
    assert later.table().set_index("configuration").loc[f"#{first.snapshot_id} lex", "ndcg@10"] == \
        pytest.approx(first.table().set_index("configuration").loc["lex", "ndcg@10"])
    assert list(engine.experiments.experiment_snapshots()["experiment_id"]) == [later.snapshot_id, first.snapshot_id]


def test_a_snapshot_from_another_catalog_is_refused(engine, files, tmp_path):
    first = run(engine, files)
    other = Catalog([*TINY, Entity("extra", "track", "Another song")], source="tiny-plus")
    elsewhere = Engine.open("tiny-plus", engine.runtime.settings, catalog=other)
    with pytest.raises(SnapshotError, match=f"snapshot #{first.snapshot_id}: made on catalog 'tiny'"):
        elsewhere.experiments.experiment_snapshot(first.snapshot_id)
    with pytest.raises(SnapshotError, match="made on catalog 'tiny'"):
        elsewhere.experiments.run_experiment(CONFIGS, f"file:{files / 'queries.txt'}", f"qrels:{files / 'qrels.txt'}",
                                 against=first.snapshot_id)
    assert not elsewhere.experiments.experiment_snapshots()["this_catalog"].any()
    assert len(elsewhere.experiments.experiment_snapshots()) == 1  # the refused run stored nothing


@pytest.mark.parametrize("configs, queries, judgments, message", [
    ("lex=lexcal:5/rrf", "queries.txt", "qrels:qrels.txt", "unknown strategy 'lexcal'"),
    ("lexical/ltr", "queries.txt", "qrels:qrels.txt", "no trained model yet"),
    (CONFIGS, "empty.txt", "qrels:qrels.txt", "no queries"),
    (CONFIGS, "queries.txt", "qrels:unknown_doc.txt", "document 'ghost' .* is not in this catalog"),
    (CONFIGS, "queries.txt", "qrels:other.txt", "none of the 4 queries"),
    (CONFIGS, "queries.txt", "sim", "is not simulated"),
    (CONFIGS, "queries.txt", "labels", "no stored labels"),
    (CONFIGS, "queries.txt", "judges", "write sim, labels"),
])
def test_bad_input_is_one_message_and_stores_nothing(engine, files, configs, queries, judgments, message):
    (files / "empty.txt").write_text("\n  \n")
    (files / "unknown_doc.txt").write_text(QRELS + "jazz_at_night 0 ghost 1\n")
    (files / "other.txt").write_text("unrelated 0 bread 1\n")
    if judgments.startswith("qrels:"):
        judgments = f"qrels:{files / judgments.split(':', 1)[1]}"
    with pytest.raises((ConfigurationError, QuerySetError), match=message):
        engine.experiments.run_experiment(configs, f"file:{files / queries}", judgments)
    assert engine.experiments.experiment_snapshots().empty


def test_unknown_baseline_and_unknown_snapshot_are_named(engine, files):
    with pytest.raises(ConfigurationError, match="baseline 'best'"):
        run(engine, files, baseline="best")
    with pytest.raises(ValueError, match="experiment 99: no such snapshot"):
        engine.experiments.experiment_snapshot(99)


def test_labels_of_one_judge_become_the_judgments(engine, files):
    engine.labelling.label("Bread baking!", "bread", 2, judge="ana")
    engine.labelling.label("bread baking", "cake", 3, judge="bo")
    query_set = engine.experiments.query_set(f"file:{files / 'queries.txt'}")
    assert engine.experiments.judgments(query_set, "labels:ana").qrels == {"bread baking": {"bread": 2}}
    assert engine.experiments.judgments(query_set, "labels").qrels == {"bread baking": {"bread": 2, "cake": 3}}


def test_rank_biased_overlap_and_jaccard():
    assert rbo(list("abcde"), list("abcde")) == pytest.approx(1.0)
    assert rbo(list("abc"), list("xyz")) == 0.0
    assert rbo(list("abcd"), list("abdc")) > rbo(list("abcd"), list("bacd")) > rbo(list("abcd"), list("dcba"))
    assert jaccard(list("abcd"), list("cdef")) == pytest.approx(2 / 6)


def test_holm_adjusts_step_down_and_stays_monotone():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, float("nan")])[0] == 0.5


def test_cli_runs_lists_and_diffs_an_experiment(files, tmp_path, capsys):
    import json

    from ltrr_core.cli import main

    catalog = tmp_path / "tiny.jsonl"
    catalog.write_text("".join(json.dumps(e.to_json()) + "\n" for e in TINY))
    common = ["--source", f"jsonl:{catalog}", "--db", str(tmp_path / "cli.db"), "--cache-dir", str(tmp_path / "cache")]
    assert main(["experiment", "--configs", CONFIGS, "--queries", f"file:{files / 'queries.txt'}",
                 "--judgments", f"qrels:{files / 'qrels.txt'}", "--baseline", "sem", "--json", *common]) == 0
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert report["baseline"] == "sem" and report["queries"] == 4 and set(report["configurations"]) == {"lex", "sem", "both"}
    assert "searches" in out.err and "left" in out.err  # progress with rate and time left, on stderr
    assert main(["experiments", "--json", *common]) == 0
    assert [s["experiment_id"] for s in json.loads(capsys.readouterr().out)] == [report["snapshot"]]
    assert main(["experiment-diff", "--snapshot", str(report["snapshot"]), "--a", "lex", "--b", "sem", "--json",
                 *common]) == 0
    assert {r["query_id"] for r in json.loads(capsys.readouterr().out)} == set(QRELS_QUERIES)
    assert main(["experiment-diff", "--snapshot", str(report["snapshot"]), "--a", "lex", "--b", "nope", *common]) == 2
    assert "configuration 'nope': not in this experiment" in capsys.readouterr().err
    assert main(["experiment", "--configs", "lexcal/rrf", *common]) == 2
    assert "unknown strategy 'lexcal'" in capsys.readouterr().err


def test_paired_tests_give_p_one_to_a_copy_of_the_baseline():
    from ltrr_core.base.metrics import paired_tests

    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 1}}
    base = {"q1": {"a": 2.0, "x": 1.0}, "q2": {"x": 2.0, "b": 1.0}, "q3": {"y": 1.0}}
    tests = paired_tests(qrels, {"base": base, "copy": dict(base), "empty": {}}, "base", ["mrr@10"]).set_index("system")
    assert tests.loc["copy", "p_value"] == 1.0 and tests.loc["copy", "ties"] == 3
    assert tests.loc["empty", "delta"] == pytest.approx(-(1 + 0.5 + 0) / 3) and tests.loc["empty", "losses"] == 2
