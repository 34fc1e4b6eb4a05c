# mnistlab: `make demo` sets up and runs a short real study; `make test` sets up and runs the tests.
# Offline (as on CI), point MNISTLAB_DATA at a folder holding the four MNIST IDX files.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install demo test bench tui clean

$(BIN)/mnistlab: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "mnistlab needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	@touch $@

install: $(BIN)/mnistlab

demo: install
	$(BIN)/mnistlab data verify || $(BIN)/mnistlab data download
	$(BIN)/mnistlab study zoo --regime 1000 --nets 1,2,10.1,13.1 --wait
	@echo
	@echo "Done. See the results again with: $(BIN)/mnistlab study show zoo   (or $(BIN)/mnistlab tui)"

test: install
	@$(BIN)/python -c 'import hypothesis, kornia' 2>/dev/null || { echo "the tests need the test and bench extras: $(BIN)/pip install -e '.[test,bench]'"; exit 1; }
	$(BIN)/python -m pytest

bench: install
	$(BIN)/mnistlab bench engine

tui: install
	$(BIN)/mnistlab tui

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
