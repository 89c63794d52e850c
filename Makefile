# Skyddsnät. `make run` and `make test` are the two commands a newcomer needs (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
DEMO_ENV := SKYDDSNAT_DEBUG=true
# The suite runs on every CPU (pytest-xdist, one database per worker); TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto

.PHONY: run test test-postgres test-browser quality format messages install clean

# The virtual environment is rebuilt whenever a requirements file changes.
$(VENV)/.installed: requirements/base.txt requirements/dev.txt
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Skyddsnät needs Python 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	touch $@

install: $(VENV)/.installed

## run: set everything up and serve the demo (SQLite, demo data) on http://$(HOST):$(PORT)/
run: $(VENV)/.installed
	mkdir -p var
	$(DEMO_ENV) $(PY) manage.py migrate --noinput
	$(DEMO_ENV) $(PY) manage.py migrate --noinput --database keys
	$(DEMO_ENV) $(PY) manage.py seed_demo
	@$(DEMO_ENV) $(PY) manage.py demo_instructions --url http://$(HOST):$(PORT)/
	$(DEMO_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

## test: the whole test suite on SQLite (browser tests included when Chromium is installed)
test: $(VENV)/.installed
	$(PY) -m pytest -n $(TEST_WORKERS)

## test-postgres: the suite against PostgreSQL (browser tests: make test-browser)
test-postgres: $(VENV)/.installed
	DATABASE_URL=$(POSTGRES_URL) $(PY) -m pytest -n $(TEST_WORKERS) -m "not browser"

## test-browser: only the Chromium tests
test-browser: $(VENV)/.installed
	$(PY) -m pytest -n $(TEST_WORKERS) -m browser

## quality: lint, format check, types, migrations in step with the models, translations compiled
quality: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(PY) manage.py makemigrations --check --dry-run --settings=coordination.settings_test

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## messages: refresh the English catalogue and compile it (needs GNU gettext)
messages: $(VENV)/.installed
	$(DEMO_ENV) $(PY) manage.py makemessages --locale en --ignore '.venv/*' --ignore 'tests/*' --no-obsolete --add-location file
	$(DEMO_ENV) $(PY) manage.py compilemessages --locale en --ignore '.venv/*'

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
