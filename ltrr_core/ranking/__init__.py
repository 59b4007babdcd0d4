"""Ranking: the candidate union, its features, the rankers and their training."""
