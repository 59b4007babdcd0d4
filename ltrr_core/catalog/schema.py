"""The entity schema shared by every catalog and the :class:`Catalog` container.

Sources (``default``, ``csv:PATH#MAPPING``, ...) are in :mod:`ltrr_core.catalog.sources`.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any, Callable, Iterable, Iterator, Mapping

import numpy as np

from ltrr_core.base.text_files import MAX_FIELD_CHARS, MAX_ID_CHARS, too_long

ENTITY_TYPES = ("track", "artist", "album", "playlist", "station", "podcast", "episode", "document")


class CatalogError(ValueError):
    """A user-facing catalog problem: the message names the file, line and field, and the fix."""


@dataclass(frozen=True)
class Entity:
    """One searchable thing. Every catalog maps onto this one schema.

    ``genres`` maps genre -> weight in (0, 1] (an artist can be 0.7 pop, 0.3 country);
    ``related`` maps a relation name (``artist``, ``album``, ``tracks``) to entity ids.
    Dates are ISO strings (``YYYY-MM-DD``) or empty; ``popularity`` is in [0, 1].
    """

    id: str
    type: str
    title: str
    creator: str = ""
    album: str = ""
    genres: Mapping[str, float] = field(default_factory=dict)
    moods: tuple[str, ...] = ()
    language: str = ""
    release_date: str = ""
    date_added: str = ""
    popularity: float = 0.0
    description: str = ""
    related: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            raise CatalogError("entity id: empty; every entity needs a unique non-empty id")
        if not 0.0 <= self.popularity <= 1.0:
            raise CatalogError(f"entity {self.id!r} field 'popularity': {self.popularity} is outside [0, 1]")

    @property
    def text(self) -> str:
        """The free text that full-text and dense strategies index."""
        parts = [self.title, self.creator, self.album, " ".join(self.genres), " ".join(self.moods), self.description]
        return " ".join(p for p in parts if p)

    @property
    def year(self) -> int | None:
        return int(self.release_date[:4]) if self.release_date[:4].isdigit() else None

    def to_json(self) -> dict:
        record = {name: getattr(self, name) for name in _ENTITY_FIELDS}  # flat: asdict's deep copy made content_hash 6x slower
        record["genres"] = dict(self.genres)
        record["moods"] = list(self.moods)
        record["related"] = {k: list(v) for k, v in self.related.items()}
        return record

    @classmethod
    def from_json(cls, record: Mapping) -> "Entity":
        """The entity a JSON object describes; every field's type and size is checked (a ``null``
        optional field takes its default). A string where a list is expected is refused, never
        read character by character. CatalogError names the field and the expected type."""
        unknown = set(record) - set(_ENTITY_FIELDS)
        if unknown:
            raise CatalogError(f"unknown field(s) {sorted(unknown)}; allowed: {sorted(_ENTITY_FIELDS)}")
        return cls(**{name: _JSON_FIELDS.get(name, text_field)(name, value)
                      for name, value in record.items() if value is not None})


_ENTITY_FIELDS = tuple(f.name for f in fields(Entity))
TEXT_FIELDS = ("id", "type", "title", "creator", "album", "language", "release_date", "date_added", "description")


def _wrong_type(name: str, expected: str, value: Any, example: str) -> CatalogError:
    kind = "a boolean" if isinstance(value, bool) else _JSON_NAMES.get(type(value), f"a {type(value).__name__}")
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return CatalogError(f"field {name!r}: expected {expected}, got {kind} {shown}; write it like {example}")


_JSON_NAMES = {int: "a number", float: "a number", list: "a list", dict: "an object", str: "a string"}


def check_text(name: str, value: str, limit: int | None = None) -> str:
    """``value`` of the text field ``name`` when it fits ``limit`` (default: the stated limit,
    :data:`~ltrr_core.base.text_files.MAX_ID_CHARS` for ``id``, ``MAX_FIELD_CHARS`` for other
    fields) and is valid Unicode (no lone surrogate); else CatalogError naming the field."""
    excess = too_long(value, limit or (MAX_ID_CHARS if name == "id" else MAX_FIELD_CHARS))
    if excess:
        raise CatalogError(f"field {name!r}: {excess}; shorten it")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise CatalogError(f"field {name!r}: character {error.start + 1} is a lone surrogate "
                               f"({value[error.start]!r}), not text; fix the escape") from None
    return value


def text_field(name: str, value: Any, limit: int | None = None) -> str:
    """A JSON value of the text field ``name``: a string within its limit (:func:`check_text`), else CatalogError."""
    if not isinstance(value, str):
        raise _wrong_type(name, "a string", value, '"Blue in Green"')
    return check_text(name, value, limit)


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _wrong_type(name, "a number", value, "0.5")
    return float(value)


def _names(name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _wrong_type(name, "a list of strings", value, '["happy", "chill"]')
    return tuple(check_text(name, item) for item in value)


def _genres(name: str, value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        raise _wrong_type(name, "an object {genre: weight}", value, '{"pop": 0.7, "rock": 0.3}')
    return {check_text(name, genre): _number(f"{name}.{genre}", weight) for genre, weight in value.items()}


def _related(name: str, value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise _wrong_type(name, "an object {relation: [ids]}", value, '{"artist": ["artist_1"]}')
    return {check_text(name, relation): tuple(check_text("id", i) for i in _names(f"{name}.{relation}", ids))
            for relation, ids in value.items()}


_JSON_FIELDS: dict[str, Callable[[str, Any], Any]] = {
    "genres": _genres, "moods": _names, "related": _related, "popularity": _number,
}


class EntitySequence(Sequence):
    """A read-only sequence of entities built on demand (a memory-mapped columnar copy):
    :class:`Catalog` keeps it as is, and reads whole columns through :meth:`column`."""

    def column(self, name: str) -> "list[str] | np.ndarray":
        """Every entity's ``name`` field (a string field as a list, ``popularity`` as a float array)."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        """Equal to a list or sequence of the same entities in the same order."""
        if not isinstance(other, (list, EntitySequence)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]


class Catalog:
    """An ordered, id-unique collection of entities; positions are the index row numbers.

    ``entities`` is a list, or an :class:`EntitySequence` kept as is (its entities are built when
    read). ``content_key`` stands in for :attr:`content_hash` when the content is a pure function of
    something cheaper to hash (a generated catalog: its generator's code, seed and size)."""

    def __init__(self, entities: Iterable[Entity], source: str = "memory", content_key: str | None = None) -> None:
        self.entities: Sequence[Entity] = entities if isinstance(entities, EntitySequence) else list(entities)
        self.source = source
        self._content_key = content_key
        self._columns: dict[str, list[str] | np.ndarray] = {}
        ids = self.column("id")
        self.position: dict[str, int] = dict(zip(ids, range(len(ids))))
        if len(self.position) != len(ids):
            seen: set[str] = set()
            for i, entity_id in enumerate(ids):
                if entity_id in seen:
                    raise CatalogError(f"{source}: duplicate id {entity_id!r} (entity #{i + 1}); ids must be unique")
                seen.add(entity_id)

    def column(self, name: str) -> "list[str] | np.ndarray":
        """Every entity's field ``name`` by position, computed once: a string field as a list,
        ``popularity`` as a float64 array (from the columnar copy without building entities)."""
        if name not in self._columns:
            if isinstance(self.entities, EntitySequence):
                values = self.entities.column(name)
            elif name == "popularity":
                values = np.fromiter((e.popularity for e in self.entities), dtype=np.float64, count=len(self.entities))
            elif name in TEXT_FIELDS:
                values = [getattr(e, name) for e in self.entities]
            else:
                raise KeyError(f"no column {name!r}: popularity or a text field")
            self._columns[name] = values
        return self._columns[name]

    def __len__(self) -> int:
        return len(self.entities)

    def __iter__(self) -> Iterator[Entity]:
        return iter(self.entities)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self.position

    def get(self, entity_id: str) -> Entity:
        return self.entities[self.position[entity_id]]

    def by_type(self) -> dict[str, int]:
        return dict(Counter(self.column("type")).most_common())

    @property
    def fields(self) -> list[str]:
        return [f.name for f in fields(Entity)]

    @cached_property
    def content_hash(self) -> str:
        """A short hash of the content: the key of every on-disk cache built from it."""
        if self._content_key is not None:
            return hashlib.sha256(self._content_key.encode()).hexdigest()[:16]
        digest = hashlib.sha256()
        for entity in self.entities:
            digest.update(json.dumps(entity.to_json(), sort_keys=True).encode())
        return digest.hexdigest()[:16]

    def summary(self) -> dict:
        return {"source": self.source, "entities": len(self), "by_type": self.by_type(), "fields": self.fields}
