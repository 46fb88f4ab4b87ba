"""What a newcomer hits first (no kubeconfig, the CRDs not installed, the API server down, the metrics port taken)
is one sentence saying what to do, and `remediator run` / `remediator report` stop with exit 2 before doing
anything. The API server is a stand-in on 127.0.0.1 that answers discovery only."""

from __future__ import annotations

import json
import shutil
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from remediator.adapters.kube import NoCluster, api_client, cluster_problem
from remediator.cli import main
from remediator.run import preflight, preflight_waiting
from remediator.settings import Settings

ALL = ["errorevents", "remediations", "remediationpolicies"]


def _discovery_server(resources: list[str] | None) -> ThreadingHTTPServer:
    """Serves /apis/remediator.dev/v1alpha1 with `resources` (None: 404, the CRDs are not installed)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body: dict[str, object]
            if self.path.startswith("/apis/remediator.dev/v1alpha1") and resources is not None:
                body = {
                    "kind": "APIResourceList",
                    "groupVersion": "remediator.dev/v1alpha1",
                    "resources": [
                        {"name": r, "singularName": "", "namespaced": True, "kind": r.title(), "verbs": ["get"]}
                        for r in resources
                    ],
                }
                code = 200
            else:
                body, code = {"kind": "Status", "code": 404, "reason": "NotFound"}, 404
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def no_cluster_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing-kubeconfig"))
    return tmp_path


def _kubeconfig(tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "t",
                "clusters": [{"name": "t", "cluster": {"server": server}}],
                "users": [{"name": "t", "user": {"token": "t"}}],
                "contexts": [{"name": "t", "context": {"cluster": "t", "user": "t"}}],
            }
        )
    )
    monkeypatch.setenv("KUBECONFIG", str(path))


@pytest.fixture
def crds(request: pytest.FixtureRequest, no_cluster_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = _discovery_server(request.param)
    host = f"http://127.0.0.1:{server.server_address[1]}"
    _kubeconfig(no_cluster_env, host, monkeypatch)
    yield host
    server.shutdown()


def test_no_kubeconfig_says_how_to_point_at_a_cluster(no_cluster_env: Path) -> None:
    with pytest.raises(NoCluster, match=r"set KUBECONFIG .*remediator-dev cluster up"):
        api_client()


def test_report_without_a_kubeconfig_is_exit_2_with_one_sentence(
    no_cluster_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no kubeconfig") and "Traceback" not in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("crds", [None], indirect=True)
def test_crds_not_installed_says_to_apply_them(crds: str, capsys: pytest.CaptureFixture[str]) -> None:
    problem = cluster_problem(api_client())
    assert problem is not None and "are not installed" in problem and "kubectl apply -f crds/" in problem
    assert main(["report"]) == 2
    assert "kubectl apply -f crds/" in capsys.readouterr().err


@pytest.mark.parametrize("crds", [["remediations"]], indirect=True)
def test_a_missing_crd_is_named(crds: str) -> None:
    problem = cluster_problem(api_client())
    assert problem is not None and "errorevents, remediationpolicies" in problem


@pytest.mark.parametrize("crds", [ALL], indirect=True)
def test_a_prepared_cluster_passes_preflight(crds: str) -> None:
    assert cluster_problem(api_client()) is None
    assert preflight(Settings(metrics_port=0)) is None


def test_an_unreachable_api_server_asks_whether_the_cluster_runs(
    no_cluster_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _kubeconfig(no_cluster_env, f"http://127.0.0.1:{port}", monkeypatch)
    problem = cluster_problem(api_client())
    assert problem is not None and "cannot reach the API server" in problem and "is the cluster running" in problem


def test_a_metrics_port_in_use_names_the_flag_to_change(
    no_cluster_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        problem = preflight(Settings(metrics_port=port))
        assert problem is not None and f"port {port}" in problem and "--metrics-port" in problem
        assert main(["run", "--metrics-port", str(port)]) == 2
        assert "is in use by another process" in capsys.readouterr().err


def test_a_model_artifact_failing_its_checksum_stops_run_with_how_to_rebuild(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from remediator_model.artifact import DEFAULT_DIR

    broken = tmp_path / "model"
    shutil.copytree(DEFAULT_DIR, broken)
    array = next(p for p in sorted(broken.iterdir()) if p.suffix == ".npy")
    data = array.read_bytes()
    array.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))  # one flipped byte
    problem = preflight(Settings(metrics_port=0, model_path=broken))
    assert problem is not None and "checksum mismatch" in problem and "rebuild it" in problem
    assert main(["run", "--metrics-port", "0", "--model-path", str(broken)]) == 2
    assert "checksum mismatch" in capsys.readouterr().err


def test_run_waits_briefly_for_an_api_server_that_is_down_and_not_for_a_configuration_problem(
    no_cluster_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _kubeconfig(no_cluster_env, f"http://127.0.0.1:{port}", monkeypatch)
    problem = preflight_waiting(Settings(metrics_port=0), wait=0.5, interval=0.1)
    assert problem is not None and "cannot reach the API server" in problem
    assert "retrying for up to" in capsys.readouterr().err  # it retried before giving up

    server = _discovery_server(None)  # the CRDs are not installed: no waiting helps, stop at once
    try:
        _kubeconfig(no_cluster_env, f"http://127.0.0.1:{server.server_address[1]}", monkeypatch)
        problem = preflight_waiting(Settings(metrics_port=0), wait=30, interval=5)
        assert problem is not None and "CRDs" in problem and "retrying" not in capsys.readouterr().err
    finally:
        server.shutdown()
