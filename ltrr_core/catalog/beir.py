"""BEIR datasets: ``corpus.jsonl[.gz]`` as ``document`` entities, ``queries.jsonl[.gz]`` and ``qrels/<split>.tsv``.

Qrels are read by the one BEIR qrels reader (:mod:`ltrr_core.base.labels`, format ``beir``),
so a header is required and a duplicate judgment is an error, as for an imported label file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ltrr_core.base.labels import LabelFileError, read_labels, to_qrels
from ltrr_core.base.text_files import MAX_ID_CHARS, MAX_STORED_QUERY_CHARS
from ltrr_core.catalog.loaders import json_lines, unique_catalog
from ltrr_core.catalog.schema import Catalog, CatalogError, Entity, text_field


@dataclass(frozen=True)
class BeirDataset:
    """A BEIR dataset: the corpus as a catalog of ``document`` entities, queries and qrels by split."""

    catalog: Catalog
    queries: Mapping[str, str]
    qrels: Mapping[str, Mapping[str, Mapping[str, int]]]


def _beir_file(directory: Path, stem: str) -> Path:
    for name in (f"{stem}.jsonl", f"{stem}.jsonl.gz"):
        if (directory / name).is_file():
            return directory / name
    raise CatalogError(f"{directory}: no {stem}.jsonl or {stem}.jsonl.gz; point beir: at a BEIR dataset folder")


def _record_id(path: Path, number: int, record: dict) -> str:
    value = record.get("_id")
    if value in (None, ""):
        raise CatalogError(f"{path.name}, line {number}, field '_id': missing; every BEIR record needs an _id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return _record_text(path, number, {"_id": value}, "_id", MAX_ID_CHARS)


def _record_text(path: Path, number: int, record: dict, field: str, limit: int | None = None) -> str:
    """A record's text ``field`` (absent or null: empty), type- and size-checked."""
    try:
        return text_field(field, record.get(field) or "", limit)
    except CatalogError as error:
        raise CatalogError(f"{path.name}, line {number}, {error}") from None


def _read_qrels(path: Path, corpus: Catalog) -> dict[str, dict[str, int]]:
    """One split's qrels; every judged document must be in the corpus."""
    try:
        judgments = read_labels(path, "beir")
    except LabelFileError as err:
        raise CatalogError(str(err)) from None
    for number, judgment in enumerate(judgments, start=1):
        if judgment.doc_id not in corpus:
            raise CatalogError(f"{path.name}, judgment #{number}, field 'corpus-id': {judgment.doc_id!r} is not in the corpus")
    return to_qrels(judgments)


def load_beir(directory: str | Path) -> BeirDataset:
    """``corpus.jsonl[.gz]`` -> document entities, ``queries.jsonl[.gz]``, ``qrels/<split>.tsv``."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CatalogError(f"{directory}: folder not found; beir: needs a folder with corpus.jsonl, queries.jsonl and qrels/")
    corpus_path = _beir_file(directory, "corpus")
    documents = []
    for number, record in json_lines(corpus_path):
        documents.append((number, Entity(id=_record_id(corpus_path, number, record), type="document",
                                         title=_record_text(corpus_path, number, record, "title"),
                                         description=_record_text(corpus_path, number, record, "text"))))
    catalog = unique_catalog(documents, corpus_path, f"beir:{directory}")
    queries_path = _beir_file(directory, "queries")
    queries = {_record_id(queries_path, n, r): _record_text(queries_path, n, r, "text", MAX_STORED_QUERY_CHARS)
               for n, r in json_lines(queries_path)}
    qrels = {p.name.split(".")[0]: _read_qrels(p, catalog) for p in sorted((directory / "qrels").glob("*.tsv*"))}
    return BeirDataset(catalog, queries, qrels)
