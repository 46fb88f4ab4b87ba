from __future__ import annotations

from pathlib import Path

from remediator_dev.devcluster.cluster import _PORT_NAMES, DevCluster, State


def _command(dev: DevCluster, name: str) -> list[str]:
    bins = {n: Path("/bin") / n for n in ("kube-controller-manager", "kube-scheduler", "kwok")}
    return dev._command(name, bins, State(ports=dict.fromkeys(_PORT_NAMES, 1)))


def test_controllers_keep_their_default_client_rate_unless_asked(tmp_path: Path) -> None:
    dev = DevCluster(tmp_path)
    for name in ("kube-controller-manager", "kube-scheduler"):
        assert not [flag for flag in _command(dev, name) if flag.startswith("--kube-api-")]


def test_a_bench_raises_the_controllers_client_rate(tmp_path: Path) -> None:
    dev = DevCluster(tmp_path, controllers_qps=400)
    for name in ("kube-controller-manager", "kube-scheduler"):
        flags = _command(dev, name)
        assert "--kube-api-qps=400" in flags
        assert "--kube-api-burst=800" in flags
    assert not [flag for flag in _command(dev, "kwok") if flag.startswith("--kube-api-")]
