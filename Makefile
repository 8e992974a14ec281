# The two commands a newcomer needs are `make demo` and `make test`; everything else is a building block.
# Targets create the virtual environment (.venv) and the local control plane (.cluster) when missing.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: all venv deps cluster cluster-down cluster-status lint typecheck imports crds check unit integration \
        test bench demo manifests clean limits conformance screenshots image image-test

all: test

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

deps:
	@testbed/system-deps.sh

# NAME=b: a second, independent control plane (.cluster-b, every port + 50) for multi-cluster work.
CLUSTER_NAME := $(if $(NAME),--name $(NAME))

cluster: deps
	@$(PYTHON) testbed/cluster.py up $(CLUSTER_NAME)

cluster-down:
	@$(PYTHON) testbed/cluster.py down $(CLUSTER_NAME)

cluster-status:
	@$(PYTHON) testbed/cluster.py status $(CLUSTER_NAME)

lint: venv
	$(VENV)/bin/ruff check rollouts analysis tests benchmarks manifests examples testbed tools
typecheck: venv
	$(VENV)/bin/mypy
imports: venv
	$(VENV)/bin/lint-imports
# The CRDs are copied into the kustomize bases and the chart: regenerating them regenerates those too.
crds: venv
	$(PY) -m rollouts.api.crdgen --out crds
	$(PY) manifests/generate.py
manifests: venv
	$(PY) manifests/generate.py

limits: venv
	$(PY) tools/limits.py

check: lint typecheck imports limits

unit: venv
	$(PY) -m pytest tests/unit -q $(PYTEST_ARGS)

# Starts the cluster when it is not running and stops it afterwards only in that case.
test: venv deps check
	@started=0; $(PYTHON) testbed/cluster.py status >/dev/null 2>&1 || started=1; \
	$(PYTHON) testbed/cluster.py up || exit 1; \
	$(PY) -m pytest tests -q -p no:cacheprovider $(PYTEST_ARGS); rc=$$?; \
	if [ $$started = 1 ]; then $(PYTHON) testbed/cluster.py down; fi; exit $$rc

integration: venv deps cluster
	$(PY) -m pytest tests/integration -q $(PYTEST_ARGS)

# Argo Rollouts' own e2e suites against Argo's controller and ours, and the comparison table (about an hour).
# The kit that builds Argo's suites and controller from the module proxy lives outside the project.
CONFORMANCE_KIT ?= ../shared/conformance/argo-e2e
conformance: venv deps
	CONFORMANCE_KIT=$(CONFORMANCE_KIT) testbed/conformance.sh

# The controller image (Dockerfile) with buildah, no daemon; local base images where no registry answers.
image: venv
	@testbed/system-deps.sh image
	testbed/image.sh

# Builds the image and runs its controller (podman, read-only root filesystem) against the testbed.
image-test: image cluster
	ROLLOUTS_IMAGE_TEST=1 $(PY) -m pytest tests/integration/manifests/test_image.py -q $(PYTEST_ARGS)

bench: venv deps cluster
	$(PY) benchmarks/run.py

# The dashboard's pages in headless Chromium (docs/dashboard/*.png, shown in the README); no cluster needed.
screenshots: venv deps
	$(PY) tools/screenshots.py --out docs/dashboard
	$(PY) tools/screenshots.py --out docs/dashboard --dark analysis application

demo: venv deps cluster
	$(PY) examples/demo/run.py

clean: cluster-down
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
