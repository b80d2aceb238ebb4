# hwcae: `make hls` (main job) and `make test` are all a fresh clone needs. `make help` lists targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HWCAE  := $(BIN)/hwcae
DESIGN ?=
SYNTH  ?= 0

.DEFAULT_GOAL := help
.PHONY: help venv test train qat eval compare hls rtl rtl-tools power report report-models chromium bench explore clean

help: ## list the targets
	@echo "hwcae make targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'
	@echo "variables: DESIGN=w8a8 (one design for hls/qat/rtl), SYNTH=1 (run vitis_hls/catapult if on PATH), QUICK=1 (report, explore), TRIALS=48 JOBS=1 (explore)"

# The venv is a file target: every other target depends on it, so a fresh clone needs nothing else.
# torch is installed first and pinned: the CPU wheel of 2.13.0 is on this machine's disk.
$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

venv: $(STAMP) ## create .venv and install hwcae with its dependencies

test: $(STAMP) chromium rtl-tools ## run the test suite (tiny models; a few minutes on 2 cores)
	$(BIN)/python -m pytest -q tests

train: $(STAMP) ## retrain the float checkpoints models/float.pt (default), float-conv.pt, float-hw-tiny.pt and float-paper.pt (~4 h on one core; the default alone ~100 min)
	$(HWCAE) train --config default --out models/float.pt --seed 0 --threads 1 --force
	$(HWCAE) train --config conv --out models/float-conv.pt --seed 0 --threads 1 --force
	$(HWCAE) train --config hw-tiny --out models/float-hw-tiny.pt --seed 0 --epochs 9 --force
	$(HWCAE) train --config paper --out models/float-paper.pt --seed 0 --threads 1 --epochs 10 --force

qat: $(STAMP) ## fine-tune every default fixed-point design (models/qat-<design>.pt); DESIGN=paper-w8a8: the seed's model
	$(HWCAE) qat $(if $(DESIGN),--design $(DESIGN),--all) --force

eval: $(STAMP) ## the external suite (float, w8a8, R-D sweep vs PCA per set; the same for the seed's shape), calibrated per level, then the built-in test and unseen splits
	$(HWCAE) eval --suite --checkpoint models/float.pt --checkpoint models/qat-w8a8.pt --checkpoint models/float-conv.pt --rd models/rd/*.pt --json reports/suite.json --force
	$(HWCAE) eval --suite --checkpoint models/float-paper.pt --checkpoint models/qat-paper-w8a8.pt --rd models/rd-paper/*.pt --json reports/suite-paper.json --force
	$(HWCAE) eval --suite --calibrate decoder,codebook,all --checkpoint models/float.pt --checkpoint models/qat-w8a8.pt --json reports/suite-calibrated.json --force
	$(HWCAE) eval --data synth --checkpoint models/float.pt --bounds --by-recording --json reports/eval-test.json --force
	$(HWCAE) eval --data synth:unseen --checkpoint models/float.pt --bounds --by-recording --json reports/eval-unseen.json --force
	$(HWCAE) eval --data synth --checkpoint models/float-conv.pt --by-recording --json reports/eval-conv-test.json --force
	$(HWCAE) eval --data synth:unseen --checkpoint models/float-conv.pt --by-recording --json reports/eval-conv-unseen.json --force

hls: $(STAMP) ## convert the default designs to Vitis + Catapult HLS projects, compile C-sim, verify
	$(HWCAE) hls $(if $(DESIGN),--design $(DESIGN),) $(if $(filter 1,$(SYNTH)),--synth,)

rtl: $(STAMP) rtl-tools ## Verilog for the default designs: Verilator bit-exact vs reference, Yosys gates, netlist sim (hls/build/<design>/rtl/)
	$(HWCAE) rtl $(if $(DESIGN),--design $(DESIGN),) --json reports/rtl.json

# Open EDA tools for make rtl and its tests: Debian's verilator and yosys (CI runs as root).
rtl-tools:
	@command -v verilator >/dev/null 2>&1 && command -v yosys >/dev/null 2>&1 || { echo "installing Debian verilator + yosys (make rtl)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  (apt-get install -y -q verilator yosys >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q verilator yosys >/dev/null)) \
	  || echo "could not install verilator/yosys: make rtl needs them; their tests are skipped"; }

power: $(STAMP) ## per-channel power reports for every design x node (reports/power/)
	$(HWCAE) cost --all --out reports/power --force
	$(HWCAE) cost --checkpoint models/qat-w8a8.pt --tech 65nm --validate

# The design-space search (hwcae explore): explore/space.yaml (the real study; TRIALS=48 took 29 min on one
# core, resumable: run it again), QUICK=1: explore/quick.yaml (a handful of tiny trials, a few minutes).
TRIALS ?= $(if $(filter 1,$(QUICK)),6,48)
JOBS   ?= 1
explore: $(STAMP) ## design-space search: Pareto front of SNDR, uW/channel and area (reports/explore/; QUICK=1: tiny)
	$(HWCAE) explore --space explore/$(if $(filter 1,$(QUICK)),quick,space).yaml --trials $(TRIALS) --jobs $(JOBS) \
	  --out reports/explore$(if $(filter 1,$(QUICK)),-quick,)

bench: $(STAMP) ## speed benchmarks, each beside a baseline from the same run (reports/bench.json)
	$(BIN)/python benchmarks/run.py --out reports/bench.json

report: $(STAMP) ## HTML evaluation report: reports/index.html + PNGs + report.json (QUICK=1: < 5 min)
	$(HWCAE) report --out reports $(if $(filter 1,$(QUICK)),--quick,) --force

report-models: $(STAMP) ## retrain the rate-distortion sweeps' CAEs: models/rd/rd-*.pt (~8 min each on one core), then the seed's shape at the same rates, models/rd-paper/ (warm-started from float-paper.pt, ~15 min each)
	for n in l1 l2 l4 l8 cb16 cb512; do $(HWCAE) train --config rd-$$n --out models/rd/rd-$$n.pt --seed 0 --threads 1 --force || exit 1; done
	for n in l1 l2 l4 l8 cb16 cb512; do $(HWCAE) train --config paper-rd-$$n --init models/float-paper.pt --out models/rd-paper/paper-rd-$$n.pt --seed 0 --threads 1 --force || exit 1; done

# The report test opens the page in Debian's chromium; install it where apt-get can (CI runs as root).
chromium:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian chromium (report browser test)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)) \
	  || echo "could not install chromium: the browser test is skipped outside CI"; }

compare: $(STAMP) ## float vs fixed-point table on the held-out test split (reports/compare.json + .png)
	$(HWCAE) compare --data synth --float models/float.pt --json reports/compare.json --force

clean: ## remove generated HLS projects and reports (keeps .venv and models/)
	rm -rf hls/build reports/*.json reports/*.html reports/*.png reports/power .pytest_cache
