"""Catalog sources: a source string (``default``, ``default:N``, ``jsonl:PATH``, ``csv:PATH#MAPPING.json``,
``spotify:PATH``, ``beir:DIR``) picks a loader from the one loader registry, :data:`LOADERS`."""

from __future__ import annotations

from typing import Callable

from ltrr_core.catalog.beir import load_beir
from ltrr_core.catalog.demo import load_default
from ltrr_core.catalog.loaders import csv_source, load_jsonl, load_spotify
from ltrr_core.catalog.schema import Catalog, CatalogError

Loader = Callable[[str], Catalog]
LOADERS: dict[str, Loader] = {
    "default": load_default,
    "jsonl": load_jsonl,
    "csv": csv_source,
    "spotify": load_spotify,
    "beir": lambda directory: load_beir(directory).catalog,
}


def load_catalog(source: str) -> Catalog:
    """Load a catalog from a source string such as ``default`` or ``spotify:/path/songs.csv.gz``."""
    prefix, _, argument = source.partition(":")
    if prefix not in LOADERS:
        raise CatalogError(
            f"unknown catalog source {source!r}; use one of: "
            + ", ".join(f"{p}:PATH" if p != "default" else "default, default:N" for p in LOADERS)
        )
    return LOADERS[prefix](argument)
