"""Opérateurs entered outside Prefect: CSV import (all or nothing), eligibility on entry, end of the CEP."""

from collections.abc import Callable
from datetime import date
from pathlib import Path

import factories
import pytest
from sqlmodel import Session, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import FactChange, ImplantationProject, Operateur, OperateurIdentity
from implantation.enums import OperateurEndReason, OperateurStatus
from implantation.services.dossier import complete, load_dossier
from implantation.services.errors import DomainError
from implantation.services.operateurs import (
    add_operateur,
    counts,
    import_operateurs,
    retire_operateur,
    summary,
)
from implantation.services.referential import InputError
from implantation.services.workflow import Actor
from implantation.settings import PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "config" / "echantillons"
TODAY = date(2026, 11, 23)
HEADER = "nom;prenom;ecrou;date_naissance;statut_juridique;quantum_mois;accord_conjoint;poste;heures_hebdomadaires;debut_contrat\n"
ACTOR = Actor(label="Camille Exemple")


def _project(session: Session, cfg: ProcessConfig) -> ImplantationProject:
    factories.siae(session, cfg)
    project, _lead = factories.project(session, cfg)
    complete(session, cfg, project, load_dossier(SAMPLES / "dossier.toml"), ACTOR)
    return project


def _raw(**values: str) -> dict[str, str]:
    raw = {
        "nom": "Quintavalle",
        "prenom": "Zébulon",
        "ecrou": "E-1",
        "date_naissance": "14/03/1991",
        "statut_juridique": "condamné",
        "quantum_mois": "20",
        "poste": "agent de tri de textiles",
        "debut_contrat": "2028-01-10",
    }
    raw.update(values)
    return raw


def test_the_sample_csv_imports_with_posts_from_the_dossier(session: Session, cfg: ProcessConfig) -> None:
    project = _project(session, cfg)
    ops = import_operateurs(session, cfg, project, SAMPLES / "operateurs.csv", ACTOR, TODAY)
    session.commit()
    assert [op.status for op in ops] == [OperateurStatus.ASSIGNED] * 3
    first, second, third = ops
    assert first.rome_code == "H3302" and first.missions and first.weekly_hours == 22
    assert second.weekly_hours == 22  # empty column: the post's hours
    assert third.post_title == "Agent de conditionnement" and third.joint_agreement
    identity = session.get(OperateurIdentity, first.id)
    assert identity is not None and identity.last_name == "Quintavalle"
    log = session.exec(select(FactChange).where(FactChange.field == "operateur")).all()
    assert len(log) == 3 and all("Quintavalle" not in (c.new_value or "") for c in log)
    assert log[0].new_value is not None and log[0].new_value.startswith(first.id)
    assert counts(session, project.id)[OperateurStatus.ASSIGNED] == 3  # type: ignore[arg-type]
    assert summary(session, project.id)["affectes"] == sorted(op.id for op in ops)  # type: ignore[arg-type]


def test_a_bad_line_refuses_the_whole_file_with_line_numbers(
    session: Session, cfg: ProcessConfig, tmp_path: Path, row_counts: Callable[[], dict[str, int]]
) -> None:
    project = _project(session, cfg)
    session.commit()
    before = row_counts()
    csv = tmp_path / "operateurs.csv"
    csv.write_text(
        HEADER
        + "Quintavalle;Zébulon;E-1;1991-03-14;condamne;20;non;Agent de tri de textiles;24;2028-01-10\n"
        + "Brisefer;Anatole;E-2;1987-11-02;condamne;3;non;Agent de tri de textiles;;\n"
        + "Vercoquin;Dominique;E-3;1995-06-21;prevenu;40;non;Cuisinier;60;2028-01-10\n"
        + "Autre;Personne;E-1;2030-01-01;inconnu;douze;peut-être;Agent de tri de textiles;;\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        import_operateurs(session, cfg, project, csv, ACTOR, TODAY)
    session.rollback()
    text = "\n".join(caught.value.problems)
    assert "Ligne 3, inéligible : quantum de peine de 3 mois, inférieur au minimum de 4 mois" in text
    assert "Ligne 4, inéligible : personne prévenue sans accord conjoint" in text
    assert "Ligne 4, inéligible : quantum de peine de 40 mois, supérieur à 36 mois" in text
    assert "Ligne 4, champ « poste » : « Cuisinier » n'est pas un poste du projet" in text
    assert "Ligne 4, champ « heures_hebdomadaires » : entre 0 et 48 heures" in text
    assert "Ligne 5, champ « date_naissance » : le 01/01/2030 n'est pas dans le passé" in text
    assert "Ligne 5, champ « statut_juridique » : valeur inconnue « inconnu »" in text
    assert "Ligne 5, champ « accord_conjoint » : oui ou non attendu" in text
    assert "Ligne 5, champ « quantum_mois » : nombre entier de mois attendu" in text
    assert "Ligne 2" not in text  # the good line is fine, yet nothing is recorded
    assert caught.value.problems[-1].startswith("Import annulé : aucun opérateur n'a été enregistré")
    assert row_counts() == before
    csv.write_text(
        HEADER + "A;B;E-9;1990-01-01;condamne;12;non;Agent de tri de textiles;;\n" * 2, encoding="utf-8"
    )
    with pytest.raises(InputError, match="figure déjà à la ligne 2 du fichier"):
        import_operateurs(session, cfg, project, csv, ACTOR, TODAY)


def test_add_then_retire_keeps_the_record(session: Session, cfg: ProcessConfig) -> None:
    project = _project(session, cfg)
    op = add_operateur(session, cfg, project, _raw(debut_contrat="2026-11-02"), ACTOR, TODAY)
    with pytest.raises(InputError, match="« E-1 » est déjà enregistré pour ce projet"):
        add_operateur(session, cfg, project, _raw(), ACTOR, TODAY)
    waiting = add_operateur(session, cfg, project, _raw(ecrou="E-2", debut_contrat=""), ACTOR, TODAY)
    assert waiting.status == OperateurStatus.IDENTIFIED
    with pytest.raises(DomainError, match="précède le début du CEP"):
        retire_operateur(
            session, project, "E-1", OperateurEndReason.RELEASE, date(2026, 10, 30), ACTOR, TODAY
        )
    with pytest.raises(DomainError, match="dans le futur"):
        retire_operateur(session, project, "E-1", OperateurEndReason.RELEASE, date(2026, 12, 1), ACTOR, TODAY)
    retire_operateur(
        session, project, "E-1", OperateurEndReason.RESIGNATION, date(2026, 11, 20), ACTOR, TODAY
    )
    session.commit()
    left = session.get(Operateur, op.id)
    assert left is not None and left.status == OperateurStatus.LEFT
    assert (left.ended_on, left.end_reason) == (date(2026, 11, 20), OperateurEndReason.RESIGNATION)
    assert session.get(OperateurIdentity, op.id) is not None
    with pytest.raises(DomainError, match="déjà sorti le 20/11/2026"):
        retire_operateur(session, project, op.id, OperateurEndReason.RELEASE, TODAY, ACTOR, TODAY)
    with pytest.raises(DomainError, match="aucun opérateur « OP-INCONNU »"):
        retire_operateur(session, project, "OP-INCONNU", OperateurEndReason.RELEASE, TODAY, ACTOR, TODAY)
    again = add_operateur(session, cfg, project, _raw(), ACTOR, TODAY)  # back in detention, new CEP
    assert again.id != op.id


def test_a_schedule_outside_the_workshop_or_the_code_s_bounds_is_refused_on_entry(
    session: Session, cfg: ProcessConfig
) -> None:
    """Workshop open Monday to Friday, 8 h-14 h (sample dossier); R412-50 and R412-51 bound the hours."""
    project = _project(session, cfg)
    late = _raw(
        jours="lundi,mardi,mercredi,jeudi",
        heure_debut="08:00",
        heure_fin="15:00",
        pause_minutes="60",
        heures_hebdomadaires="24",
    )
    with pytest.raises(InputError, match="dépasse les horaires de l'atelier"):
        add_operateur(session, cfg, project, late, ACTOR, TODAY)
    short = _raw(jours="lundi,mardi", heure_debut="08:00", heure_fin="12:00", heures_hebdomadaires="8")
    with pytest.raises(InputError, match="en dessous du minimum de 10 heures"):
        add_operateur(session, cfg, project, short, ACTOR, TODAY)
    saturday = _raw(
        jours="lundi,mardi,jeudi,samedi",
        heure_debut="08:00",
        heure_fin="14:00",
        pause_minutes="30",
        heures_hebdomadaires="22",
    )
    with pytest.raises(InputError, match="samedi, jour\\(s\\) où l'atelier est fermé"):
        add_operateur(session, cfg, project, saturday, ACTOR, TODAY)
