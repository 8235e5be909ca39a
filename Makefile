# Deux commandes suffisent sur une machine neuve : `make demo` et `make test`.
# L'environnement virtuel (.venv) est créé au besoin ; l'installation n'est rejouée que si pyproject.toml change.

VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo serve test lint captures migration migration-initial

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Démonstration : la chronologie d'un projet (échéances reportées hors jours fériés et week-ends), puis
## l'implantation de bout en bout sur un serveur Prefect local (SQLite) : six étapes, documents, courriels.
## `make demo ARGS=--keep` laisse le serveur ouvert avec une décision en attente dans l'interface.
demo: $(STAMP)
	SIAE_MODE=demo $(BIN)/siae demo-base
	SIAE_MODE=demo $(BIN)/python -m flows.harness.demo $(ARGS)

## Serveur Prefect + exécution des déploiements, jusqu'à Ctrl-C (production : deploy/README.md).
## Les variables PREFECT_* et SIAE_* de l'environnement ou de .env sont respectées.
serve: $(STAMP)
	$(BIN)/siae migrer
	$(BIN)/python -m flows.runtime.serve $(ARGS)

## Captures d'écran des guides (docs/guide/captures/*.png), prises dans Chromium sur un serveur de démonstration
## (Chromium du système et pdftoppm requis). À relancer quand un formulaire ou un document change.
captures: $(STAMP)
	SIAE_MODE=demo $(BIN)/python docs/guide/captures.py $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Tous les tests (SQLite et PostgreSQL sur 127.0.0.1:5432 ; sans serveur, ignorés sauf si CI=true), répartis
## sur TEST_WORKERS processus, un module entier par processus (TEST_WORKERS=0 : un seul processus).
TEST_WORKERS ?= 2
test: lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadscope

## Nouvelle révision Alembic autogénérée depuis les modèles : make migration m="ajoute la colonne x"
migration: $(STAMP)
	@test -n "$(m)" || { echo 'Usage : make migration m="message"'; exit 2; }
	$(BIN)/python -m implantation.db.migrate revision -m "$(m)"
	$(BIN)/ruff check --fix --quiet implantation/migrations/versions
	$(BIN)/ruff format --quiet implantation/migrations/versions

## Réécrit l'unique révision initiale (0001) depuis les modèles ; déterministe. Avant toute mise en production seulement.
migration-initial: $(STAMP)
	$(BIN)/python -m implantation.db.migrate initial
	$(BIN)/ruff check --fix --quiet implantation/migrations/versions
	$(BIN)/ruff format --quiet implantation/migrations/versions
