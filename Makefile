# Quick start: `make demo` (set up + main job) and `make test` (set up + whole test suite, examples and
# doctests included, then the documentation site built with --strict).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: setup demo test docs serve-docs lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# CPU torch first, pinned: an unpinned torch would pull several GB of CUDA packages.
	$(PIP) install -q -c constraints.txt torch==2.13.0
	$(PIP) install -q -c constraints.txt -e ".[dev,cluster,docs,examples]"
	touch $(STAMP)

demo: setup
	$(PY) -m tradeoff_gym.benchmarks.cli run fig5 --scale quick --out results/demo

test: setup
	$(PY) -m pytest -q
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet --site-dir $$(mktemp -d)

docs: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

serve-docs: setup
	$(VENV)/bin/mkdocs serve

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) results site .pytest_cache
