"""Realistic typos: keyboard neighbours, dropped, doubled and swapped letters, vowel swaps."""

from __future__ import annotations

from typing import Callable

import numpy as np

from ltrr_core.simulation.intents import MIN_TYPO_TOKEN

_QWERTY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
KEYBOARD_NEIGHBOURS: dict[str, str] = {}
for _r, _row in enumerate(_QWERTY_ROWS):
    for _c, _ch in enumerate(_row):
        near = [_row[j] for j in (_c - 1, _c + 1) if 0 <= j < len(_row)]
        for _other in (_r - 1, _r + 1):
            if 0 <= _other < len(_QWERTY_ROWS):
                near += [_QWERTY_ROWS[_other][j] for j in (_c - 1, _c, _c + 1) if 0 <= j < len(_QWERTY_ROWS[_other])]
        KEYBOARD_NEIGHBOURS[_ch] = "".join(near)
VOWELS = "aeiou"


def _keyboard_neighbour(token: str, rng: np.random.Generator) -> str | None:
    spots = [i for i, ch in enumerate(token) if ch.lower() in KEYBOARD_NEIGHBOURS]
    if not spots:
        return None
    i = spots[int(rng.integers(len(spots)))]
    near = KEYBOARD_NEIGHBOURS[token[i].lower()]
    new = near[int(rng.integers(len(near)))]
    return token[:i] + (new.upper() if token[i].isupper() else new) + token[i + 1 :]


def _drop_letter(token: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(1, len(token)))  # people rarely drop the first letter
    return token[:i] + token[i + 1 :]


def _double_letter(token: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(len(token)))
    return token[: i + 1] + token[i] + token[i + 1 :]


def _transpose(token: str, rng: np.random.Generator) -> str | None:
    spots = [i for i in range(1, len(token) - 1) if token[i] != token[i + 1]]
    if not spots:
        return None
    i = spots[int(rng.integers(len(spots)))]
    return token[:i] + token[i + 1] + token[i] + token[i + 2 :]


def _vowel_swap(token: str, rng: np.random.Generator) -> str | None:
    spots = [i for i, ch in enumerate(token) if ch.lower() in VOWELS]
    if not spots:
        return None
    i = spots[int(rng.integers(len(spots)))]
    options = VOWELS.replace(token[i].lower(), "")
    new = options[int(rng.integers(len(options)))]
    return token[:i] + (new.upper() if token[i].isupper() else new) + token[i + 1 :]


TYPO_OPERATIONS: dict[str, Callable[[str, np.random.Generator], str | None]] = {
    "keyboard_neighbour": _keyboard_neighbour,
    "drop_letter": _drop_letter,
    "double_letter": _double_letter,
    "transposition": _transpose,
    "vowel_swap": _vowel_swap,
}
_TYPO_NAMES = tuple(TYPO_OPERATIONS)


def typo_token(token: str, rng: np.random.Generator) -> str:
    """``token`` with one realistic typo (Levenshtein distance 1, or 2 for a transposition).

    Tokens shorter than ``MIN_TYPO_TOKEN`` or not purely alphabetic come back unchanged.
    """
    if len(token) < MIN_TYPO_TOKEN or not token.isalpha():
        return token
    for j in rng.permutation(len(_TYPO_NAMES)):
        typo = TYPO_OPERATIONS[_TYPO_NAMES[j]](token, rng)
        if typo is not None and typo != token:
            return typo
    return token


def add_typos(query: str, rng: np.random.Generator, max_tokens: int = 2) -> str:
    """One typo in a random eligible token (a second one in a quarter of the longer queries)."""
    tokens = query.split(" ")
    eligible = [i for i, t in enumerate(tokens) if len(t) >= MIN_TYPO_TOKEN and t.isalpha()]
    if not eligible:
        return query
    howmany = 2 if len(eligible) >= 2 and max_tokens >= 2 and rng.random() < 0.25 else 1
    for i in rng.choice(eligible, size=howmany, replace=False):
        tokens[int(i)] = typo_token(tokens[int(i)], rng)
    return " ".join(tokens)
