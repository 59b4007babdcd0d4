"""Offline BEIR evaluation: a tiny hand-made dataset (fast) and ONE SciFact run (slow the first time)."""

from __future__ import annotations

import json

import pytest

from ltrr_core.base.config import Settings
from ltrr_core.evaluation.beir import BEIR_LEFT_OUT, evaluate_beir

TOPICS = {
    "bread": "sourdough bread baking flour yeast crust oven",
    "whale": "humpback whale migration ocean song pods",
    "volcano": "volcano eruption lava magma ash crater",
    "chess": "chess opening gambit endgame grandmaster board",
    "coffee": "coffee espresso roast bean brewing arabica",
    "comet": "comet tail nucleus orbit ice sun",
}


@pytest.fixture(scope="module")
def tiny_beir(tmp_path_factory):
    """6 topics x 5 documents; 4 queries per topic; one query id sits in both train and test qrels."""
    root = tmp_path_factory.mktemp("tiny_beir")
    docs, queries, train, test = [], [], [], []
    for t, (topic, words) in enumerate(TOPICS.items()):
        vocab = words.split()
        for d in range(5):
            text = " ".join(vocab[(d + i) % len(vocab)] for i in range(4))
            docs.append({"_id": f"{topic}{d}", "title": f"{vocab[d % len(vocab)]} notes", "text": text})
        for q in range(4):
            qid = f"{topic}-q{q}"
            queries.append({"_id": qid, "text": f"{vocab[q]} {vocab[q + 1]}", "metadata": {}})
            target = train if q < 3 else test
            target += [f"{qid}\t{topic}{q}\t1", f"{qid}\t{topic}{q + 1}\t1"]
    test.append(f"{'bread-q0'}\tbread0\t1")  # a query judged in both splits must never be trained on
    (root / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in docs))
    (root / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries))
    (root / "qrels").mkdir()
    for name, rows in (("train", train), ("test", test)):
        (root / "qrels" / f"{name}.tsv").write_text("query-id\tcorpus-id\tscore\n" + "\n".join(rows) + "\n")
    return root


@pytest.mark.slow
def test_tiny_beir_report_has_every_system_and_never_trains_on_test_queries(tiny_beir, tmp_path):
    report = evaluate_beir(tiny_beir, settings=Settings(cache_dir=tmp_path))
    assert list(report.table.index) == ["lexical", "semantic", "fusion", "ltr"]
    assert list(report.table.columns) == ["ndcg@10", "recall@100", "mrr@10"]
    assert report.queries == 7
    trained_on = set(report.train.train_group_ids) | set(report.train.valid_group_ids)
    assert trained_on and all(q.split("-q")[1] in "012" for q in trained_on)
    assert "bread-q0" not in trained_on
    assert report.table.loc["lexical", "recall@100"] == pytest.approx(1.0)
    record = report.to_json()
    assert set(record) >= {"dataset", "split", "queries", "systems", "seconds"}
    assert record["systems"]["fusion"]["ndcg@10"] == pytest.approx(report.table.loc["fusion", "ndcg@10"])
    assert set(record["left_out"]) == set(BEIR_LEFT_OUT)


def test_unknown_system_or_split_is_named(tiny_beir, tmp_path):
    with pytest.raises(ValueError, match="structured"):
        evaluate_beir(tiny_beir, systems=["structured"], settings=Settings(cache_dir=tmp_path))
    with pytest.raises(ValueError, match="dev.tsv"):
        evaluate_beir(tiny_beir, split="dev", settings=Settings(cache_dir=tmp_path))


@pytest.fixture(scope="session")
def scifact_report(scifact_dir):
    """SLOW the first time (~3-4 min: embeds 5,183 abstracts, cached on disk after). The suite's only SciFact run."""
    return evaluate_beir(scifact_dir, settings=Settings.from_env())


@pytest.mark.shared
@pytest.mark.slow
def test_scifact_ltr_beats_each_strategy_and_trains_on_train_queries_only(scifact_report, scifact_dir):
    from ltrr_core.catalog.beir import load_beir

    table = scifact_report.table
    assert scifact_report.queries == 300
    assert table.loc["lexical", "ndcg@10"] >= 0.60
    assert table.loc["semantic", "ndcg@10"] >= 0.60
    assert table.loc["ltr", "ndcg@10"] > max(table.loc["lexical", "ndcg@10"], table.loc["semantic", "ndcg@10"])
    qrels = load_beir(scifact_dir).qrels
    trained_on = set(scifact_report.train.train_group_ids) | set(scifact_report.train.valid_group_ids)
    assert trained_on <= set(qrels["train"])
    assert not trained_on & set(qrels["test"])
