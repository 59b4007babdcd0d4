"""Selection: the context vector and the bandit that picks a subset of strategies and their depths."""
