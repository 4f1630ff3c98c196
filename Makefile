# Two commands do all the set-up:
#   make book   build the executed book into _build/html (default profile); a rebuild executes
#               only the chapters whose code changed, or all of them when physdl/ changed
#   make test   unit tests, every Colab notebook under nbval (quick profile), the book build and
#               a check of its HTML for rendering defects (book/check_html.py)
#   make colab  regenerate notebooks/ (the Colab notebooks) from the chapters in book/
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
NOTEBOOKS := $(wildcard notebooks/[0-9][0-9]_*.ipynb)
CHAPTERS := $(wildcard book/[0-9][0-9]_*.md)

.PHONY: install book test unit notebooks book-quick colab bench clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml physdl/__init__.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)" $(TORCH_PIP_ARGS)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# One execution cache per profile (each build has its own output folder). jupyter-cache keys a
# chapter on its code only, so the cache is emptied whenever the physdl sources change.
define physdl_sources_unchanged
	@mkdir -p $(1)
	@hash=$$(find physdl -name '*.py' | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16); \
	if [ "$$(cat $(1)/.physdl-sources 2>/dev/null)" != "$$hash" ]; then \
		echo "physdl/ changed: every chapter executes"; rm -rf $(1)/.jupyter_cache; \
		echo "$$hash" > $(1)/.physdl-sources; fi
endef

book: install
	$(call physdl_sources_unchanged,_build)
	PHYSDL_PROFILE=default PHYSDL_PROGRESS=0 $(BIN)/jupyter-book build . --warningiserror --keep-going

# The notebooks and the quick book each execute every chapter; they run side by side, one
# torch thread each, which on two cores takes less time than one after the other with two
# threads each (the chapters' small tensors leave a second thread mostly idle).
test: unit
	$(MAKE) --no-print-directory -j2 --output-sync=target notebooks book-quick TORCH_THREADS=1
	$(BIN)/python book/check_html.py _build/quick/_build/html

# Torch threads of each executed notebook (empty: torch's default, one per core).
TORCH_THREADS ?=
THREADS_ENV = $(if $(TORCH_THREADS),OMP_NUM_THREADS=$(TORCH_THREADS))

# The unit tests run in two pytest-xdist workers with one torch thread each: their tensors are
# small, so two tests side by side use the two cores better than one test with two threads.
UNIT_WORKERS ?= 2

unit: install
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -p no:cacheprovider -n $(UNIT_WORKERS) --durations=10 tests

# nbval runs the generated Colab notebooks, with physdl's device check on (physdl.devicecheck:
# its entry points run with the default device set to "meta", so a tensor made without a
# device fails); then every entry point the chapters call must have passed that check.
notebooks: install
	@mkdir -p _build && rm -f _build/device-check.log
	$(THREADS_ENV) PHYSDL_DEVICE_CHECK=$(CURDIR)/_build/device-check.log PHYSDL_PROFILE=quick PHYSDL_PROGRESS=0 \
		$(BIN)/python -m pytest --nbval-lax -p no:cacheprovider $(NOTEBOOKS)
	$(BIN)/python -m physdl.devicecheck _build/device-check.log $(CHAPTERS)

book-quick: install
	$(call physdl_sources_unchanged,_build/quick/_build)
	$(THREADS_ENV) PHYSDL_PROFILE=quick PHYSDL_PROGRESS=0 $(BIN)/jupyter-book build . --warningiserror --keep-going --path-output _build/quick

colab: install
	$(BIN)/python book/make_notebooks.py

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
