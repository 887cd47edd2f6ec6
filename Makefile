# The two commands: `make run` and `make test`. Both set up the virtualenv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO_SONGS ?= 5000
# Where `make run` listens: `PORT=8001 make run`, `ADDRESS=0.0.0.0 make run` (ADDRESS, not HOST: tcsh exports HOST).
ADDRESS ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve test lint test-sqlite test-services bench bench-scale setup clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: setup
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_catalogue --if-empty --songs $(DEMO_SONGS) --demo-admin --audio --covers
	DEBUG=1 STREAM_ANONYMOUS=1 $(PY) manage.py runserver $(ADDRESS):$(PORT)

# Production serving: nginx in front of gunicorn (gunicorn alone without nginx), DEBUG off,
# collected static files (see scripts/serve and deploy/nginx.conf).
serve: setup
	PY=$(PY) scripts/serve

# Lint and layer contracts, then the whole suite twice: on SQLite with the in-memory cache, then
# on throwaway PostgreSQL and Redis servers (skipped with a message when their binaries are
# missing, except under CI=true). Every part runs even when an earlier one fails; the summary
# names what failed and the exit status is non-zero if anything did.
test: setup
	@failed=""; \
	$(MAKE) --no-print-directory lint || failed="$$failed lint"; \
	$(MAKE) --no-print-directory test-sqlite || failed="$$failed test-sqlite"; \
	$(MAKE) --no-print-directory test-services || failed="$$failed test-services"; \
	if [ -n "$$failed" ]; then echo "make test: FAILED:$$failed"; exit 1; fi; \
	echo "make test: lint, SQLite and PostgreSQL + Redis all passed"

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test-sqlite: setup
	$(PY) -m pytest

test-services: setup
	$(PY) scripts/with_services.py -- $(PY) -m pytest

# The benchmark suite (bench/suite.py): a million songs in .bench/, reused between runs; writes
# BENCHMARKS.md. BENCH_SMALL=1: a few thousand songs on throwaway servers (the CI smoke run).
bench: setup
	$(PY) bench/suite.py

# Goal 8 of issue 19: page 1 of every list cold at 10,000,000 songs, in a cluster of its own in .bench/ (seeded once,
# ~9 GB of disk, ~15 minutes to seed); writes bench/scale.json and its section of BENCHMARKS.md, which make bench keeps.
bench-scale: setup
	$(PY) bench/suite.py --scale

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
