"""Query sets and judgments as values, each named by a spec string.

Query sets (``--queries``):

- ``sim:N`` or ``sim:N:SEED``: N distinct queries the simulator's users would type on this
  catalog (:mod:`ltrr_core.simulation.traffic`); their known relevant items are the truth;
- ``log:top:N``: the N most searched logged queries; ``log:sample:N[:SEED]``: N logged queries
  sampled across query categories in proportion to their share of distinct queries (each
  category that has queries keeps at least one); ``log:pps:N[:SEED]``: N distinct logged queries drawn
  with probability proportional to how often each was searched (systematic PPS sampling: a query's
  chance to be in the set is N x its share of searches, queries above 1 taken for certain);
- ``file:PATH``: one query a line, or TREC topics (``<top> <num> Number: 301 <title> ...``); UTF-8,
  plain or gzip; a query may hold 2,048 characters and a topic number 1,024
  (:mod:`ltrr_core.base.text_files`).

Judgments (``--judgments``):

- ``sim``: the simulator's truth of a ``sim:`` query set (every relevant item graded 1);
- ``labels`` or ``labels:JUDGE``: the stored graded labels (any judge: the highest grade);
  ``labels:mean``, ``labels:min`` or ``labels:max``: every judge's grades of a pair merged by that rule
  (mean rounded half up; :mod:`ltrr_core.evaluation.agreement`); a rule's name is never read as a judge's;
- ``clicks`` or ``clicks:MIN_IMPRESSIONS``: graded from logged clicks over expected clicks (COEC under
  the examination curve in use), pairs shown at least MIN_IMPRESSIONS times (default 10); grades
  by COEC: >= 2 -> 3, >= 1 -> 2, >= 0.5 -> 1, else 0 (:mod:`ltrr_core.evaluation.click_judgments`);
- ``qrels:PATH``: a label file (TREC qrels, BEIR TSV or Quepid CSV, see :mod:`ltrr_core.base.labels`),
  matched to queries by query id, else by normalized text (``_`` read as a space).

A query's id is its normalized text, except for TREC topics (the topic number).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Container, Mapping, Sequence

import numpy as np

from ltrr_core.catalog.schema import Catalog
from ltrr_core.evaluation.agreement import MERGE_RULES, merged_qrels
from ltrr_core.evaluation.click_judgments import DEFAULT_MIN_IMPRESSIONS, click_qrels
from ltrr_core.base.labels import read_labels, to_qrels
from ltrr_core.base.records import Label
from ltrr_core.base.text_files import MAX_ID_CHARS, MAX_STORED_QUERY_CHARS, numbered_lines, too_long
from ltrr_core.simulation.traffic import TrafficGenerator
from ltrr_core.understanding.text import normalize

Qrels = dict[str, dict[str, int]]
DEFAULT_SEED = 7
MAX_QUERIES = 100_000
SIM_DRAWS_PER_QUERY = 10  # the simulator repeats popular phrases: draw up to 10x N intents for N distinct queries
_TOPIC = re.compile(r"<top>(.*?)</top>", re.S | re.I)
_NUM = re.compile(r"<num>\s*(?:Number:)?\s*(\S+)", re.I)
_TITLE = re.compile(r"<title>\s*(?:Topic:)?\s*(.*?)\s*(?=<[a-z/]|$)", re.S | re.I)


class QuerySetError(ValueError):
    """A query set or judgments spec that cannot be resolved; the message names the part and the fix."""


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    category: str = ""


@dataclass(frozen=True)
class QuerySet:
    """Queries in order; ``truth`` holds the simulator's judgments (``sim:`` sets only)."""

    spec: str
    queries: tuple[Query, ...]
    truth: Mapping[str, Mapping[str, int]] | None = None

    def __post_init__(self) -> None:
        if not self.queries:
            raise QuerySetError(f"query set {self.spec!r}: no queries; give a file with one query a line, "
                                "search first (log:), or use sim:300")

    def __len__(self) -> int:
        return len(self.queries)


@dataclass(frozen=True)
class Judgments:
    """Graded judgments ``{query id: {entity id: grade}}`` for one query set, from ``spec``."""

    spec: str
    qrels: Mapping[str, Mapping[str, int]]


def _count(text: str, spec: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_QUERIES:
        raise QuerySetError(f"query set {spec!r}: {text!r} must be a whole number of queries in 1..{MAX_QUERIES:,}")
    return int(text)


def _seed(parts: Sequence[str], spec: str) -> int:
    if not parts:
        return DEFAULT_SEED
    if len(parts) > 1 or not parts[0].isdigit():
        raise QuerySetError(f"query set {spec!r}: the seed {':'.join(parts)!r} must be a whole number")
    return int(parts[0])


def simulated_queries(catalog: Catalog, n: int, seed: int = DEFAULT_SEED, spec: str | None = None) -> QuerySet:
    """``n`` distinct queries of simulated users, with their relevant items as the truth (grade 1).
    Intents sharing a normalized query pool their relevant items."""
    traffic = TrafficGenerator(catalog, seed=seed)
    queries: dict[str, Query] = {}
    truth: Qrels = {}
    for _ in range(SIM_DRAWS_PER_QUERY):
        for intent in traffic.draw(n):
            qid = normalize(intent.query)
            if not qid or (qid not in queries and len(queries) >= n):
                continue
            queries.setdefault(qid, Query(qid, intent.query, intent.kind))
            truth.setdefault(qid, {}).update(dict.fromkeys(intent.relevant, 1))
        if len(queries) >= n:
            break
    return QuerySet(spec or f"sim:{n}:{seed}", tuple(queries.values()), truth)


def logged_queries(counts: Sequence[tuple[str, str, str, int]], n: int, how: str, seed: int = DEFAULT_SEED,
                   spec: str = "log") -> QuerySet:
    """From the store's ``query_counts`` rows: the ``n`` most searched (``top``), a stratified
    ``sample`` across categories, or a sample proportional to searches (``pps``)."""
    rows = list(counts)
    if how == "pps" and len(rows) > n:
        picked = set(pps_sample([row[3] for row in rows], n, seed))
        rows = [row for i, row in enumerate(rows) if i in picked]
    elif how == "sample" and len(rows) > n:
        rng = np.random.default_rng(seed)
        strata: dict[str, list[tuple]] = {}
        for row in rows:
            strata.setdefault(row[2], []).append(row)
        quota = {c: max(1, round(n * len(r) / len(rows))) for c, r in strata.items()}
        while sum(quota.values()) > n:  # rounding up the small strata overshot: trim the largest
            quota[max(quota, key=quota.get)] -= 1
        rows = [row for c, members in sorted(strata.items())
                for row in (members[i] for i in sorted(rng.choice(len(members), quota[c], replace=False)))]
    return QuerySet(spec, tuple(Query(norm, text, category) for norm, text, category, _ in rows[:n]))


def pps_sample(sizes: Sequence[int], n: int, seed: int = DEFAULT_SEED) -> list[int]:
    """Indices of ``n`` of ``sizes`` drawn without replacement, each with inclusion probability
    ``n * size / total`` (systematic PPS over a seeded random order); sizes whose probability would
    reach 1 are taken for certain and the rest drawn from the remainder."""
    sizes_arr = np.asarray(sizes, dtype=float)
    certain: list[int] = []
    rest = [i for i in range(len(sizes_arr)) if sizes_arr[i] > 0]
    while True:
        m = n - len(certain)
        total = sizes_arr[rest].sum()
        big = [i for i in rest if m * sizes_arr[i] >= total]
        if not big or m <= 0:
            break
        certain += big
        rest = [i for i in rest if i not in big]
    m = n - len(certain)
    if m <= 0 or not rest:
        return sorted(certain[:n])
    rng = np.random.default_rng(seed)
    order = rng.permutation(rest)
    cumulative = np.cumsum(m * sizes_arr[order] / sizes_arr[order].sum())
    points = rng.uniform(0.0, 1.0) + np.arange(m)
    chosen = order[np.minimum(np.searchsorted(cumulative, points, side="right"), len(order) - 1)]
    return sorted(certain + [int(i) for i in chosen])


def file_queries(path: str | Path, spec: str | None = None) -> QuerySet:
    """One query a line (blank lines and repeats skipped), or TREC topics (id = topic number);
    read a bounded line at a time, every query and topic number checked against its size limit."""
    path = Path(path)
    spec = spec or f"file:{path}"
    lines = [(number, line.rstrip("\r\n"))
             for number, line in numbered_lines(path, f"query set {spec!r}: {path}", QuerySetError)]
    topics = _TOPIC.findall("\n".join(line for _, line in lines))
    if topics:
        queries = []
        for number, topic in enumerate(topics, start=1):
            num, title = _NUM.search(topic), _TITLE.search(topic)
            if not num or not title or not title.group(1).strip():
                raise QuerySetError(f"query set {spec!r}: TREC topic #{number} has no <num> or no <title>; "
                                    "give every topic both")
            text = " ".join(title.group(1).split())
            _check_size(spec, f"TREC topic #{number}",
                        (("number", num.group(1), MAX_ID_CHARS), ("title", text, MAX_STORED_QUERY_CHARS)))
            queries.append(Query(num.group(1), text))
        return QuerySet(spec, tuple(queries))
    queries: dict[str, Query] = {}
    for number, line in lines:
        _check_size(spec, f"line {number}", (("query", line.strip(), MAX_STORED_QUERY_CHARS),))
        qid = normalize(line)
        if qid:
            queries.setdefault(qid, Query(qid, line.strip()))
    return QuerySet(spec, tuple(queries.values()))


def _check_size(spec: str, where: str, values: Sequence[tuple[str, str, int]]) -> None:
    for name, value, limit in values:
        excess = too_long(value, limit)
        if excess:
            raise QuerySetError(f"query set {spec!r}: {where}: the {name} has {excess}; shorten it")


def parse_query_set(spec: str, catalog: Catalog, query_counts=None) -> QuerySet:
    """The query set a spec names (see the module docstring); ``query_counts()`` gives the log's queries."""
    text = spec.strip()
    kind, _, rest = text.partition(":")
    if kind == "sim":
        n, *seed = rest.split(":") if rest else ["300"]
        return simulated_queries(catalog, _count(n, text), _seed(seed, text), text)
    if kind == "log":
        how, _, tail = rest.partition(":")
        if how not in ("top", "sample", "pps"):
            raise QuerySetError(f"query set {text!r}: write log:top:N, log:sample:N[:SEED] or log:pps:N[:SEED]")
        n, *seed = tail.split(":") if tail else ["200"]
        counts = query_counts() if query_counts else []
        if not counts:
            raise QuerySetError(f"query set {text!r}: the log holds no searches yet; search first or use sim:300")
        return logged_queries(counts, _count(n, text), how, _seed(seed, text), text)
    if kind == "file" and rest:
        return file_queries(rest, text)
    raise QuerySetError(f"query set {text!r}: write sim:N, log:top:N, log:sample:N, log:pps:N or file:PATH")


def label_qrels(labels: Sequence[Label]) -> Qrels:
    """Stored labels as qrels keyed by normalized query (several judges: the highest grade)."""
    qrels: Qrels = {}
    for label in labels:
        grades = qrels.setdefault(label.normalized_query, {})
        grades[label.entity_id] = max(label.grade, grades.get(label.entity_id, 0))
    return qrels


def judgments_for(query_set: QuerySet, spec: str, catalog: Container[str], labels=None, clicks=None) -> Judgments:
    """The judgments a spec names, keyed by the query set's ids and restricted to its queries;
    ``labels(judge)`` gives the stored labels, ``clicks()`` the log's click statistics (the store's
    ``click_stats``). Every judged document must be in the catalog."""
    text = spec.strip()
    kind, _, rest = text.partition(":")
    if kind == "sim" and not rest:
        if query_set.truth is None:
            raise QuerySetError(f"judgments 'sim': the query set {query_set.spec!r} is not simulated; "
                                "use --queries sim:N, or judgments labels or qrels:PATH")
        found: Mapping[str, Mapping[str, int]] = query_set.truth
    elif kind == "labels":
        rule = rest if rest in MERGE_RULES else None
        judge = None if rule else rest or None
        stored = labels(judge) if labels else []
        if not stored:
            who = f"judge {judge!r}" if judge else "any judge"
            raise QuerySetError(f"judgments {text!r}: no stored labels by {who}; label results first or import a file")
        found = merged_qrels(stored, rule) if rule else label_qrels(stored)
    elif kind == "clicks":
        found = _click_found(text, rest, clicks)
    elif kind == "qrels" and rest:
        found = to_qrels(read_labels(rest))
    else:
        raise QuerySetError(f"judgments {text!r}: write sim, labels, labels:JUDGE, labels:mean|min|max, "
                            "clicks[:MIN_IMPRESSIONS] or qrels:PATH")
    qrels = _matched(query_set, found)
    if not any(qrels.values()):
        raise QuerySetError(f"judgments {text!r}: none of the {len(query_set)} queries of {query_set.spec!r} "
                            "is judged; pick judgments made for these queries")
    for qid, docs in qrels.items():
        missing = [d for d in docs if d not in catalog]
        if missing:
            raise QuerySetError(f"judgments {text!r}: document {missing[0]!r} (query {qid!r}) is not in this "
                                f"catalog ({sum(d not in catalog for g in qrels.values() for d in g)} such); "
                                "use judgments made for this catalog")
    return Judgments(text, qrels)


def _click_found(text: str, rest: str, clicks) -> Qrels:
    """The COEC qrels of ``clicks()`` for a ``clicks[:MIN]`` spec, or QuerySetError saying what is missing."""
    if rest and not (rest.isdigit() and int(rest) >= 1):
        raise QuerySetError(f"judgments {text!r}: the minimum impressions {rest!r} must be a whole number >= 1")
    min_impressions = int(rest) if rest else DEFAULT_MIN_IMPRESSIONS
    if clicks is None:
        raise QuerySetError(f"judgments {text!r}: no click log was given to resolve them (clicks=store.click_stats)")
    stats = clicks()
    if not any(s.clicks for s in stats):
        raise QuerySetError(f"judgments {text!r}: the log holds no clicks on shown results; search and click first")
    found = click_qrels(stats, min_impressions)
    if not found:
        raise QuerySetError(f"judgments {text!r}: no result was shown {min_impressions} times; lower the minimum "
                            "(clicks:1) or log more searches")
    return found


def _matched(query_set: QuerySet, found: Mapping[str, Mapping[str, int]]) -> Qrels:
    """``found`` re-keyed by query set id: by id, else by normalized text (``_`` as a space)."""
    by_text = {normalize(key.replace("_", " ")): grades for key, grades in found.items()}
    qrels: Qrels = {}
    for query in query_set.queries:
        grades = found.get(query.id) or by_text.get(normalize(query.text))
        if grades:
            qrels[query.id] = {d: int(g) for d, g in grades.items()}
    return qrels
