# cs-playbook. `make` or `make help` lists the targets.
# Every target sets up what it needs (virtual environment, pinned packages, PDF libraries,
# demo data) and skips what is already done.

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CLIENT ?=
PERIOD ?=
AS_OF  ?=
DEMO_DATA := data/demo/.generated

.PHONY: help report reports test lab check demo contract-doc lint notebooks bench clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): requirements.txt pyproject.toml
	@echo "Setting up $(VENV) with the pinned packages (first run takes about a minute)..."
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# (grep drops pip's warnings about index folders configured on some machines)
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt 2>&1 \
	  | { grep -v "is ignored: it is neither a file nor a directory" || true; }
	@$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e . 2>&1 \
	  | { grep -v "is ignored: it is neither a file nor a directory" || true; }
	@# rfc3987-syntax only serves a jsonschema format check nobody here uses, and costs
	@# ~0.9 s at every nbformat import (see shared stack notes); pip check passes without it.
	@$(PY) -m pip uninstall --quiet --yes rfc3987-syntax >/dev/null 2>&1 || true
	@# WeasyPrint (the PDF engine) needs Pango from the system, CairoSVG (the slides' charts)
	@# Cairo; Debian machines usually have them. Install the Debian packages only when an
	@# import fails.
	@$(PY) -c "import weasyprint, cairosvg" >/dev/null 2>&1 || { \
	  echo "Installing WeasyPrint's and CairoSVG's system libraries (Debian packages)..."; \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq libpango-1.0-0 \
	    libpangoft2-1.0-0 libharfbuzz-subset0 libcairo2 fonts-dejavu-core >/dev/null; \
	  $(PY) -c "import weasyprint, cairosvg"; }
	@touch $(STAMP)

# The demo data is (re)generated when it is missing or when the generator changed, never
# because the virtual environment is newer (order-only prerequisite), and the generator
# leaves data/demo as it is when a file there was edited or added (its .generated marker
# records every file's SHA-256): it says so, and `make` goes on with the edited data.
$(DEMO_DATA): $(wildcard playbook/demo/*.py) | $(STAMP)
	@$(PY) -m playbook.cli demo --keep-edited

demo: $(DEMO_DATA) ## Generate the demo client's data (data/demo/), if missing

report: $(STAMP) ## Produce a client's report: make report CLIENT=demo [PERIOD=2026-Q3 | AS_OF=2026-09-30]
	@test -n "$(CLIENT)" || { echo "Set CLIENT, e.g. make report CLIENT=demo"; exit 2; }
	@if [ "$(CLIENT)" = "demo" ]; then $(MAKE) --no-print-directory $(DEMO_DATA); fi
	@$(PY) -m playbook.cli report "$(CLIENT)" --period "$(PERIOD)" --as-of "$(AS_OF)"

.PHONY: slides slides-template
slides: $(STAMP) ## Write report.pptx again for a published report (the report writes it too): make slides CLIENT=demo [PERIOD=2026-Q3]
	@test -n "$(CLIENT)" || { echo "Set CLIENT, e.g. make slides CLIENT=demo"; exit 2; }
	@$(PY) -m playbook.cli slides "$(CLIENT)" --period "$(PERIOD)" --as-of "$(AS_OF)"

slides-template: $(STAMP) ## Regenerate the deck template templates/slides/house.pptx from playbook/slides_style.py
	@$(PY) -m playbook.slides_template templates/slides/house.pptx

reports: $(STAMP) $(DEMO_DATA) ## Run every client in params/ (all cores; DASK=tcp://host:8786 for a cluster) and write reports/index.html
	@for s in ravenstack churnsim; do if [ -f params/$$s.yaml ] && [ ! -d data/$$s ]; then \
	  $(MAKE) --no-print-directory $$s || true; fi; done
	@$(PY) -m playbook.cli reports --period "$(PERIOD)" $(if $(DASK),--dask "$(DASK)")

check: $(STAMP) ## Validate a client's params and data without running analyses: make check CLIENT=acme
	@test -n "$(CLIENT)" || { echo "Set CLIENT, e.g. make check CLIENT=demo"; exit 2; }
	@if [ "$(CLIENT)" = "demo" ]; then $(MAKE) --no-print-directory $(DEMO_DATA); fi
	@$(PY) -m playbook.cli check "$(CLIENT)" --period "$(PERIOD)" --as-of "$(AS_OF)"

.PHONY: client data-request notes
client: $(STAMP) ## Scaffold params/<client>.yaml from the files in data/<client>/: make client CLIENT=acme [FORCE=1]
	@test -n "$(CLIENT)" || { echo "Set CLIENT, e.g. make client CLIENT=acme (files in data/acme/)"; exit 2; }
	@$(PY) -m playbook.cli client "$(CLIENT)" $(if $(FORCE),--force)

notes: $(STAMP) ## Write params/<client>.notes.yaml from the last run (exhibit ids, generated titles): make notes CLIENT=acme [FORCE=1]
	@test -n "$(CLIENT)" || { echo "Set CLIENT, e.g. make notes CLIENT=demo (after make report)"; exit 2; }
	@$(PY) -m playbook.cli notes "$(CLIENT)" $(if $(FORCE),--force)

data-request: $(STAMP) ## Write the data request to send a client (HTML, PDF, blank XLSX): make data-request [CLIENT=acme]
	@$(PY) -m playbook.cli data-request $(if $(CLIENT),"$(CLIENT)")

test: $(STAMP) $(DEMO_DATA) ## Run lint, unit tests, the end-to-end render and every notebook
	@$(VENV)/bin/ruff check playbook tests bench notebooks
	@# two processes, one test file each (--dist loadfile keeps a module's fixtures together)
	@$(PY) -m pytest -n 2 --dist loadfile tests
	@$(PY) -m pytest --nbval-lax -p no:cacheprovider notebooks/

lab: $(STAMP) $(DEMO_DATA) ## Open JupyterLab on the notebooks (the package is importable)
	@$(VENV)/bin/jupyter lab --notebook-dir=notebooks $$( [ "$$(id -u)" -eq 0 ] && echo --allow-root )

contract-doc: $(STAMP) ## Regenerate docs/data-contract.md from playbook/contract.py
	@$(PY) -m playbook.cli contract-doc --out docs/data-contract.md

lint: $(STAMP) ## Run ruff on the package, tests, benchmarks and notebook scripts
	@$(VENV)/bin/ruff check playbook tests bench notebooks

notebooks: $(STAMP) ## Sync each notebook with its paired percent script (edit either, then run this)
	@$(VENV)/bin/jupytext --sync --quiet notebooks/*.ipynb
	@$(PY) -m nbstripout --keep-id notebooks/*.ipynb

BENCH_SIZES ?= 1000,10000
bench: $(STAMP) ## Time each stage at BENCH_SIZES accounts (add 100000: ~10 min more); appends to bench/results.md
	@BENCH_SIZES="$(BENCH_SIZES)" $(PY) bench/run.py

clean: ## Remove reports and the generated demo data (keeps .venv)
	rm -rf reports data/demo

# Public samples shipped as example clients, mapped by params/<name>.yaml only: RavenStack (a
# synthetic SaaS export that contradicts itself) and ChurnSim (the "Fighting Churn with Data"
# simulator's billing export). See PROVENANCE.md in ../shared/data/<name>/. The copy never
# overwrites: a file already in data/<name>/ that differs from the sample stops it.
SAMPLES_SRC ?= $(CURDIR)/../shared/data
RAVENSTACK_SRC ?= $(SAMPLES_SRC)/ravenstack
CHURNSIM_SRC ?= $(SAMPLES_SRC)/churnsim
define copy_sample
	@test -d "$(2)" && ls "$(2)"/*.csv >/dev/null 2>&1 || { \
	  echo "The $(1) sample is not at $(2) (expected its *.csv files)."; \
	  echo "Put the shared data folder beside this checkout, or pass $(3)=/path/to/$(1)."; \
	  exit 2; }
	@mkdir -p data/$(1)
	@for f in "$(2)"/*.csv; do t="data/$(1)/$$(basename "$$f")"; \
	  if [ -e "$$t" ] || [ -L "$$t" ]; then cmp -s "$$f" "$$t" || { \
	    echo "data/$(1)/$$(basename "$$f") differs from the sample: not overwritten (remove it to take the sample's)."; \
	    exit 2; }; else install -m 0644 "$$f" "$$t"; fi; done
	@echo "data/$(1)/ holds the $(1) sample; run: make report CLIENT=$(1)"
endef
.PHONY: ravenstack churnsim
ravenstack: ## Copy the RavenStack sample from ../shared/data/ravenstack into data/ravenstack/
	$(call copy_sample,ravenstack,$(RAVENSTACK_SRC),RAVENSTACK_SRC)

churnsim: ## Copy the ChurnSim sample from ../shared/data/churnsim into data/churnsim/
	$(call copy_sample,churnsim,$(CHURNSIM_SRC),CHURNSIM_SRC)
