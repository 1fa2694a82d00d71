# Every target installs what it needs into .venv first. Run `make help` for the list.

VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ADDRESS := 127.0.0.1:8000

export NO_MKDOCS_2_WARNING := 1
export PYTHONPATH := scripts

.DEFAULT_GOAL := help
.PHONY: help serve build test test-site test-examples require-docker clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): requirements/site.txt requirements/test.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements/test.txt
	@touch $@

# The browser tests inject axe-core from node_modules; npm ci installs the locked version.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

serve: $(STAMP) ## Serve the site on http://127.0.0.1:8000, rebuilding on change
	$(VENV)/bin/mkdocs serve --strict --dev-addr $(ADDRESS)

build: $(STAMP) ## Build the static site into site/
	$(VENV)/bin/mkdocs build --strict

# A canary for the move to Zensical, kept out of `make test`: it exits 0 even
# when Zensical fails. Set ZENSICAL_VERSION to try another release.
.PHONY: build-zensical
build-zensical: $(STAMP) ## Build the site with Zensical too and print what differs
	-$(PYTHON) scripts/zensical_canary.py $(if $(ZENSICAL_VERSION),--version $(ZENSICAL_VERSION))

test: require-docker build node_modules/.installed ## Build the site and verify every example with Docker
	$(PYTHON) scripts/snippet_coverage.py
	$(PYTHON) -m pytest

test-site: build node_modules/.installed ## Run the tests that need no Docker engine
	$(PYTHON) scripts/snippet_coverage.py
	$(PYTHON) -m pytest -m "not docker"

# ARGS passes options and example folders: make verify ARGS="--changed main --jobs 2"
.PHONY: verify
verify: $(STAMP) ## Verify examples with Docker; ARGS="--help" lists the options
	$(PYTHON) scripts/verify $(ARGS)

bench: require-docker $(STAMP) ## Time the verifier against a naive loop and the floor
	$(PYTHON) scripts/bench
	$(PYTHON) scripts/bench-lighthouse

# The linters run from .venv, pinned in requirements/lint.txt. actionlint's
# package downloads its binary from GitHub when pip builds it, so on a machine
# that reaches PyPI only, its install fails and `make lint` skips actionlint
# with a warning; the workflows are still checked against GitHub's schema
# (check-jsonschema) and audited by zizmor, which both work offline.
LINT_STAMP := $(VENV)/.lint-installed

$(LINT_STAMP): requirements/lint.txt requirements/actionlint.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements/lint.txt
	@$(PYTHON) -m pip install --quiet --disable-pip-version-check \
		-r requirements/actionlint.txt >/dev/null 2>&1 \
		|| echo "warning: cannot install requirements/actionlint.txt (its build downloads actionlint from GitHub)"
	@touch $@

.PHONY: lint new-chapter
lint: $(LINT_STAMP) ## Run ruff, codespell, pymarkdown, hadolint and the workflow linters
	@if [ -x $(VENV)/bin/actionlint ]; then skip=; else skip=actionlint; \
		echo "warning: actionlint is not installed, so it is skipped;" \
			"install it with: $(PYTHON) -m pip install -r requirements/actionlint.txt"; \
	fi; \
	SKIP=$$skip $(VENV)/bin/pre-commit run --all-files

# NAME and TITLE reach the script through the environment, so quotes in a
# title need no escaping. LABEL, optional, sets the sidebar label. Make would
# expand a `$` in a title given on its command line ("Save $5" would lose
# "$5"), so TITLE and LABEL are exported with their values as typed.
override TITLE := $(value TITLE)
override LABEL := $(value LABEL)
export TITLE LABEL
new-chapter: $(STAMP) ## Scaffold a chapter: make new-chapter NAME=ci-cd TITLE="CI/CD: ..."
	$(PYTHON) scripts/new-chapter --title "$$TITLE" $(if $(LABEL),--label "$$LABEL") -- "$$NAME"

require-docker:
	@python3 -m verifier.preflight

clean: ## Remove the virtual environment and the built site
	rm -rf $(VENV) site
