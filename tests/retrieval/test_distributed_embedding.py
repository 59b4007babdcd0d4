"""Distributed embedding (Ray Data over an actor pool) gives the in-process vectors, even when an actor is killed."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.ray
ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")

from ltrr_core.retrieval.indexes.distributed_embedding import encode_distributed  # noqa: E402
from ltrr_core.retrieval.indexes.embedder import Embedder, entity_text  # noqa: E402


def test_distributed_vectors_equal_the_in_process_ones_with_an_actor_killed_mid_run(ray_cluster, default_catalog,
                                                                                     kill_process):
    texts = [entity_text(e) for e in default_catalog.entities[:300:]]
    seen = []
    killed = kill_process("MapBatches(EncodeBatch)).submit")  # an actor busy encoding a batch: restarted, batch retried
    distributed = encode_distributed(texts, workers=2, batch_size=10, progress=lambda label, f: seen.append(f))
    assert killed, "no embedding actor was killed mid-batch"
    local = Embedder().encode(texts)
    assert distributed.shape == local.shape == (300, 384)
    np.testing.assert_allclose(distributed, local, atol=2e-5)
    assert np.min(np.sum(distributed * local, axis=1)) > 0.99999
    assert seen[-1] == 1.0 and len(seen) >= 300 // 10
