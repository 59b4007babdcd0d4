"""Use-case services over the stages: runs that drive the engine (simulation, sweeps, latency)."""
