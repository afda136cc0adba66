# Every target builds .venv from nothing when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint unit e2e docs clean lock demo localstack checkov floor dist

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

# checkov, the infra tier's second scanner (tests/infra/test_checkov.py), in a venv of its
# own: checkov 3 pins boto3 and packaging releases that conflict with ours. The stamp names
# the version, so a new pin rebuilds the venv from nothing.
CHECKOV_VERSION := 3.3.30
CK_VENV := .venv-checkov
CK_STAMP := $(CK_VENV)/.installed-$(CHECKOV_VERSION)

$(CK_STAMP):
	rm -rf $(CK_VENV)
	$(PYTHON) -m venv $(CK_VENV)
	$(CK_VENV)/bin/python -m pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

## make checkov: the checkov venv the infra tier runs checkov from
checkov: $(CK_STAMP)

# The floor job: every direct runtime dependency at the lower bound pyproject.toml declares
# (tools/floor_pins.py writes the == pins), with the test tools at constraints.txt's pins,
# in .venv-floor; the CLI and unit tiers run against it. The rest resolves freely: the
# floors' own dependencies may need older releases than constraints.txt has.
FLOOR_VENV := .venv-floor
FLOOR_STAMP := $(FLOOR_VENV)/.installed
# The lab extra's packages too: tests/unit checks dlqctl's idempotency keys against Powertools'.
FLOOR_TOOLS := pytest pytest-timeout hypothesis 'moto[server,sqs,dynamodb,ssm,cloudwatch]' aws-lambda-powertools

$(FLOOR_STAMP): pyproject.toml constraints.txt tools/floor_pins.py
	rm -rf $(FLOOR_VENV)
	$(PYTHON) -m venv $(FLOOR_VENV)
	$(PYTHON) tools/floor_pins.py $(FLOOR_TOOLS) > $(FLOOR_VENV)/requirements.txt
	$(FLOOR_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FLOOR_VENV)/bin/python -m pip install --quiet -r $(FLOOR_VENV)/requirements.txt
	$(FLOOR_VENV)/bin/python -m pip install --quiet --no-deps -e .
	$(FLOOR_VENV)/bin/python -m pip check
	touch $@

## make floor: the CLI and unit tiers against the declared floors of the runtime dependencies
floor: $(FLOOR_STAMP)
	$(FLOOR_VENV)/bin/python -m pytest -q tests/cli tests/unit

## make demo: the lab's GameDay, end to end, on moto's server on 127.0.0.1
demo: $(STAMP)
	$(BIN)/dlqctl lab demo

## make test: lint, type-check and the whole suite (the e2e tier on both backends)
test: lint $(LS_STAMP) $(CK_STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests infra bench tools
	$(BIN)/ruff format --check src tests infra bench tools
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
	$(BIN)/python -m dlqctl.cli.tab_build > src/dlqctl/cli/tab_table.py.tmp
	mv src/dlqctl/cli/tab_table.py.tmp src/dlqctl/cli/tab_table.py
	$(BIN)/ruff format -q src/dlqctl/cli/tab_table.py

## make dist: the sdist and wheel in dist/, checked as PyPI would render them
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --installer uv --outdir dist
	$(BIN)/twine check --strict dist/*

clean:
	rm -rf $(VENV) $(LS_VENV) $(CK_VENV) $(FLOOR_VENV) dist .pytest_cache .mypy_cache .ruff_cache

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
