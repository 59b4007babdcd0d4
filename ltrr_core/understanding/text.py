"""Normalization and tokenization shared by every strategy (one place, one behaviour)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

from ltrr_core.base.text_files import MAX_QUERY_CHARS

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_SPACES = re.compile(r"\s+")
STOPWORDS = frozenset(
    "a an and the of to in on for with by at from is are be it this that my me i you your "
    "our we or as".split()
)


def _strip_accent(ch: str) -> str:
    if ch < "\u0250":  # Latin: 'é' -> 'e'; other scripts keep their marks (ブ stays ブ)
        return "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return ch


def fold(text: str) -> str:
    """Unicode-fold: NFKC, drop Latin accents, casefold. 'Beyoncé' -> 'beyonce'."""
    return "".join(_strip_accent(ch) for ch in unicodedata.normalize("NFKC", text)).casefold()


@lru_cache(maxsize=65_536)  # pure and hot: the memory index normalizes every impression's query
def normalize(text: str, max_chars: int | None = MAX_QUERY_CHARS) -> str:
    """Fold case and accents, turn punctuation and control characters into spaces, trim.

    Text longer than ``max_chars`` is cut (queries of 10,000 characters stay cheap);
    pass ``None`` for documents.
    """
    if max_chars is not None:
        text = text[: max_chars * 2]
    folded = fold(text)
    cleaned = _SPACES.sub(" ", _NON_WORD.sub(" ", folded).replace("_", " ")).strip()
    if not cleaned:  # letterless ('🎸🔥', '¿?', '♪'): its symbols, one token each, rather than nothing
        cleaned = " ".join(ch for ch in folded if _is_symbol(ch))
    return cleaned if max_chars is None else cleaned[:max_chars].strip()


def _is_symbol(ch: str) -> bool:
    """A visible character: not a space, control, format (zero-width joiner, variation selector) or mark."""
    return not ch.isspace() and unicodedata.category(ch)[0] not in "CZM"


def tokenize(text: str, drop_stopwords: bool = False, max_chars: int | None = MAX_QUERY_CHARS) -> list[str]:
    """Tokens of the normalized text; stopwords dropped on request."""
    tokens = normalize(text, max_chars).split()
    if drop_stopwords:
        kept = [t for t in tokens if t not in STOPWORDS]
        return kept or tokens
    return tokens


_STEMMER = Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def _stem(token: str) -> str:
    return _STEMMER.stemWord(token)


def analyze(text: str, max_chars: int | None = MAX_QUERY_CHARS) -> list[str]:
    """Full-text analysis for inverted indexes: normalized tokens, stopwords dropped, Snowball-stemmed.

    'Loving songs' -> ['love', 'song'], so index and query meet on word stems.
    """
    return [_stem(t) for t in tokenize(text, drop_stopwords=True, max_chars=max_chars)]
