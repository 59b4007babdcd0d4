"""Catalogs: the one entity schema, the loader registry (JSONL, CSV mapping, Spotify, BEIR) and the demo generator."""
