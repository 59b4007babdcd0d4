"""Sharded retrieval: the catalog split into contiguous shards, searched scatter-gather."""
