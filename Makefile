# Mentorship — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Test processes (pytest-xdist). Two match this project's CI machines; on
# Redis the tests use databases 0-15, eight per process, so two at most.
TEST_WORKERS ?= 2

# Local development runs in debug mode unless the environment says otherwise.
export DJANGO_DEBUG ?= 1

.PHONY: install install-dev run serve migrate seed test test-future test-postgres lint format worker beat bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

## run: fresh clone → .venv, install, migrate, demo data, serve on http://127.0.0.1:8000
run: seed
	SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}" $(BIN)/python manage.py runserver $(HOST):$(PORT)

## test: fresh clone → install, run the whole suite (SQLite unless DATABASE_URL is set)
test: install-dev
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

## test-future: the suite but the browser tests, on SQLite, with the process clock 400 days
## ahead (Debian's faketime; child processes too), so a test that builds data from a literal
## date while the code reads the real clock fails today instead of on that date
test-future: install-dev
	@command -v faketime >/dev/null 2>&1 || { \
	  echo "make test-future needs faketime: sudo apt-get install faketime" >&2; exit 1; }
	env -u DATABASE_URL -u CELERY_BROKER_URL -u REDIS_URL \
	  faketime -f +400d $(BIN)/pytest -m "not browser" -n $(TEST_WORKERS) $(PYTEST_ARGS)

## test-postgres: the suite against the local PostgreSQL and Redis, as CI runs it
test-postgres: install-dev
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/mentorship \
	CELERY_BROKER_URL=redis://127.0.0.1:6379/0 REDIS_URL=redis://127.0.0.1:6379/1 \
	$(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## worker / beat: need CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0)
worker: install
	$(BIN)/celery -A mentorship worker --loglevel=INFO

beat: install
	$(BIN)/celery -A mentorship beat --loglevel=INFO --schedule=var/celerybeat-schedule

## bench: seed 10k mentors; endpoints as ratios to a bare view, bookings, contention, load mix, memory, 30k directory; the targets (BENCH_ARGS="--cache redis ...")
bench: install-dev
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/ .pytest_cache .ruff_cache test-artifacts
