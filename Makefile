# The README's two commands: `make main` (install + the main job) and
# `make test` (install test needs + the test suite; what .ci/run calls).
PYTHON ?= python3
WORKDIR ?= workdirs/fmnist_lt100
PYTEST_WORKERS ?= 2
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

.PHONY: data install main test

# Debian's Fashion-MNIST (the original IDX files); nothing is downloaded at
# run time.
data:
	@test -f $(FMNIST) || { $(SUDO) apt-get update -qq && \
	  $(SUDO) apt-get install -y -qq dataset-fashion-mnist; }

install:
	$(PYTHON) -m pip install -q -e .

main: data install
	$(PYTHON) launch/compare.py --workdir=$(WORKDIR)

test: data
	$(PYTHON) -m pip install -q -e '.[test]'
	$(PYTHON) -m pytest -q -n $(PYTEST_WORKERS) --dist=worksteal --durations=15 tests
