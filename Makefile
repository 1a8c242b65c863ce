# hyla: reproduce the figures, run the tests, measure throughput.
# Every target that runs Python creates the virtual environment $(VENV) first if it is missing.

VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
PRESET  ?= quick
# Where the training runs train (`python -m hyla.reproduce --executor`): local (the default) = the
# runs first, WORKERS processes side by side (0: one per GPU, else one per CPU core), then the
# notebooks read them from the cache; inline = each notebook trains its own runs. local is the
# default because it measured faster for the whole `make figures` on the 2-core CPU, alternated
# with inline (benchmarks/RESULTS.md, section 12); the CSVs are the same either way.
EXECUTOR ?= local
WORKERS  ?= 0
RUN_ARGS := --executor $(EXECUTOR)$(if $(filter local,$(EXECUTOR)),$(if $(filter-out 0,$(WORKERS)), --workers $(WORKERS)))
# 2 pytest-xdist workers: the notebook smoke runs go in parallel; override e.g. `make test PYTEST_ARGS=-n0`.
PYTEST_ARGS ?= -n 2 --dist loadgroup
# The checkout's lib/ first on the path, so this checkout's hyla is used even by an environment made elsewhere.
export PYTHONPATH := $(CURDIR)/lib$(if $(PYTHONPATH),:$(PYTHONPATH))

# The environment of `make test-floors`: pyproject's dependency floors, pinned by tools/floors.txt.
FLOORS_VENV ?= .venv-floors

.PHONY: venv test test-floors figures plots runs smoke bench sync-notebooks check-notebooks clean clean-cache help

help:
	@echo "make figures            run every notebook at PRESET=$(PRESET) -> figures/ (EXECUTOR=$(EXECUTOR), WORKERS=$(WORKERS))"
	@echo "make plots              redraw the figures from their saved data (no training)"
	@echo "make runs               list the training runs of PRESET: cache state, estimated cost"
	@echo "make figure-fig02       run one notebook (prefix match), e.g. make figure-fig02 PRESET=smoke"
	@echo "make smoke              run every notebook at preset smoke (seconds each)"
	@echo "make test               run the test suite (unit tests + notebook smoke runs)"
	@echo "make test-floors        the test suite at the dependency floors (tools/floors.txt)"
	@echo "make bench              throughput benchmark"
	@echo "make sync-notebooks     regenerate notebooks/*.ipynb from their paired .py"
	@echo "make readme             regenerate README.md's tables from figures/data/"
	@echo "make clean              remove executed notebooks and caches of tools (not the run cache)"
	@echo "make clean-cache        remove the training-run cache .cache/runs"

venv: $(PY)

# Created only when missing; a failed install removes the half-built environment.
$(PY):
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }
	$(PY) -m pip install -e '.[notebooks,test,cluster]' || { rm -rf $(VENV); exit 1; }

test: $(PY)
	@$(PY) -m pytest -q $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests" >&2; fi; \
	exit $$rc

# The test suite at the dependency floors (jax 0.7.2 = Colab's); builds $(FLOORS_VENV) afresh.
test-floors:
	rm -rf $(FLOORS_VENV)
	$(PYTHON) -m venv $(FLOORS_VENV)
	$(FLOORS_VENV)/bin/python -m pip install -c tools/floors.txt -e '.[notebooks,test,cluster]'
	$(FLOORS_VENV)/bin/python -m pip list | grep -E -i '^(jax|jaxlib|equinox|optax|jaxtyping|numpy|matplotlib|scikit-learn) '
	@$(FLOORS_VENV)/bin/python -m pytest -q $(PYTEST_ARGS)

figures: $(PY)
	$(PY) -m hyla.reproduce --preset $(PRESET) $(RUN_ARGS)

figure-%: $(PY)
	$(PY) -m hyla.reproduce --preset $(PRESET) --only $* $(RUN_ARGS)

plots: $(PY)
	$(PY) -m hyla.reproduce --replot

runs: $(PY)
	$(PY) -m hyla.reproduce --list-runs --preset $(PRESET)

smoke: $(PY)
	$(PY) -m hyla.reproduce --preset smoke

bench: $(PY)
	$(PY) benchmarks/throughput.py

sync-notebooks: $(PY)
	$(PY) tools/sync_notebooks.py

check-notebooks: $(PY)
	$(PY) tools/sync_notebooks.py --check

.PHONY: readme
readme: $(PY)
	$(PY) tools/readme_table.py

clean:
	rm -rf executed .pytest_cache build dist lib/*.egg-info
	find . -name __pycache__ -type d -not -path './$(VENV)/*' -prune -exec rm -rf {} +
	find notebooks -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +

clean-cache:
	rm -rf .cache/runs
