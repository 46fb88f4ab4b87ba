"""Hot model swap: a thread-safe holder of the current Classifier and a poller of the S3 registry.

Callers take the model once per request (``clf = holder.get()``; or call ``holder.predict``, which does
that) and keep that object for the whole request, so a swap never changes a model under a running
prediction; the old object lives on until its last user lets go. A new artifact is swapped in only after it
downloaded with matching checksums, loaded (the model library checks format, schema and taxonomy) and
answered a smoke prediction; otherwise the old model stays, with one clear log line, and that pointer is
not retried until it changes.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from remediator import metrics
from remediator_model.predict import Classifier, ErrorInput, Prediction

log = logging.getLogger(__name__)

SMOKE_INPUT = ErrorInput(reason="OOMKilled", exit_code=137, message="container exceeded its memory limit")


class ModelHolder:
    """The current Classifier; ``get()`` and ``swap()`` are atomic. Quacks like a Classifier (``predict``,
    ``predict_batch``, ``version``), so it can stand where one is expected."""

    def __init__(self, model: Classifier) -> None:
        self._lock = threading.Lock()
        self._model = model

    def get(self) -> Classifier:
        with self._lock:
            return self._model

    def swap(self, new: Classifier) -> Classifier:
        """Install ``new``; returns the previous model."""
        with self._lock:
            old, self._model = self._model, new
        log.info("model swapped: %s -> %s", old.version, new.version)
        return old

    @property
    def version(self) -> str:
        return self.get().version

    def predict(self, e: ErrorInput) -> Prediction:
        return self.get().predict(e)

    def predict_batch(self, events: list[ErrorInput]) -> list[Prediction]:
        return self.get().predict_batch(events)


class _Registry(Protocol):
    def current(self) -> tuple[str, str] | None: ...

    def download(self, version: str, dest_dir: str | Path) -> Path: ...


def check_model(model: Classifier) -> None:
    """Raise when ``model`` cannot answer a prediction well-formed enough for the operator."""
    p = model.predict(SMOKE_INPUT)
    if not (0.0 <= float(p.confidence) <= 1.0) or not p.error_type or not p.action:
        raise ValueError(f"smoke prediction is malformed: {p!r}")


class ModelPoller:
    """Checks the registry's CURRENT pointer every ``interval`` seconds and swaps in a new model.

    ``check_once()`` does one round (for a kopf timer or a test); ``start()``/``stop()`` run it in a daemon
    thread. Artifacts are downloaded to ``work_dir/<version>``; older ones are removed after a swap (the
    current and the previous stay)."""

    def __init__(
        self,
        registry: _Registry,
        holder: ModelHolder,
        interval: float = 60.0,
        work_dir: str | Path = "/tmp/kube-remediator-models",
        loader: Callable[[Path], Classifier] = Classifier.load,
    ) -> None:
        self.registry, self.holder, self.interval = registry, holder, interval
        self.work_dir = Path(work_dir)
        self.loader = loader
        self._seen: tuple[str, str] | None = None  # (version, etag) last handled, good or refused
        self.refused: dict[str, str] = {}  # version -> why
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check_once(self) -> bool:
        """One poll: True when a new model was swapped in. Never raises (registry errors are logged)."""
        try:
            current = self.registry.current()
        except Exception as err:
            log.warning("model registry unreachable; keeping model %s: %s", self.holder.version, err)
            return False
        if current is None or current == self._seen:
            return False
        version = current[0]
        if version == self.holder.version:
            self._seen = current
            return False
        dest = self.work_dir / version
        try:
            path = self.registry.download(version, dest)
            model = self.loader(path)
            check_model(model)
        except Exception as err:
            self._seen = current  # do not retry the same pointer every interval; a new pointer is retried
            self.refused[version] = str(err)
            metrics.MODEL_SWAPS.labels(result="refused").inc()
            log.error("model %s refused, keeping %s: %s: %s", version, self.holder.version, type(err).__name__, err)
            shutil.rmtree(dest, ignore_errors=True)
            return False
        if model.version != version:
            log.warning("model %s: its artifact calls itself %s", version, model.version)
        old = self.holder.swap(model)
        metrics.MODEL_SWAPS.labels(result="swapped").inc()
        self._seen = current
        self._prune(keep={version, old.version})
        return True

    def _prune(self, keep: set[str]) -> None:
        if not self.work_dir.is_dir():
            return
        for child in self.work_dir.iterdir():
            if child.is_dir() and child.name not in keep and not child.name.startswith("."):
                shutil.rmtree(child, ignore_errors=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check_once()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="model-poller", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
