"""Simulation: seeded users with hidden intents, their clicks, and sandboxed runs."""
