"""Evaluation: metrics (ranx), BEIR runs, labelled evaluation, latency and off-policy estimates."""
