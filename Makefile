# Every target sets itself up: a fresh clone needs only `make run` or `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck protos protos-check pytest bench-smoke bench docker clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "omniroute needs Python >= 3.11, found " + sys.version' 
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: serve the embedded demo network (router :50051, sidecar :50052, metrics :9464)
run: $(STAMP)
	$(BIN)/omniroute serve

## test: lint, type-check, check generated stubs, run the tests and every benchmark once
test: lint typecheck protos-check pytest bench-smoke

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

protos: $(STAMP)
	$(BIN)/python scripts/gen_protos.py

protos-check: $(STAMP)
	$(BIN)/python scripts/gen_protos.py --check

pytest: $(STAMP)
	$(BIN)/pytest

# Benchmarks are tests that cannot rot: each runs once, untimed, in `make test`.
bench-smoke: $(STAMP)
	$(BIN)/pytest bench --benchmark-disable -q

## bench: real benchmark figures: pytest-benchmark suites, routing quality and a gRPC load run,
## written to results/report.md with plots (`scripts/bench_report.py --quick` for a smoke run)
bench: $(STAMP)
	$(BIN)/python scripts/bench_report.py

docker:
	docker build -t omniroute .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .benchmarks .omniroute-state
