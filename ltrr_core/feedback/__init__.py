"""Feedback: the SQLite store (the only SQL), its records, grades and label files."""
