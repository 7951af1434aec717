# RadGame: two commands for a fresh machine — `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# The suite runs against the real services (CI starts them; so does this machine's image).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/14
TEST_ENV := DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)}

.PHONY: demo test install lint ml-tests django-tests e2e load-ci soak load bench viewer viewer-check lock sbom clean

$(STAMP): pyproject.toml requirements/lock.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, by exact version: this machine has the CPU build on disk; anything else is GBs.
	$(BIN)/pip install -q torch==2.13.0
	# The lock is a complete freeze (make lock), installed without dependency resolution so that
	# every version is exactly the tested one, and each file must match the lock's sha256.
	$(BIN)/pip install -q --require-hashes --no-deps -r requirements/lock.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: install
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo_setup
	@echo "Serving RadGame on http://$(HOST):$(PORT)/  (Ctrl+C to stop)"
	$(BIN)/python -m radgame.serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	# Medium severity and up, over the code we ship (check --deploy runs in tests/radgame).
	$(BIN)/bandit -q -c pyproject.toml -ll -r apps radgame ml
	env -u DATABASE_URL -u REDIS_URL DJANGO_SETTINGS_MODULE=radgame.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	env -u DATABASE_URL -u REDIS_URL DJANGO_SETTINGS_MODULE=radgame.settings.test $(BIN)/python manage.py check

ml-tests: install
	# ml must run without Django.
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(BIN)/python -m pytest tests/ml -p no:django -q -m "not slow" \
		-W "ignore:Unknown config option:pytest.PytestConfigWarning"

django-tests: install
	$(TEST_ENV) $(BIN)/python -m pytest tests --ignore=tests/ml -q -m "not slow and not e2e"

# Browser tests in their own run: Playwright's sync API keeps an event loop in the main thread,
# which would break the async_to_sync calls of the websocket tests that follow it.
# node_modules from the lockfile: the viewer's build tools and axe-core for the accessibility test.
NODE_STAMP := node_modules/.package-lock.json
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

e2e: install $(NODE_STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest tests --ignore=tests/ml -q -m "e2e and not slow"

# The cohort rush at CI length (RELIABILITY §3, issue 10): 60 residents + 200 idle websockets on
# loopback, 60 s measured. It fails on a correctness verdict (a 5xx, unexpected non-2xx, a lost or
# duplicated answer, an explanation never final, a dropped socket); its latency figures are printed
# and judged at full length on a quiet machine (`make load`).
load-ci: install
	$(BIN)/python bench/load.py --warmup 10 --seconds 60 --gate correctness

test: lint ml-tests django-tests e2e load-ci

# Long runs: the nightly Hypothesis profile, importer fuzzing at FUZZ_EXAMPLES per property
# (docs/reliability.md), and every test marked slow.
soak: install
	HYPOTHESIS_PROFILE=nightly FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-500} $(TEST_ENV) $(BIN)/python -m pytest tests -q -m slow
	# R05's job state machine at 500 sequences (make test runs 60).
	JOB_STATE_EXAMPLES=500 $(TEST_ENV) $(BIN)/python -m pytest tests/inference/test_job_states.py -q
	# S02's list-parameter property at 500 examples (make test runs 40).
	LIST_PARAM_EXAMPLES=500 $(TEST_ENV) $(BIN)/python -m pytest tests/localization/test_list_params.py -q
	# Migrations back to the previous release and forward on RELIABILITY R13's 10,000 attempts.
	MIGRATION_ATTEMPTS=10000 MIGRATION_TIME_GATE=1 $(TEST_ENV) $(BIN)/python -m pytest tests/radgame/test_migration_rollback.py -q
	# The cohort rush, CI length, held to every figure of the pass table (exit 1 on a miss).
	$(BIN)/python bench/load.py --warmup 15 --seconds 60

# The cohort rush at full length (RELIABILITY §3): 30 s warm-up, 5 minutes measured.
load: install
	$(BIN)/python bench/load.py

bench: install
	$(BIN)/python bench/localize.py
	$(BIN)/python bench/report.py
	$(BIN)/python bench/ingest.py

viewer:
	bash scripts/build_viewer.sh

viewer-check:
	bash scripts/build_viewer.sh --check

# Refresh the lock from the current virtualenv (after changing pyproject.toml).
lock:
	mkdir -p var
	$(BIN)/pip freeze --exclude-editable | grep -v '^torch==' > var/pins.txt
	$(BIN)/python scripts/lock_hashes.py var/pins.txt requirements/lock.txt

# The SBOM (CycloneDX JSON) of the installed virtualenv, offline: what this build runs.
sbom: install
	mkdir -p var
	$(BIN)/cyclonedx-py environment $(VENV) --output-reproducible --of JSON -o var/sbom.cdx.json
	@echo "SBOM: var/sbom.cdx.json"

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
