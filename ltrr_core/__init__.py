"""LTR&R Studio core: learning to rank and retrieve, with no UI dependency."""

__version__ = "0.1.0"
