# nanogest: `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON3 ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.nanogest-installed
DEMO_DIR ?= demo-out

.PHONY: help venv demo test test-python test-firmware virtual-board protocol-header bench clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON3) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(STAMP) ## create .venv and install nanogest with its dependencies

virtual-board: ## build the virtual board (the firmware core for the host, g++)
	$(MAKE) -C firmware host

demo: $(STAMP) virtual-board ## run the whole pipeline on built-in data through the virtual board
	$(PY) -m capture.demo --out $(DEMO_DIR)

test: $(STAMP) ## run every test (Python, firmware host, ARM and QEMU)
	$(PY) -m pytest

protocol-header: $(STAMP) ## regenerate the firmware's protocol header from capture/protocol_spec.py
	$(PY) -m capture gen-protocol-header

bench: $(STAMP) virtual-board ## run the measurements in bench/ and print their tables
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean: ## remove build outputs and demo results (keeps .venv and data)
	rm -rf firmware/build $(DEMO_DIR) .pytest_cache
