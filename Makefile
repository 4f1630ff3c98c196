# Two commands do all the set-up:
#   make book   build the executed book into _build/html (default profile)
#   make test   unit tests, every chapter under nbval (quick profile), and the book build
# Both create a virtual environment in .venv and install what they need into it.
#   make bench  the performance appendix's benchmarks, with the peers of
#               benchmarks/requirements.txt in their own environment, .venv-bench

PYTHON ?= python3
VENV ?= .venv
# The tested PyTorch build; override for another, e.g. make test TORCH_SPEC='torch>=2.2'
TORCH_SPEC ?= torch==2.13.0
# Extra pip arguments for that install, e.g. --index-url of a CPU-only wheel index
TORCH_PIP_ARGS ?=
BIN := $(VENV)/bin
BENCH_VENV ?= .venv-bench
NOTEBOOKS := $(wildcard book/[0-9][0-9]_*.ipynb)

.PHONY: install book test unit notebooks book-quick bench clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)" $(TORCH_PIP_ARGS)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

book: install
	PHYSDL_PROGRESS=0 $(BIN)/jupyter-book build . --warningiserror --keep-going

test: unit notebooks book-quick

unit: install
	$(BIN)/python -m pytest -p no:cacheprovider tests

notebooks: install
	PHYSDL_PROFILE=quick PHYSDL_PROGRESS=0 $(BIN)/python -m pytest --nbval-lax -p no:cacheprovider $(NOTEBOOKS)

book-quick: install
	PHYSDL_PROFILE=quick PHYSDL_PROGRESS=0 $(BIN)/jupyter-book build . --warningiserror --keep-going --path-output _build/quick

$(BENCH_VENV)/.installed: requirements.txt pyproject.toml benchmarks/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet "$(TORCH_SPEC)" $(TORCH_PIP_ARGS)
	$(BENCH_VENV)/bin/python -m pip install --quiet -r requirements.txt -r benchmarks/requirements.txt
	$(BENCH_VENV)/bin/python -m pip install --quiet --no-deps -e .
	touch $@

bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python benchmarks/run.py

clean:
	rm -rf _build
