"""Retrieval: the strategies (the bandit's arms), their registry and the indexes they search."""
