# The two entry points of the README. Both install everything first (scripts/setup.sh).
PYTHON ?= python3

.PHONY: setup demo test bench gallery

setup:
	bash scripts/setup.sh

demo: setup
	$(PYTHON) -m cnnlab demo

test: setup
	$(PYTHON) -m pytest -n 2 --dist loadfile

bench: setup
	$(PYTHON) benchmarks/ops.py
	$(PYTHON) benchmarks/bench.py
