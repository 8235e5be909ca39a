"""The deployments' run forms in the Prefect UI: French titles and descriptions, choices by name."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session

from flows.harness.api import PrefectApiError
from implantation.services import choices
from tests.flow_stack import FlowStack

SIAE = Path(sys.executable).with_name("siae")

DEPLOYMENTS = {
    "demarrer-implantation/demarrer-implantation": {
        "etablissement": "Établissement",
        "chef_de_projet": "Chef de projet DISP",
        "date_debut": "Date de début",
    },
    "etape/etape": {"projet_id": "Projet", "etape": "Étape"},
    "echeances/echeances": {"aujourdhui": "Date du balayage"},
    "renvoyer-code/renvoyer-code": {
        "projet": "Projet",
        "etape": "Étape",
        "personne": "Adresse électronique de la personne",
    },
}


@pytest.mark.prefect
@pytest.mark.parametrize("flow_stack", ["sqlite"], indirect=True)
@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_run_form_shows_french_titles(flow_stack: FlowStack, name: str) -> None:
    schema = flow_stack.api.get(f"/deployments/name/{name}")["parameter_openapi_schema"]
    properties = schema["properties"]
    assert {key: field["title"] for key, field in properties.items()} == DEPLOYMENTS[name]
    # Each field keeps its French help (from the flow's docstring) and its place in the form.
    assert all(field.get("description") for field in properties.values())
    assert [field["position"] for field in properties.values()] == list(range(len(properties)))


@pytest.mark.prefect
@pytest.mark.parametrize("flow_stack", ["sqlite"], indirect=True)
def test_run_form_keeps_its_constraints(flow_stack: FlowStack) -> None:
    schema = flow_stack.api.get("/deployments/name/etape/etape")["parameter_openapi_schema"]
    assert schema["properties"]["etape"]["minimum"] == 1  # the stages are counted from etapes.toml
    assert schema["required"] == ["projet_id", "etape"]


def _start_form(fs: FlowStack) -> dict[str, dict[str, object]]:
    return fs.api.get("/deployments/name/demarrer-implantation/demarrer-implantation")[
        "parameter_openapi_schema"
    ]["properties"]


@pytest.mark.prefect
@pytest.mark.parametrize("flow_stack", ["sqlite"], indirect=True)
def test_the_start_form_offers_establishments_and_disp_leads_by_name(flow_stack: FlowStack) -> None:
    fs = flow_stack
    with Session(fs.engine) as session:
        sites, leads = choices.establishment_choices(session), choices.lead_choices(session)
    form = _start_form(fs)
    assert form["etablissement"]["enum"] == sites and "CP-GRENOBLE-VARCES — " in " ".join(sites)
    assert form["chef_de_projet"]["enum"] == leads
    assert all(", DISP " in label for label in leads)  # DISP staff only


@pytest.mark.prefect
@pytest.mark.parametrize("flow_stack", ["sqlite"], indirect=True)
def test_a_new_establishment_appears_in_the_list_when_added(flow_stack: FlowStack) -> None:
    fs = flow_stack
    env = {**os.environ, **{k: v for k, v in fs.stack.env.items() if k.startswith(("PREFECT_", "SIAE_"))}}
    added = [
        "ajouter", "etablissement", "--code", "MA-ESSAI-LISTE", "--nom", "Maison d'arrêt d'essai",
        "--type", "MA", "--departement", "38", "--ville", "Grenoble",
    ]  # fmt: skip
    done = subprocess.run(
        [str(SIAE), *added], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Listes du formulaire « Démarrer » mises à jour." in done.stdout
    assert "MA-ESSAI-LISTE — Maison d'arrêt d'essai" in _start_form(fs)["etablissement"]["enum"]  # type: ignore[operator]
    # A value that is not in the list is refused by the server before any run exists.
    with pytest.raises(PrefectApiError) as refused:
        fs.api.run_deployment(
            "demarrer-implantation/demarrer-implantation",
            {"etablissement": "MA-INCONNUE — Maison d'arrêt inconnue", "chef_de_projet": "x@example.org"},
        )
    assert "HTTP 409" in str(refused.value) or "HTTP 422" in str(refused.value)
