"""The entity schema shared by every catalog and the :class:`Catalog` container.

Sources (``default``, ``csv:PATH#MAPPING``, ...) are in :mod:`ltrr_core.catalog.sources`.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Iterable, Iterator, Mapping

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
        known = {f.name for f in fields(cls)}
        unknown = set(record) - known
        if unknown:
            raise CatalogError(f"unknown field(s) {sorted(unknown)}; allowed: {sorted(known)}")
        values = dict(record)
        values["genres"] = {str(k): float(v) for k, v in dict(values.get("genres") or {}).items()}
        values["moods"] = tuple(values.get("moods") or ())
        values["related"] = {k: tuple(v) for k, v in dict(values.get("related") or {}).items()}
        values["popularity"] = float(values.get("popularity") or 0.0)
        return cls(**values)


_ENTITY_FIELDS = tuple(f.name for f in fields(Entity))


class Catalog:
    """An ordered, id-unique collection of entities; positions are the index row numbers.

    ``content_key`` stands in for :attr:`content_hash` when the content is a pure function of
    something cheaper to hash (a generated catalog: its generator's code, seed and size)."""

    def __init__(self, entities: Iterable[Entity], source: str = "memory", content_key: str | None = None) -> None:
        self.entities: list[Entity] = list(entities)
        self.source = source
        self._content_key = content_key
        self.position: dict[str, int] = {}
        for i, entity in enumerate(self.entities):
            if entity.id in self.position:
                raise CatalogError(f"{source}: duplicate id {entity.id!r} (entity #{i + 1}); ids must be unique")
            self.position[entity.id] = i

    def __len__(self) -> int:
        return len(self.entities)

    def __iter__(self) -> Iterator[Entity]:
        return iter(self.entities)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self.position

    def get(self, entity_id: str) -> Entity:
        return self.entities[self.position[entity_id]]

    def by_type(self) -> dict[str, int]:
        return dict(Counter(e.type for e in self.entities).most_common())

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
