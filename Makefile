# nanogest: `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# pip's notes about local wheel mirrors of this machine are noise for users.
PIP_QUIET := 2>&1 | { grep -v -e 'is ignored: it is neither a file nor a directory'; true; }

PYTHON3 ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
NANOGEST := $(VENV)/bin/nanogest
STAMP := $(VENV)/.nanogest-installed
DEMO_DIR ?= demo-out

.PHONY: help venv demo search test test-python test-firmware virtual-board protocol-header contract-header default-model bench bench-import bench-resample show clean

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

virtual-board: ## build the virtual board (the firmware core for the host, g++; a run's own is built from its header on first use)
	$(MAKE) -C firmware host

demo: $(STAMP) virtual-board ## run the whole pipeline on built-in data through the virtual board
	$(NANOGEST) demo --out $(DEMO_DIR)

search: $(STAMP) ## search DATA=DATA_DIR OUT=SEARCH_DIR [TRIALS=20] [RATES=full,60] [CONFIRM=3] [CONFIRM_SEEDS=1] for the most accurate model that fits (nanogest search: RATES the model's rates, CONFIRM the best trials scored again with CONFIRM_SEEDS more seeds before choosing, 0 = off)
	@test -n "$(DATA)" -a -n "$(OUT)" || { echo "error: say which data and where: make search DATA=data OUT=searches/NAME" >&2; exit 2; }
	$(NANOGEST) search $(DATA) --out $(OUT) --trials $(or $(TRIALS),20) $(if $(RATES),--rates $(RATES)) \
		$(if $(CONFIRM),--confirm $(CONFIRM)) $(if $(CONFIRM_SEEDS),--confirm-seeds $(CONFIRM_SEEDS))

test: $(STAMP) ## run every test (Python, firmware host, ARM and QEMU)
	$(PY) -m pytest

protocol-header: $(STAMP) ## regenerate the firmware's protocol header from capture/wire/protocol_spec.py
	$(NANOGEST) gen-protocol-header

contract-header: $(STAMP) ## regenerate the firmware's contract headers (defaults, IMU scales, resample limit) from contract/
	$(NANOGEST) gen-contract-header

default-model: $(STAMP) virtual-board ## regenerate the committed default model: the demo's people, conv1d, seed 1 (boardtools/default_model.py); commit what it writes
	$(NANOGEST) default-model

bench-resample: $(STAMP) virtual-board ## one model on both revisions: replay agreement, Rev2 accuracy, resampling cost
	$(PY) bench/bench_resample.py

bench: $(STAMP) virtual-board ## run the measurements in bench/ and print their tables
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

bench-import: $(STAMP) ## import speed (1 M rows, old parser vs pandas) and real files: import = import-arduino
	nice -n 5 $(PY) bench/bench_import_speed.py
	nice -n 5 $(PY) bench/bench_import_real.py

show: $(STAMP) ## draw each label's takes overlaid: make show DATA=DATA_DIR (PNGs in DATA_DIR/.show/)
	@test -n "$(DATA)" || { echo "error: say which dataset: make show DATA=data" >&2; exit 2; }
	$(NANOGEST) show $(DATA)

# The real board (PlatformIO, platformio.ini at the root). pio is looked for in the venv,
# then on PATH; without one, firmware and flash first install the [board] extra into the venv
# (make platformio). Its registry must be reachable the first time (it downloads the platform,
# the Arduino core, the toolchain and the pinned libraries).
.PHONY: platformio firmware install-model flash
PIO ?= $(or $(firstword $(wildcard $(VENV)/bin/pio) $(shell command -v pio 2>/dev/null)),$(VENV)/bin/pio)
PIO_IF_MISSING := $(if $(shell command -v $(PIO) 2>/dev/null),,platformio)
NEED_PIO = @command -v $(PIO) >/dev/null 2>&1 || { echo "error: PlatformIO's pio is not installed; install it with: make platformio (= $(VENV)/bin/pip install -e '.[board]'), then run make $@$(if $(RUN), RUN=$(RUN)) again" >&2; exit 2; }

platformio: $(STAMP) ## install PlatformIO into .venv (the [board] extra: pip install -e '.[board]'); firmware and flash do it when pio is missing
	$(PY) -m pip install --quiet -e '.[board]' $(PIP_QUIET)
NEED_RUN = @test -n "$(RUN)" || { echo "error: say which run: make $@ RUN=runs/NAME (a run converted with nanogest convert)" >&2; exit 2; }

firmware: $(PIO_IF_MISSING) ## build the board's firmware with the installed model (= pio run -e nano33ble)
	$(NEED_PIO)
	$(PIO) run -e nano33ble

install-model: $(STAMP) ## put converted run RUN=RUN_DIR's headers into the firmware (nanogest install)
	$(NEED_RUN)
	$(NANOGEST) install $(RUN)

flash: $(STAMP) $(PIO_IF_MISSING) ## install RUN=RUN_DIR's model, upload with PlatformIO (PORT=... optional), verify the board runs it
	$(NEED_RUN)
	$(NEED_PIO)
	$(NANOGEST) install $(RUN)
	$(PIO) run -e nano33ble -t upload $(if $(PORT),--upload-port $(PORT)) || { echo "error: the upload failed (see PlatformIO's message above); check the cable, double-press reset for the bootloader, or pass PORT=..." >&2; exit 1; }
	$(NANOGEST) verify-board --run $(RUN) $(if $(PORT),--port $(PORT))

clean: ## remove build outputs and demo results (keeps .venv and data)
	rm -rf firmware/build $(DEMO_DIR) .pytest_cache
