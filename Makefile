# Two commands: `make run` and `make test`. Everything else is set up by them.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test mutants lint format bench browser java sample clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,spark]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m analytics init-sample
	$(BIN)/python -m ui.serve --server.address 127.0.0.1 --server.port $(PORT) --browser.gatherUsageStats false

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

bench: $(STAMP)
	$(BIN)/python -m bench

sample: $(STAMP)
	$(BIN)/python -m data.generate --out data/sample.csv

clean:
	rm -rf $(VENV) data/scalegate.duckdb data/scalegate.duckdb.wal
