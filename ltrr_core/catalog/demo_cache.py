"""A columnar on-disk copy of a generated ``default:N`` catalog, so a warm start does not regenerate it.

``catalog/`` in the catalog's cache dir (beside ``bm25/``) is a snapshot
(:mod:`ltrr_core.base.snapshot`): each string field one NUL-joined UTF-8 array,
popularity a float array, genres / moods / related as CSR (per-entity pointers into flat value
arrays; genre, mood and relation names as small vocabularies in the JSON meta). Reading it back
builds the same entities, in the same order, several times faster than generating them. A copy
of another version or size, or an unreadable one, is ignored (the caller regenerates and rewrites).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ltrr_core.catalog.schema import Entity
from ltrr_core.base import snapshot
from ltrr_core.base.snapshot import pack_strings, unpack_strings

STRING_FIELDS = ("id", "type", "title", "creator", "album", "language", "release_date", "date_added", "description")
SNAPSHOT_KIND, SNAPSHOT_VERSION = "catalog", 1


def _codes(values: list[str], vocabulary: dict[str, int]) -> np.ndarray:
    return np.array([vocabulary.setdefault(v, len(vocabulary)) for v in values], dtype=np.int32)


def save(directory: Path, size: int, entities: list[Entity]) -> None:
    """Write ``entities`` (generated for ``default:size``) as a columnar snapshot in ``directory``."""
    arrays = {name: pack_strings([getattr(e, name) for e in entities]) for name in STRING_FIELDS}
    arrays["popularity"] = np.array([e.popularity for e in entities], dtype=np.float64)
    genres: dict[str, int] = {}
    moods: dict[str, int] = {}
    relations: dict[str, int] = {}
    arrays["genre_ptr"] = _pointer(len(e.genres) for e in entities)
    arrays["genre_codes"] = _codes([g for e in entities for g in e.genres], genres)
    arrays["genre_weights"] = np.array([w for e in entities for w in e.genres.values()], dtype=np.float64)
    arrays["mood_ptr"] = _pointer(len(e.moods) for e in entities)
    arrays["mood_codes"] = _codes([m for e in entities for m in e.moods], moods)
    arrays["related_ptr"] = _pointer(len(e.related) for e in entities)
    arrays["related_codes"] = _codes([r for e in entities for r in e.related], relations)
    arrays["related_id_ptr"] = _pointer(len(ids) for e in entities for ids in e.related.values())
    related_ids = [i for e in entities for ids in e.related.values() for i in ids]
    arrays["related_ids"] = pack_strings(related_ids)
    snapshot.save(directory, SNAPSHOT_KIND, SNAPSHOT_VERSION, size, arrays, entities=len(entities),
                  genres=list(genres), moods=list(moods), relations=list(relations), related_ids=len(related_ids))


def _pointer(sizes) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(np.fromiter(sizes, dtype=np.int64))]).astype(np.int64)


def load(directory: Path, size: int) -> list[Entity] | None:
    """The entities :func:`save` wrote in ``directory`` for ``default:size``, or None (absent,
    another version or size, inconsistent or corrupt)."""
    found = snapshot.load(directory, SNAPSHOT_KIND, SNAPSHOT_VERSION, size)
    if found is None:
        return None
    arrays, extra = found
    try:
        n = extra["entities"]
        columns = [unpack_strings(arrays[name], n) for name in STRING_FIELDS]
        popularity = arrays["popularity"].tolist()
        genre_ptr, mood_ptr, related_ptr = (arrays[p].tolist() for p in ("genre_ptr", "mood_ptr", "related_ptr"))
        genre_names = [extra["genres"][c] for c in arrays["genre_codes"].tolist()]
        genre_weights = arrays["genre_weights"].tolist()
        mood_names = [extra["moods"][c] for c in arrays["mood_codes"].tolist()]
        relation_names = [extra["relations"][c] for c in arrays["related_codes"].tolist()]
        id_ptr = arrays["related_id_ptr"].tolist()
        related_ids = unpack_strings(arrays["related_ids"], extra["related_ids"])
        sizes_ok = (len(popularity) == n and len(genre_ptr) == len(mood_ptr) == len(related_ptr) == n + 1
                    and genre_ptr[-1] == len(genre_names) == len(genre_weights) and mood_ptr[-1] == len(mood_names)
                    and related_ptr[-1] == len(relation_names) == len(id_ptr) - 1 and id_ptr[-1] == len(related_ids))
        if not sizes_ok:
            return None
        related = [tuple(related_ids[a:b]) for a, b in zip(id_ptr, id_ptr[1:])]
        genres = [dict(zip(genre_names[a:b], genre_weights[a:b])) for a, b in zip(genre_ptr, genre_ptr[1:])]
        moods = [tuple(mood_names[a:b]) for a, b in zip(mood_ptr, mood_ptr[1:])]
        relations = [dict(zip(relation_names[a:b], related[a:b])) for a, b in zip(related_ptr, related_ptr[1:])]
        id_, type_, title, creator, album, language, release, added, description = columns
        entities = list(map(Entity, id_, type_, title, creator, album, genres, moods, language, release, added,
                            popularity, description, relations))  # Entity's field order
        return entities
    except (KeyError, ValueError, IndexError, TypeError):
        return None
