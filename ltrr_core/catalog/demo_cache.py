"""A columnar on-disk copy of a generated ``default:N`` catalog, memory-mapped on a warm start.

``catalog/`` in the catalog's cache dir (beside ``bm25/``) holds one ``.npy`` per array and a
``meta.json`` written last (format version, N, every array's shape and dtype, the small
vocabularies). Each string field is its UTF-8 bytes plus an (n + 1) offset array; popularity a
float array; genres / moods / related are CSR (per-entity pointers into flat value arrays; genre,
mood and relation names as vocabularies in the meta). :func:`load` maps the files read-only and
returns a :class:`ColumnarEntities`: nothing is decoded until asked, an entity is built when a
caller reads it, a column (ids, types, popularity) without building any entity. A copy of another
version or size, or an unreadable one, loads as None (the caller regenerates and rewrites).
"""

from __future__ import annotations

import json
import operator
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from ltrr_core.base.cache import write_atomic
from ltrr_core.catalog.schema import TEXT_FIELDS, Entity, EntitySequence

STRING_FIELDS = TEXT_FIELDS
CSR_FIELDS = ("genre", "mood", "related")
META = "meta.json"
KIND, VERSION = "catalog", 2
CHUNK = 65_536  # entities decoded together when iterating
SEPARATOR = "\x00"


def _strings(values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(UTF-8 bytes, n + 1 byte offsets) of ``values``: one encode of the NUL-joined strings, the
    offsets from where the NULs fell (ValueError when a string holds NUL)."""
    if not values:
        return np.empty(0, np.uint8), np.zeros(1, np.int64)
    joined = np.frombuffer(SEPARATOR.join(values).encode("utf-8"), dtype=np.uint8)
    cuts = np.flatnonzero(joined == 0)
    if len(cuts) != len(values) - 1:
        raise ValueError("a catalog string contains NUL")
    ends = np.append(cuts, len(joined)) - np.arange(len(values))  # each string's end, NULs removed
    return joined[joined != 0], np.concatenate([[0], ends]).astype(np.int64)


def _pointer(sizes) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(np.fromiter(sizes, dtype=np.int64))]).astype(np.int64)


def _codes(values: list[str], vocabulary: dict[str, int]) -> np.ndarray:
    return np.array([vocabulary.setdefault(v, len(vocabulary)) for v in values], dtype=np.int32)


def save(directory: Path, size: int, entities: Sequence[Entity]) -> None:
    """Write ``entities`` (generated for ``default:size``) as the columnar copy in ``directory``."""
    arrays: dict[str, np.ndarray] = {}
    for name in STRING_FIELDS:
        arrays[f"{name}.bytes"], arrays[f"{name}.ptr"] = _strings(list(map(operator.attrgetter(name), entities)))
    arrays["popularity"] = np.fromiter(map(operator.attrgetter("popularity"), entities), dtype=np.float64, count=len(entities))
    vocabularies: dict[str, dict[str, int]] = {"genre": {}, "mood": {}, "related": {}}
    arrays["genre.ptr"] = _pointer(len(e.genres) for e in entities)
    arrays["genre.codes"] = _codes([g for e in entities for g in e.genres], vocabularies["genre"])
    arrays["genre.weights"] = np.array([w for e in entities for w in e.genres.values()], dtype=np.float64)
    arrays["mood.ptr"] = _pointer(len(e.moods) for e in entities)
    arrays["mood.codes"] = _codes([m for e in entities for m in e.moods], vocabularies["mood"])
    arrays["related.ptr"] = _pointer(len(e.related) for e in entities)
    arrays["related.codes"] = _codes([r for e in entities for r in e.related], vocabularies["related"])
    arrays["related.id_ptr"] = _pointer(len(ids) for e in entities for ids in e.related.values())
    arrays["related_ids.bytes"], arrays["related_ids.ptr"] = _strings([i for e in entities for ids in e.related.values() for i in ids])
    directory.mkdir(parents=True, exist_ok=True)
    (directory / META).unlink(missing_ok=True)  # a reader never pairs the old meta with new arrays
    for name, array in arrays.items():
        write_atomic(directory / f"{name}.npy", lambda p, a=array: np.save(p, np.ascontiguousarray(a)))
    meta = {"kind": KIND, "version": VERSION, "n": size, "entities": len(entities),
            "arrays": {name: [list(a.shape), a.dtype.str] for name, a in arrays.items()},
            "vocabularies": {name: list(v) for name, v in vocabularies.items()}}
    write_atomic(directory / META, lambda p: p.write_text(json.dumps(meta, ensure_ascii=False)))


def load(directory: Path, size: int) -> "ColumnarEntities | None":
    """The entities :func:`save` wrote in ``directory`` for ``default:size``, memory-mapped, or None
    (absent, another version or size, inconsistent or corrupt)."""
    try:
        meta = json.loads((directory / META).read_text())
        if (meta["kind"], meta["version"], meta["n"]) != (KIND, VERSION, size):
            return None
        arrays = {name: np.load(directory / f"{name}.npy", mmap_mode="r", allow_pickle=False).view(np.ndarray)
                  for name in meta["arrays"]}  # still mapped; plain ndarrays slice several times faster than np.memmap
        if {name: [list(a.shape), a.dtype.str] for name, a in arrays.items()} != meta["arrays"]:
            return None
        return ColumnarEntities(arrays, meta["entities"], meta["vocabularies"])
    except (OSError, KeyError, ValueError, TypeError):
        return None


class ColumnarEntities(EntitySequence):
    """The entities of a columnar copy, built on demand (read-only, thread-safe: nothing mutates)."""

    def __init__(self, arrays: dict[str, np.ndarray], n: int, vocabularies: dict[str, list[str]]) -> None:
        self.n = n
        self.arrays = arrays
        self.genre_names, self.mood_names = vocabularies["genre"], vocabularies["mood"]
        self.relation_names = vocabularies["related"]
        ends = {name: int(arrays[f"{name}.ptr"][-1]) for name in (*STRING_FIELDS, "related_ids")}
        consistent = (
            all(len(arrays[f"{name}.ptr"]) == n + 1 and ends[name] == len(arrays[f"{name}.bytes"]) for name in STRING_FIELDS)
            and len(arrays["popularity"]) == n
            and all(len(arrays[f"{f}.ptr"]) == n + 1 and arrays[f"{f}.ptr"][-1] == len(arrays[f"{f}.codes"]) for f in CSR_FIELDS)
            and len(arrays["genre.weights"]) == len(arrays["genre.codes"])
            and len(arrays["related.id_ptr"]) == len(arrays["related.codes"]) + 1
            and arrays["related.id_ptr"][-1] == len(arrays["related_ids.ptr"]) - 1
            and ends["related_ids"] == len(arrays["related_ids.bytes"])
        )
        if not consistent:
            raise ValueError("the catalog copy's arrays disagree in size")
        self._column_cache: dict[str, list[str]] = {}

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return self._chunk(*index.indices(self.n)[:2]) if index.step in (None, 1) else [self[i] for i in range(*index.indices(self.n))]
        i = operator.index(index)
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(f"entity position {index} is outside 0..{self.n - 1}")
        return self._one(i)

    def __iter__(self) -> Iterator[Entity]:
        for start in range(0, self.n, CHUNK):
            yield from self._chunk(start, min(self.n, start + CHUNK))

    def column(self, name: str) -> list[str] | np.ndarray:
        """A string field's values of every entity (decoded once, kept), or the popularity array."""
        if name == "popularity":
            return self.arrays["popularity"]
        if name not in STRING_FIELDS:
            raise KeyError(f"no column {name!r}; columns: popularity, {', '.join(STRING_FIELDS)}")
        if name not in self._column_cache:
            self._column_cache[name] = self._strings(name, 0, self.n)
        return self._column_cache[name]

    def _strings(self, name: str, start: int, stop: int) -> list[str]:
        ptr = self.arrays[f"{name}.ptr"]
        a, b = int(ptr[start]), int(ptr[stop])
        text = self.arrays[f"{name}.bytes"][a:b].tobytes()
        cuts = (ptr[start:stop + 1] - a).tolist()
        return [text[x:y].decode("utf-8", errors="replace") for x, y in zip(cuts, cuts[1:])]  # a flipped byte: never a crash

    def _one(self, i: int) -> Entity:
        """Entity ``i`` alone: a few scalar reads and byte slices per field."""
        a = self.arrays
        text = [a[f"{f}.bytes"][a[f"{f}.ptr"][i]:a[f"{f}.ptr"][i + 1]].tobytes().decode("utf-8", errors="replace")
                for f in STRING_FIELDS]
        g0, g1 = a["genre.ptr"][i], a["genre.ptr"][i + 1]
        genres = dict(zip([self.genre_names[c] for c in a["genre.codes"][g0:g1].tolist()], a["genre.weights"][g0:g1].tolist()))
        m0, m1 = a["mood.ptr"][i], a["mood.ptr"][i + 1]
        moods = tuple(self.mood_names[c] for c in a["mood.codes"][m0:m1].tolist())
        r0, r1 = a["related.ptr"][i], a["related.ptr"][i + 1]
        related = {}
        if r1 > r0:
            id_ptr = a["related.id_ptr"][r0:r1 + 1].tolist()
            ids = self._strings("related_ids", id_ptr[0], id_ptr[-1])
            for code, x, y in zip(a["related.codes"][r0:r1].tolist(), id_ptr, id_ptr[1:]):
                related[self.relation_names[code]] = tuple(ids[x - id_ptr[0]:y - id_ptr[0]])
        id_, type_, title, creator, album, language, release, added, description = text
        return Entity(id_, type_, title, creator, album, genres, moods, language, release, added,
                      float(a["popularity"][i]), description, related)

    def _csr(self, field: str, start: int, stop: int) -> tuple[list[int], list[int]]:
        """(pointers relative to the chunk, value codes) of ``field`` for entities ``start:stop``."""
        ptr = self.arrays[f"{field}.ptr"][start:stop + 1]
        a, b = int(ptr[0]), int(ptr[-1])
        return (ptr - a).tolist(), self.arrays[f"{field}.codes"][a:b].tolist()

    def _chunk(self, start: int, stop: int) -> list[Entity]:
        """Entities ``start:stop``, built together (a few array slices per field, not per entity)."""
        if stop <= start:
            return []
        columns = [self._column_cache[f][start:stop] if f in self._column_cache else self._strings(f, start, stop)
                   for f in STRING_FIELDS]
        popularity = self.arrays["popularity"][start:stop].tolist()
        genre_ptr, genre_codes = self._csr("genre", start, stop)
        g0 = int(self.arrays["genre.ptr"][start])
        genre_weights = self.arrays["genre.weights"][g0:g0 + len(genre_codes)].tolist()
        genre_names = [self.genre_names[c] for c in genre_codes]
        mood_ptr, mood_codes = self._csr("mood", start, stop)
        mood_names = [self.mood_names[c] for c in mood_codes]
        related_ptr, related_codes = self._csr("related", start, stop)
        r0 = int(self.arrays["related.ptr"][start])
        id_ptr = self.arrays["related.id_ptr"][r0:r0 + len(related_codes) + 1]
        ids = self._strings("related_ids", int(id_ptr[0]), int(id_ptr[-1])) if len(related_codes) else []
        id_cuts = (id_ptr - id_ptr[0]).tolist()
        related = [tuple(ids[a:b]) for a, b in zip(id_cuts, id_cuts[1:])]
        relation_names = [self.relation_names[c] for c in related_codes]
        genres = [dict(zip(genre_names[a:b], genre_weights[a:b])) for a, b in zip(genre_ptr, genre_ptr[1:])]
        moods = [tuple(mood_names[a:b]) for a, b in zip(mood_ptr, mood_ptr[1:])]
        relations = [dict(zip(relation_names[a:b], related[a:b])) for a, b in zip(related_ptr, related_ptr[1:])]
        id_, type_, title, creator, album, language, release, added, description = columns
        return list(map(Entity, id_, type_, title, creator, album, genres, moods, language, release, added,
                        popularity, description, relations))  # Entity's field order
