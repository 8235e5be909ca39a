"""``siae projet completer``'s service: the dossier models, all-or-nothing recording, the change log."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import factories
import pytest
from sqlmodel import Session, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import CandidateSiae, Establishment, FactChange, ImplantationProject, Siae
from implantation.dossier import Dossier, Etape3, stages_of
from implantation.enums import SiaeKind
from implantation.services.dossier import complete, load_dossier, parse_dossier, recorded
from implantation.services.referential import InputError
from implantation.services.workflow import Actor
from implantation.settings import PROJECT_ROOT

SAMPLE = PROJECT_ROOT / "config" / "echantillons" / "dossier.toml"


def _project(session: Session, cfg: ProcessConfig) -> ImplantationProject:
    factories.siae(session, cfg)
    project, _lead = factories.project(session, cfg)
    return project


def test_the_sample_dossier_fills_every_key_and_logs_each_change(
    session: Session, cfg: ProcessConfig
) -> None:
    project = _project(session, cfg)
    dossier = load_dossier(SAMPLE)
    assert dossier.model_fields_set == set(Dossier.model_fields) - {"part_modulee_pourcent"}
    changes = complete(session, cfg, project, dossier, Actor(label="Camille Exemple"), source="dossier.toml")
    session.commit()
    assert {c.field for c in changes} == dossier.model_fields_set - {"reconduction_tacite"}  # already true
    siae = session.exec(select(Siae)).one()
    assert project.siae_id == siae.id and project.activity == "Tri de textiles"
    assert project.insertion_posts_etp == 8 and project.staff_eti_etp == 1.5
    establishment = session.get(Establishment, project.establishment_id)
    assert establishment is not None and establishment.head_name == "Morgan Exemple"
    assert project.budget_lines is not None and project.budget_lines[3] == {
        "nature": "charge",
        "libelle": "Équipement de l'atelier de tri",
        "montant": "18000",
        "annee": "1",
    }
    assert session.exec(select(CandidateSiae.siae_id)).all() == [siae.id]
    logged = {c.field: c for c in session.exec(select(FactChange))}
    assert logged["activite"].old_value is None and logged["activite"].new_value == "Tri de textiles"
    assert logged["siae_retenue"].new_value == factories.SIRET_A
    assert logged["eti_etp"].new_value == "1.5" and logged["activite"].actor_label == "Camille Exemple"
    assert logged["activite"].source == "dossier.toml" and logged["activite"].at is not None

    # Entered again: nothing changes, nothing is logged; a corrected key logs its old value.
    assert complete(session, cfg, project, dossier, Actor(label="X")) == []
    fix = parse_dossier({"activite": "Tri et valorisation de textiles", "eti_etp": "1,75"})
    changes = complete(session, cfg, project, fix, Actor(label="Claire"))
    assert [(c.field, c.old_value, c.new_value) for c in changes] == [
        ("activite", "Tri de textiles", "Tri et valorisation de textiles"),
        ("eti_etp", "1.5", "1.75"),
    ]
    current = recorded(session, project)
    assert current.eti_etp == Decimal("1.75") and current.budget == dossier.budget
    assert current.postes == dossier.postes and current.siae_retenue == factories.SIRET_A


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"activitee": "x"}, "clé « activitee » : clé inconnue"),
        ({"postes_etp": "huit"}, "clé « postes_etp » : nombre attendu, lu « huit »"),
        ({"postes_etp": 1.234}, "clé « postes_etp » : deux décimales au plus"),
        (
            {"postes_insertion": 2, "postes_etp": 3},
            "postes_etp (3) dépasse le nombre de postes d'insertion (2)",
        ),
        (
            {"budget": [{"nature": "charge", "libelle": "Loyer", "montant": 10, "annee": 3}]},
            "clé « budget[1].annee » : valeur non admise « 3 »",
        ),
        (
            {"budget": [{"nature": "dépense", "libelle": "Loyer", "montant": -1}]},
            "clé « budget[1].montant » : valeur ≥ 0 attendue",
        ),
        (
            {"siae_retenue": "12345678901234"},
            "clé « siae_retenue » : SIRET invalide : la clé de contrôle est fausse",
        ),
        ({"convention_debut": "1er mars"}, "clé « convention_debut » : date attendue"),
        (
            {
                "postes": [
                    {
                        "intitule": "Tri",
                        "code_rome": "tri",
                        "heures_hebdomadaires": 50,
                        "missions": "m",
                        "risques": "r",
                    }
                ]
            },
            "clé « postes[1].code_rome » : code ROME attendu sous la forme H3302",
        ),
        ({"locaux": "Atelier\nbureaux"}, "clé « locaux » : caractère de contrôle ou saut de ligne interdit"),
    ],
)
def test_a_refused_value_names_its_key_in_french(data: dict[str, object], expected: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_dossier(data, "Fichier « d.toml »")
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems
    assert caught.value.problems[-1] == "Dossier refusé : aucune valeur n'a été enregistrée."


def test_rules_against_recorded_values_refuse_the_whole_dossier(
    session: Session, cfg: ProcessConfig, row_counts: Callable[[], dict[str, int]]
) -> None:
    project = _project(session, cfg)
    session.add(
        Siae(
            siret=factories.SIRET_B,
            name="Intérim",
            kind=SiaeKind.ETTI,
            address="a",
            postal_code="38000",
            city="G",
        )
    )
    complete(
        session,
        cfg,
        project,
        parse_dossier({"convention_debut": "2027-03-01", "postes_insertion": 4}),
        Actor("A"),
    )
    session.commit()
    before = row_counts()
    bad = parse_dossier(
        {
            "activite": "Menuiserie",
            "convention_fin": date(2031, 3, 1),
            "postes_etp": 5,
            "siae_retenue": factories.SIRET_B,
            "date_demarrage_prevue": date(2027, 8, 2),
        }
    )
    with pytest.raises(InputError) as caught:
        complete(session, cfg, project, bad, Actor("A"))
    session.rollback()
    text = "\n".join(caught.value.problems)
    assert "clé « convention_fin » : durée de la convention" in text
    assert "clé « postes_etp » : postes_etp (5) dépasse le nombre de postes d'insertion (4)" in text
    assert "clé « siae_retenue » : une SIAE de type ETTI" in text
    assert "clé « date_demarrage_prevue » : le 02/08/2027 est dans la période" in text
    assert row_counts() == before
    refreshed = session.get(ImplantationProject, project.id)
    assert refreshed is not None and refreshed.activity is None


def test_each_key_belongs_to_a_stage_form() -> None:
    assert stages_of("locaux") == [1] and stages_of("activite") == [2, 3]
    assert stages_of("budget") == [3] and stages_of("postes") == [4]
    assert all(stages_of(key) for key in Dossier.model_fields)
    form = Etape3(postes_insertion=10, postes_etp=Decimal("8"))  # a gate form validates alike
    assert form.postes_etp == Decimal(8)
