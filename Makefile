# One command runs the app, one runs the tests (`make test-fast`: the day-to-day subset); all set up .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: setup run test test-fast bench clean-cache

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0   # CPU build from this machine's disk; first, so nothing pulls CUDA
	$(PIP) install -q -e '.[test]'
	$(PY) -m ltrr_core.catalog.demo --write   # the built-in catalog, generated deterministically
	touch $(STAMP)

RAY_STAMP := $(VENV)/.installed-ray

$(RAY_STAMP): $(STAMP)
	$(PIP) install -q -e '.[test,ray]'   # the Ray extra: CI tests the distributed backends too
	touch $(RAY_STAMP)

run: setup
	$(VENV)/bin/streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT) --browser.gatherUsageStats false

test: setup $(RAY_STAMP)
	bash scripts/browser-deps.sh
	$(PY) -m pytest -q

# Day-to-day: everything but the slow, browser and Ray tests (markers in pyproject.toml); CI runs `make test`.
test-fast: setup
	$(PY) -m pytest -q -m "not slow and not browser and not ray"

bench: setup
	$(PY) benchmarks/run_all.py

clean-cache:
	rm -rf .ltrr_cache
