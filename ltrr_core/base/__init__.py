"""Shared records, formats and IO below every stage (imports nothing else of ltrr_core)."""
