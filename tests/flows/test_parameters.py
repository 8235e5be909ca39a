"""The deployments' run forms in the Prefect UI: French titles and descriptions, ids only."""

import pytest

from tests.flow_stack import FlowStack

DEPLOYMENTS = {
    "demarrer-implantation/demarrer-implantation": {
        "etablissement_id": "Établissement",
        "chef_de_projet_id": "Chef de projet DISP",
        "date_debut": "Date de début",
    },
    "etape/etape": {"projet_id": "Projet", "etape": "Étape"},
    "echeances/echeances": {"aujourdhui": "Date du balayage"},
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
    assert schema["properties"]["etape"]["minimum"] == 1 and schema["properties"]["etape"]["maximum"] == 6
    assert schema["required"] == ["projet_id", "etape"]
