# Set-up on a fresh machine: each target creates .venv if missing, installs torch first
# (a CPU build by default; override e.g. `make test TORCH="torch==2.13.0 --index-url ..."`),
# then the package with its extras.
TORCH ?= torch==2.13.0
# torch's OpenMP threads spin briefly between ops, then sleep (what importing synthhuman sets; the
# benchmark scripts import torch first)
export GOMP_SPINCOUNT ?= 30000
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.synthhuman-installed

.PHONY: demo test bench lint install clean

$(PY):
	python3 -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The main job: 4 clips x 100 frames at 320x240 with the bundled defaults (photo-like backgrounds, fabric
# clothing), a moving camera, two occluders and every image degradation (docs/scenes.md) into
# demo-output/ (replaced each time), and its contact sheet (read back from disk) as docs/preview.png.
demo: $(STAMP)
	rm -rf demo-output
	$(VENV)/bin/synthhuman generate --out demo-output --clips 4 --device cpu --camera moving --occluders 2 --degrade all
	cp demo-output/preview.png docs/preview.png

test: $(STAMP)
	$(PY) -m pytest -q tests

# Benchmarks (docs/benchmarks.md): ours (Warp kernels and the PyTorch path) against Blender Cycles (its own
# venv, benchmarks/.venv-bpy, made on first use) and pytorch3d where importable, scaling curves and plots
# (matplotlib, installed here).
bench: $(STAMP)
	$(VENV)/bin/synthhuman bench --device cpu --batch 32 --height 240 --width 320 --backend warp
	$(VENV)/bin/synthhuman bench --device cpu --batch 32 --height 240 --width 320 --backend torch
	$(PY) -m pip install -q matplotlib
	$(PY) benchmarks/blender_compare.py --frames 17 --batch 32 --iterations 5 --pytorch3d-batch 2
	$(PY) benchmarks/scaling.py
	$(PY) benchmarks/generate_bench.py --clips 16 --runs 2 --onthefly 2
	$(PY) benchmarks/make_doc.py

lint: $(STAMP)
	$(VENV)/bin/ruff check synthhuman tests benchmarks
	$(VENV)/bin/ruff format --check synthhuman tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
