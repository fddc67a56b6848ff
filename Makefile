# nanogest: `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# pip's notes about local wheel mirrors of this machine are noise for users.
PIP_QUIET := 2>&1 | { grep -v -e 'is ignored: it is neither a file nor a directory'; true; }

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
	@echo "installing nanogest and its dependencies into $(VENV) (TensorFlow is large: a minute or two)" >&2
	$(PY) -m pip install --quiet --upgrade pip $(PIP_QUIET)
	$(PY) -m pip install --quiet -e '.[dev]' $(PIP_QUIET)
	$(PY) -c 'import tensorflow, tflite_micro, serial'
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

.PHONY: flash
PIO ?= $(firstword $(wildcard $(VENV)/bin/pio) $(shell command -v pio 2>/dev/null) pio)
flash: $(STAMP) ## put RUN=RUN_DIR's model on the board (PORT=... optional), upload with PlatformIO, verify
	@test -n "$(RUN)" || { echo "error: say which run to flash: make flash RUN=runs/NAME [PORT=/dev/ttyACM0]" >&2; exit 2; }
	@command -v $(PIO) >/dev/null 2>&1 || { echo "error: PlatformIO's pio is not installed; install it with: $(VENV)/bin/pip install platformio (then run make flash RUN=$(RUN) again)" >&2; exit 2; }
	$(PY) -m capture.board_check stage-headers $(RUN)
	$(PIO) run -e nano33ble -t upload $(if $(PORT),--upload-port $(PORT)) || { echo "error: the upload failed (see PlatformIO's message above); check the cable, double-press reset for the bootloader, or pass PORT=..." >&2; exit 1; }
	$(PY) -m capture verify-board --run $(RUN) $(if $(PORT),--port $(PORT))

clean: ## remove build outputs and demo results (keeps .venv and data)
	rm -rf firmware/build $(DEMO_DIR) .pytest_cache
