"""Connecting to Ray: a missing install and an unreachable address each fail at once, in one line."""

from __future__ import annotations

import sys
import time

import pytest

from ltrr_core.base.cluster import CONNECT_TIMEOUT_S, ClusterError, connect, ray_module


def test_a_missing_ray_install_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` sees without the extra: ImportError
    with pytest.raises(ClusterError, match=r"^Ray is not installed: install the ray extra \(pip install -e '\.\[ray\]'\)$"):
        ray_module()


@pytest.mark.parametrize("address", ["127.0.0.1:1", "198.51.100.1:6379"])  # refused; no Ray head there (TEST-NET-2)
@pytest.mark.ray
def test_an_unreachable_cluster_fails_fast_with_its_address(address, monkeypatch):
    ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")
    assert not ray.is_initialized()
    monkeypatch.setenv("RAY_ADDRESS", address)
    start = time.monotonic()
    with pytest.raises(ClusterError, match=f"^Ray cluster at {address} is unreachable") as err:
        connect()
    assert time.monotonic() - start < 3 * CONNECT_TIMEOUT_S and "\n" not in str(err.value)
    assert not ray.is_initialized()
