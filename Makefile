# Two commands do everything:  `make demo`  and  `make test`  (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ODR_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/odr_test
PYTEST_ARGS ?= -n 2 --dist loadfile --no-loadscope-reorder
PORT ?= 5000

.PHONY: demo test layers test-sqlite test-postgres install system-deps clean

$(BIN)/odr: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(BIN)/odr

install: $(BIN)/odr

system-deps:
	scripts/install-system-deps

## Install, load demo data, serve on http://127.0.0.1:$(PORT) (make demo PORT=5050)
demo: install
	$(BIN)/odr demo --port $(PORT)

## The whole suite, on SQLite and then on PostgreSQL
test: install system-deps layers test-sqlite test-postgres

## Dependencies point inward: features never import each other (contracts in setup.cfg)
layers: install
	$(BIN)/lint-imports --no-cache

test-sqlite: install
	ODR_REQUIRE_BROWSER=1 $(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)

# The browser tests drive pages and scripts the database does not change; they run once, on SQLite,
# and so do the tests of the served SQLite platform (marked served_sqlite), which would run the same
# again. Every other test (HTTP, Socket.IO, WebRTC, signatures, migrations, queries, the served
# platform's soak and crash test) runs on both.
test-postgres: install
	ODR_TEST_DATABASE_URL=$(ODR_TEST_POSTGRES_URL) $(BIN)/pytest -p no:cacheprovider -m "not e2e and not served_sqlite" $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache test-artifacts
