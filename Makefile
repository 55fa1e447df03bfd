# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test fuzz screenshots lint typecheck bench-quick clean translations messages \
	image-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## translations: compile the gettext catalogues (.po, in the repo) to .mo (not in the repo)
CATALOGUES := $(wildcard campaign/translations/*/LC_MESSAGES/*.po)
translations: $(CATALOGUES:.po=.mo)
campaign/translations/%.mo: campaign/translations/%.po | $(STAMP)
	$(BIN)/pybabel -q compile -i $< -o $@

## messages: extract every translatable string and update each locale's catalogue
messages: $(STAMP)
	BIN=$(BIN) scripts/messages

## run: start the app on http://127.0.0.1:5000 (SQLite under var/, in-process worker)
run: $(STAMP) translations
	$(BIN)/campaign db upgrade
	@echo "Serving on http://127.0.0.1:5000 — API docs at /api/docs, health at /healthz."
	@echo "Load the seed case (UA 135/10): .venv/bin/campaign demo   (then see README.md)"
	$(BIN)/campaign run --host 127.0.0.1 --port 5000

# Test processes side by side (pytest-xdist, a module per process at a time, the browser tests
# all in one: tests/scheduling.py): most tests wait on servers, browsers and workers, so three
# keep two cores busy. TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 3

## test: lint, types, import contracts, every test on SQLite and throwaway PostgreSQL and Redis
## (the tests' server skips fsync; the benches' quick runs keep PostgreSQL's durable defaults)
test: $(STAMP) translations
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	PG_DURABLE=0 scripts/with-services $(BIN)/pytest -p no:cacheprovider \
		-n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)
	scripts/with-services $(BIN)/python -m bench.append --quick --neighbour
	scripts/with-services $(BIN)/python -m bench.rebuild --quick
	scripts/with-services $(BIN)/python -m bench.deadline_scan --quick
	scripts/with-services $(BIN)/python -m bench.api --quick
	scripts/with-services $(BIN)/python -m bench.fanout --quick
	scripts/with-services $(BIN)/python -m bench.webhooks --quick
	scripts/with-services $(BIN)/python -m bench.dashboard --quick

## fuzz: Schemathesis, every phase and check, against gunicorn on SQLite and PostgreSQL
## (docs/fuzzing.md; about 20 minutes on 2 cores; reports under var/fuzz/)
FUZZ_EXAMPLES ?= 40
fuzz: $(STAMP)
	PG_DURABLE=0 scripts/with-services scripts/fuzz sqlite postgres --max-examples $(FUZZ_EXAMPLES)

## screenshots: the browser tests, writing docs/screenshots/<page>-<locale>.png as they go
screenshots: $(STAMP) translations
	DOCS_SCREENSHOTS=1 $(BIN)/pytest -p no:cacheprovider -q tests/browser

## image-test: build the container image and run it with compose (needs a container engine:
## `docker info` must answer; docs/operations.md, "Containers")
image-test:
	scripts/image-test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
