# The two commands: `make demo` (run the pipeline on the sample corpus) and `make test`.
# Both build .venv from scratch on a fresh machine; stamps re-install when pyproject changes.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: chromium screenshots demo test test-floors lint bench bench-warc bench-feeds bench-normalize bench-dedup bench-dedup-real bench-warehouse bench-search-1m bench-lake bench-related bench-api bench-airflow eval-extraction airflow-up clean install install-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[postgres]"
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[postgres,airflow,test]"
	touch $@ $(VENV)/.installed-demo

# The browser suite (tests/integration/test_pages.py) drives Debian's Chromium; Playwright
# never downloads a browser.
CHROMIUM := $(shell command -v chromium || command -v chromium-browser)
chromium:
ifeq ($(CHROMIUM),)
	@command -v apt-get >/dev/null || { echo "install Chromium (Debian: apt-get install chromium)"; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null || \
	  { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
endif

install: $(VENV)/.installed-demo
install-test: $(VENV)/.installed-test

demo: install
	bash examples/demo.sh

test: install-test chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

# Dependency floors are true: the unit suite in a separate venv holding the LOWEST versions
# pyproject.toml allows for every direct dependency (uv's lowest-direct resolution).
# .ci/run runs it after `make test`.
FLOORS := .venv-floors
test-floors: install-test
	$(BIN)/uv venv -q --allow-existing --python $(PYTHON) $(FLOORS)
	$(BIN)/uv pip install -q --python $(FLOORS)/bin/python --resolution lowest-direct -e ".[test]"
	$(FLOORS)/bin/python -m pytest -q -p no:cacheprovider tests/unit

lint: install-test
	$(BIN)/ruff check .

bench: install-test
	$(BIN)/python bench/run_pipeline.py

bench-feeds: install-test
	$(BIN)/python bench/feeds_bench.py

bench-normalize: install-test
	$(BIN)/python bench/normalize_bench.py

# stand-in encoder over invented languages: the scaling exponent only (issue 12 point 8)
bench-dedup: install-test
	$(BIN)/python bench/dedup_bench.py

# the headline: real sentences, the real default encoder chain (use-m,e5), end to end.
# N=100000 by default; e.g. `make bench-dedup-real DEDUP_REAL_ARGS="--n 5000 --json"`
bench-dedup-real: install-test
	$(BIN)/python bench/dedup_real_bench.py $(DEDUP_REAL_ARGS)

# WARC backfill: reading vs bare fastwarc, the extraction path vs plain trafilatura, memory
bench-warc: install-test
	$(BIN)/python bench/warc_bench.py

# both backends at 200,000 articles by default; e.g. `make bench-warehouse WAREHOUSE_ARGS="--n 50000"`
bench-warehouse: install-test
	$(BIN)/python bench/warehouse_bench.py $(WAREHOUSE_ARGS)

# issue 15: search latency in the engine at 1,000,000 articles (minutes; not part of make test)
bench-search-1m: install-test
	$(BIN)/python bench/warehouse_bench.py --engine-only --n 1000000

# issue 14: 10,000-row batches into the articles Delta table vs plain pq.write_table (local, S3)
bench-lake: install-test
	$(BIN)/python bench/lake_write_bench.py

bench-related: install-test
	$(BIN)/python bench/related_bench.py

# issue 15: the API at 1,000,000 articles (mapped snapshots, publish under load, per-worker
# RSS/PSS/USS, a trivial ASGI app beside it); e.g. `make bench-api API_ARGS="--articles 100000"`
bench-api: install-test
	$(BIN)/python bench/api_bench.py $(API_ARGS)

# DAG parse cost, then a real LocalExecutor deployment end to end (needs PostgreSQL)
bench-airflow: install-test
	$(BIN)/python bench/airflow_parse.py
	$(BIN)/python bench/airflow_e2e.py

eval-extraction: install
	$(BIN)/newsflow eval extraction ../shared/corpora/html

# A local Airflow (api-server, scheduler, dag-processor, triggerer) on loopback; docs/airflow.md
airflow-up: install-test
	bash deploy/airflow-up.sh

# docs/img/*.png for the README and docs/pages.md (not part of make test)
screenshots: install-test chromium
	test -f data/warehouse.duckdb || bash examples/demo.sh >/dev/null
	$(BIN)/python bench/screenshots.py

clean:
	rm -rf data .pytest_cache $(FLOORS)
