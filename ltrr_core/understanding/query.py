"""What query understanding returns: the normalized query, its typo corrections and its readings."""

from __future__ import annotations

from dataclasses import dataclass

from ltrr_core.understanding.text import STOPWORDS
from ltrr_core.understanding.vocabulary import TYPE_WORDS


@dataclass(frozen=True)
class Correction:
    """One typo fix: ``token`` as typed (normalized) -> ``suggestion`` from vocabulary ``source``."""

    token: str
    suggestion: str
    score: float
    source: str


@dataclass(frozen=True)
class Interpretation:
    """One reading of the token span ``[start, end)``: an entity type, a field value or an attribute."""

    kind: str
    name: str
    value: str
    span: tuple[int, int]
    likelihood: float

    def __post_init__(self) -> None:
        if self.kind not in ("entity_type", "field", "attribute"):
            raise ValueError(f"kind: {self.kind!r} is not entity_type, field or attribute")
        if not 0.0 < self.likelihood <= 1.0:
            raise ValueError(f"likelihood: {self.likelihood} is outside (0, 1]")


@dataclass(frozen=True)
class QueryUnderstanding:
    """Everything the strategies need to know about one query."""

    raw: str
    normalized: str
    tokens: tuple[str, ...]
    corrected: tuple[str, ...]
    corrections: tuple[Correction, ...]
    interpretations: tuple[Interpretation, ...]
    entity_types: dict[str, float]
    script: str

    @property
    def is_empty(self) -> bool:
        return not self.tokens

    @property
    def has_typo(self) -> bool:
        return bool(self.corrections)

    @property
    def content_tokens(self) -> tuple[str, ...]:
        """Corrected tokens minus entity-type words and stopwords."""
        return tuple(t for t in self.corrected if t not in TYPE_WORDS and t not in STOPWORDS)

    def attributes(self, name: str) -> list[Interpretation]:
        return [i for i in self.interpretations if i.kind == "attribute" and i.name == name]

    def fields(self, name: str) -> list[Interpretation]:
        return [i for i in self.interpretations if i.kind == "field" and i.name == name]

    def to_trace(self) -> dict:
        return {
            "raw": self.raw[:512],
            "normalized": self.normalized,
            "tokens": list(self.tokens),
            "corrected": list(self.corrected),
            "corrections": [vars(c) | {"score": round(c.score, 3)} for c in self.corrections],
            "interpretations": [
                {"kind": i.kind, "name": i.name, "value": i.value, "span": list(i.span),
                 "likelihood": round(i.likelihood, 3)}
                for i in self.interpretations
            ],
            "entity_types": {k: round(v, 3) for k, v in self.entity_types.items()},
            "script": self.script,
        }
