# One command sets up, one runs the demo, one runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup test lint demo server bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@# bubblewrap builds the sandbox every model instance and job runs in; dig (dnsutils)
	@# queries the VPC resolver in its tests
	@# nftables, iproute2 and util-linux build VPC networks (security groups, links,
	@# namespaces); dnsutils and curl are what the network tests look up and connect with;
	@# faketime moves a server's clock past a session's end (tests/e2e/test_expired_tokens.py)
	{ command -v bwrap && command -v dig && command -v nft && command -v ip \
		&& command -v nsenter && command -v curl && command -v faketime; } >/dev/null || \
		{ [ "$$(id -u)" = 0 ] || SUDO=sudo; $$SUDO apt-get update -qq && \
		$$SUDO apt-get install -y -qq bubblewrap dnsutils nftables iproute2 util-linux curl \
		faketime; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

test: setup
	$(BIN)/ruff check src tests
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q tests

lint: setup
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/lint-imports

# Train, deploy and invoke the breast-cancer model on a fresh server (data in .cove-demo/).
demo: setup
	scripts/demo.sh

server: setup
	$(BIN)/cove server

# Performance comparison (never part of `make test`/CI): see benchmarks/README.md.
bench: setup
	command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk; }
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build src/*.egg-info
