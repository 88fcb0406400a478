# Everything from nothing: `make test` and `make demo` create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo bench lint typecheck clean postgres-server

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# the PostgreSQL tests start a throwaway cluster with the server's initdb/pg_ctl: install the
# server when it is missing and we may (root, apt-get); JXC_PG_DSN (a server of your own) or
# JXC_SKIP_POSTGRES=1 need none
postgres-server:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
	  || [ -n "$$JXC_PG_DSN" ] || [ "$$JXC_SKIP_POSTGRES" = 1 ] \
	  || if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	       apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; \
	     else \
	       echo "PostgreSQL server not found: apt-get install postgresql (as root), or set" \
	            "JXC_PG_DSN, or JXC_SKIP_POSTGRES=1 to skip its tests"; \
	     fi

test: $(STAMP) postgres-server
	$(BIN)/python -m pytest
	$(BIN)/python -m mypy --strict src
	$(BIN)/python -m ruff check src tests benchmarks

demo: $(STAMP)
	$(BIN)/jxc demo

bench: $(STAMP)
	$(BIN)/python benchmarks/costing.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
