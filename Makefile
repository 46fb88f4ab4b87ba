# The README's commands. Everything runs from the repository's own virtualenv (.venv).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: install demo demo-down test unit integration lint tools bench bench-model infra-check clean

$(PY): pyproject.toml dev/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]' -e ./dev
	touch $(PY)

install: $(PY)

# Pinned control-plane and test binaries, metrics-server and Alertmanager included (built once with Go into ~/.cache/kube-remediator/bin).
tools:
	bash hack/build-tools.sh etcd kubernetes kwok metrics-server ferretdb helm alertmanager prometheus otelcol

# Leaves the local control plane and the demo's operator running (README.md "After the demo"); demo-down stops both.
demo: install tools
	$(VENV)/bin/remediator-dev demo

demo-down:
	$(VENV)/bin/remediator-dev demo down

test: install tools
	$(PY) -m pytest $(PYTEST_ARGS)

unit: install
	$(PY) -m pytest -m "not integration" $(PYTEST_ARGS)

integration: install tools
	$(PY) -m pytest -m integration $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# The operator at scale on private local control planes, bounded defaults (bench/README.md lists every bench);
# each prints its numbers and writes bench/results/<name>.json. Not part of `make test`.
bench: install tools
	$(PY) bench/operator/latency.py --trials 100 --time-limit 600
	$(PY) bench/operator/storm.py --pods 1000 --deployments 100 --timeout 600
	$(PY) bench/operator/memory.py --pods 0,1000,5000,10000 --time-limit 1500
	$(PY) bench/operator/metrics_scrape.py
	$(PY) bench/tracing/overhead.py --trials 40
	$(PY) bench/compare/run.py --runs 3

bench-model: install
	$(PY) bench/model/bench_classifier.py

# CRD drift, helm lint, kubeconform, terraform fmt, checkov, actionlint, hadolint.
infra-check: install
	bash hack/ci-infra-checks.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
