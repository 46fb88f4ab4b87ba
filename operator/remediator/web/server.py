"""`remediator api`: run the HTTP API with Uvicorn against the in-cluster or a named kubeconfig's API server."""

from __future__ import annotations

import argparse
import logging
import os

from remediator.web.app import Config

ENV = "REMEDIATOR_API_"


def _env(name: str, default: str) -> str:
    return os.environ.get(ENV + name.upper().replace("-", "_"), default)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = Config()
    parser.add_argument(
        "--kubeconfig", default=_env("kubeconfig", "") or None, help="default: in-cluster, else ~/.kube/config"
    )
    parser.add_argument("--context", default=_env("context", "") or None, help="kubeconfig context")
    parser.add_argument("--host", default=_env("host", "127.0.0.1"), help="listen address (0.0.0.0 in a Pod)")
    parser.add_argument("--port", type=int, default=int(_env("port", "8000")))
    parser.add_argument("--model-path", default=_env("model_path", "") or None, help="classifier artifact directory")
    parser.add_argument("--max-body-bytes", type=int, default=int(_env("max_body_bytes", str(d.max_body_bytes))))
    parser.add_argument(
        "--wait-seconds",
        type=float,
        default=float(_env("wait_seconds", str(d.wait_seconds))),
        help="how long POST /errors and /feedback wait for the operator (at most 10)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=float(_env("rate", str(d.rate))),
        help="requests per second per caller (0 = unlimited)",
    )
    parser.add_argument("--burst", type=int, default=int(_env("burst", str(d.burst))))
    parser.add_argument(
        "--token-cache-seconds",
        type=float,
        default=float(_env("token_cache_seconds", str(d.token_ttl))),
        help="how long a TokenReview answer is reused (0 = ask every time)",
    )
    parser.add_argument(
        "--kube-timeout",
        type=float,
        default=float(_env("kube_timeout", "5")),
        help="seconds to wait for the API server before answering 503",
    )
    parser.add_argument("--tls-cert", default=_env("tls_cert", "") or None, help="serve HTTPS with this certificate")
    parser.add_argument("--tls-key", default=_env("tls_key", "") or None)
    parser.add_argument(
        "--workers-threads",
        type=int,
        default=int(_env("threads", "40")),
        help="requests handled at once (the thread pool of the sync routes)",
    )


def config_from(args: argparse.Namespace) -> Config:
    return Config(
        max_body_bytes=max(1024, args.max_body_bytes),
        wait_seconds=min(10.0, max(0.0, args.wait_seconds)),
        rate=args.rate,
        burst=max(1, args.burst),
        token_ttl=max(0.0, min(300.0, args.token_cache_seconds)),
    )


def run(args: argparse.Namespace) -> int:
    import anyio.to_thread
    import uvicorn

    from remediator.adapters.apiserver import ApiServer, load_configuration
    from remediator.web.app import Deps, create_app
    from remediator_model.predict import Classifier

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    kube = ApiServer(load_configuration(args.kubeconfig, args.context), timeout=args.kube_timeout)
    model = Classifier.load(args.model_path)
    app = create_app(Deps(kube=kube, model=model, config=config_from(args)))
    threads = max(4, args.workers_threads)

    @app.on_event("startup")
    async def _threads() -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads

    logging.getLogger(__name__).info("model %s loaded; API server %s", model.version, kube.base)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        ssl_certfile=args.tls_cert,
        ssl_keyfile=args.tls_key,
        log_level="info",
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )
    return 0
