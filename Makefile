# Every target builds .venv from nothing when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint unit e2e docs clean lock demo localstack

# constraints.txt pins what CI and every developer install, so runs are reproducible
# (docs/cli.md is generated from --help and depends on typer's exact layout).
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,infra]'
	touch $(STAMP)

# LocalStack's SQS, the e2e tier's second backend (docs/testing.md), in a venv of its own:
# it needs Python 3.12 or newer (pyenv's 3.13 on these machines; LOCALSTACK_PYTHON=… to
# choose). cbor2 6 and pyOpenSSL 26 break this release. The stamp names the version, so a
# new pin rebuilds the venv from nothing.
LOCALSTACK_VERSION := 2026.3.0
LOCALSTACK_PACKAGES := 'localstack-core[base-runtime]==$(LOCALSTACK_VERSION)' 'cbor2<6' 'pyopenssl<26'
ifndef LOCALSTACK_PYTHON
LOCALSTACK_PYTHON := $(shell for p in $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[3-9]*/bin/python3 python3.13 python3.12; do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo "$$p"; break; }; done)
endif
LS_VENV := .venv-localstack
LS_STAMP := $(LS_VENV)/.installed-$(LOCALSTACK_VERSION)

$(LS_STAMP):
	@test -n "$(LOCALSTACK_PYTHON)" || { echo "LocalStack needs Python 3.12 or newer: set LOCALSTACK_PYTHON" >&2; exit 1; }
	rm -rf $(LS_VENV)
	$(LOCALSTACK_PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/python -m pip install --quiet $(LOCALSTACK_PACKAGES)
	touch $@

## make localstack: the LocalStack venv the e2e tier starts its second SQS from
localstack: $(LS_STAMP)

## make demo: the lab's GameDay, end to end, on moto's server on 127.0.0.1
demo: $(STAMP)
	$(BIN)/dlqctl lab demo

## make test: lint, type-check and the whole suite (the e2e tier on both backends)
test: lint $(LS_STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests infra bench
	$(BIN)/ruff format --check src tests infra bench
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

## make e2e: the end-to-end tier on both backends; BACKEND=moto or BACKEND=localstack for one
BACKEND ?= all
ifeq ($(filter $(BACKEND),all moto localstack),)
$(error BACKEND must be all, moto or localstack, not '$(BACKEND)')
endif
e2e: $(STAMP) $(if $(filter moto,$(BACKEND)),,$(LS_STAMP))
	$(BIN)/python -m pytest -q tests/e2e $(if $(filter all,$(BACKEND)),,-m $(BACKEND))

## make docs: regenerate docs/cli.md from --help
docs: $(STAMP)
	$(BIN)/python -m dlqctl.cli.reference > docs/cli.md.tmp
	mv docs/cli.md.tmp docs/cli.md

clean:
	rm -rf $(VENV) $(LS_VENV) .pytest_cache .mypy_cache .ruff_cache

## make lock: re-pin constraints.txt to what .venv has now
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable > constraints.txt

# The CDK app (infra/) needs Node.js besides the `infra` extra; synthesis is offline.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: synth infra-test

## make synth: both environments' CloudFormation templates in cdk.out/<env>/ (runs cdk-nag)
synth: $(STAMP)
	for env in dev prod; do \
		CDK_OUTDIR=cdk.out/$$env CDK_CONTEXT_JSON='{"env": "'$$env'"}' $(BIN)/python infra/app.py || exit 1; \
	done

## make infra-test: CDK assertions, cdk-nag, cfn-lint and the runbook checks
infra-test: $(STAMP)
	$(BIN)/python -m pytest -q tests/infra

## make bench: scenarios on a simulated SQS, dlqctl against two boto3 baselines (~8 min);
## never part of `make test`. `make bench BENCH_ARGS=--quick` for about a minute and a
## half; `BENCH_ARGS=--million` adds the 1,000,000-message redrive (~25 min more).
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)
