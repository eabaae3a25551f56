# Two commands: `make run` and `make test`. Everything else is set up by them.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501
PIP_VERSION := 26.3
# requirements.lock: every package of the app and its test and spark extras, pinned with hashes.
LOCK_FLAGS := --extra test --extra spark --generate-hashes --allow-unsafe --all-build-deps \
	--strip-extras --no-emit-index-url --no-emit-find-links --no-emit-trusted-host

.PHONY: run test mutants mutmut upgrade lint format bench browser java sample clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q pip==$(PIP_VERSION)

# Installed from the lock only (pip refuses a file whose hash differs), then the app itself,
# editable, with the setuptools the lock pinned.
$(STAMP): pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install -q --require-hashes -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/scalegate run --server.port $(PORT)

# Refresh the lock to the newest releases pyproject.toml allows; `make test` then installs them.
upgrade: | $(BIN)/python
	$(BIN)/python -m pip install -q pip-tools
	$(BIN)/pip-compile -q --upgrade $(LOCK_FLAGS) -o requirements.lock pyproject.toml

# The browser tests need Debian's Chromium; install it when it is missing (root on CI, as here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium missing: run 'sudo apt-get install -y chromium' (browser tests will be skipped)"; fi; }

# The Spark tests start a local Spark, which needs Java 17+: install a JRE when it is missing
# (root on CI, as here). Without Java the run fails here; the Spark tests are never skipped.
java:
	@command -v java >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && \
	    apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	  else echo "Java missing: run 'sudo apt-get install -y openjdk-17-jre-headless'"; exit 1; fi; }
	@java -version 2>&1 | head -1

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(STAMP) browser java lint
	$(BIN)/python -m pytest -q

# Break each verdict and safety rule on purpose (in a temporary copy) and check a test notices.
mutants: $(STAMP)
	$(BIN)/python tests/mutants.py

# mutmut's own mutants of every module of analytics/decide and of the export's formula
# neutralisation, each run against the quick tests that call the mutated function ([tool.mutmut]
# in pyproject.toml); prints the score per module and in total, exits 1 below 90%. The whole
# scope is hours of CPU: one module at a time keeps the others' results in mutants/, e.g.
#   make mutmut MUTMUT_NAMES="'analytics.decide.verdict.*'"
MUTMUT_NAMES := 'analytics.decide.*' 'analytics.present.export.x_neutralise__*' \
	'analytics.present.export.x__cell__*' 'analytics.present.export.x__safe_frame__*' \
	'analytics.present.export.x_to_csv_bytes__*'
mutmut: $(STAMP)
	PYTHONPATH= nice -n 19 $(BIN)/mutmut run --max-children 2 $(MUTMUT_NAMES)
	$(BIN)/python tests/mutmut_score.py $(MUTMUT_NAMES)

bench: $(STAMP)
	$(BIN)/python -m bench

sample: $(STAMP)
	$(BIN)/python -m data.generate --out data/sample.csv

clean:
	rm -rf $(VENV) data/scalegate.duckdb data/scalegate.duckdb.wal
