"""Retrieval strategies, one module each; the registry is :mod:`ltrr_core.retrieval.registry`."""
