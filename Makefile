# syndicate: two commands on a fresh machine with Python 3.11+ and make.
#   make serve   create .venv, install, make a demo store if none, serve on 127.0.0.1:8080
#   make test    create .venv with the test extras, lint, type-check and run every test

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CONFIG ?= config.toml

.PHONY: serve test lint format check docs clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "syndicate needs Python 3.11 or newer; set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.run-installed

serve: $(VENV)/.run-installed
	$(BIN)/syndicate --config $(CONFIG) demo --if-empty
	exec $(BIN)/syndicate --config $(CONFIG) serve

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.test-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/python -m pytest

check: $(VENV)/.run-installed
	$(BIN)/syndicate --config $(CONFIG) check

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis

docs: $(VENV)/.run-installed
	$(BIN)/python -c "import re, pathlib; from syndicate.configdocs import keys_markdown as k; p = pathlib.Path('README.md'); t = p.read_text(); p.write_text(re.sub(r'(<!-- config-keys:start -->\n).*?(<!-- config-keys:end -->)', lambda m: m.group(1) + k() + '\n' + m.group(2), t, flags=re.S))"
