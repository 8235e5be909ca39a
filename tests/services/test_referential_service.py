"""Adding and importing establishments, SIAEs and contacts: every refusal names its field."""

from collections.abc import Callable
from pathlib import Path

import factories
import pytest
from sqlmodel import Session, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import Establishment, Person, Siae
from implantation.services.referential import ESTABLISHMENTS, PERSONS, SIAES, InputError, add, import_csv
from implantation.settings import PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "config" / "echantillons"
HOSTILE = "Dupont & Fils <Atelier> {{ 7*7 }} {% raw %}"


def refused(action: Callable[[], object]) -> list[str]:
    with pytest.raises(InputError) as caught:
        action()
    return caught.value.problems


def test_names_with_markup_characters_are_stored_literally(session: Session, cfg: ProcessConfig) -> None:
    factories.siae(session, cfg, nom=HOSTILE)
    session.commit()
    session.expire_all()
    stored = session.exec(select(Siae)).one()
    assert stored.name == HOSTILE


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"siret": "12345678901234"}, "champ « siret » : SIRET invalide : la clé de contrôle est fausse"),
        ({"siret": "1234"}, "champ « siret » : SIRET invalide : il doit compter 14 chiffres"),
        ({"type": "ETTI"}, "champ « type » : une SIAE de type ETTI"),
        ({"type": "XYZ"}, "champ « type » : valeur inconnue « XYZ »"),
        ({"nom": "x" * 10240}, "champ « nom » : 10240 caractères, 200 au maximum"),
        ({"nom": "A\x00B"}, "champ « nom » : caractère de contrôle"),
        ({"code_postal": "3800"}, "champ « code_postal » : code postal à 5 chiffres"),
        ({"email": "pas-une-adresse"}, "champ « email » : adresse électronique invalide"),
        ({"ville": "  "}, "champ « ville » : valeur obligatoire manquante"),
    ],
)
def test_bad_siae_values_are_refused_naming_the_field(
    session: Session, cfg: ProcessConfig, values: dict[str, str], expected: str
) -> None:
    problems = refused(lambda: factories.siae(session, cfg, **values))
    assert any(expected in p for p in problems), problems
    assert session.exec(select(Siae)).all() == []


def test_siret_must_be_unique(session: Session, cfg: ProcessConfig) -> None:
    factories.siae(session, cfg)
    problems = refused(lambda: factories.siae(session, cfg, nom="Homonyme"))
    assert any("« siret » : « 00000001800010 » existe déjà" in p for p in problems)


def test_establishment_checks(session: Session, cfg: ProcessConfig) -> None:
    problems = refused(
        lambda: factories.establishment(session, cfg, type="PRISON", departement="99", capacite="-3")
    )
    assert any("« type » : valeur inconnue « PRISON »" in p for p in problems)
    assert any("« departement » : département inconnu « 99 »" in p for p in problems)
    assert any("« capacite » : nombre entier positif attendu" in p for p in problems)
    site = factories.establishment(session, cfg, departement="3", code="MA-MOULINS", type="maison d'arrêt")
    assert (site.departement, site.type.value) == ("03", "MA")


def test_person_territory_depends_on_role(session: Session, cfg: ProcessConfig) -> None:
    from implantation.enums import Role

    assert any(
        "« territoire »" in p for p in refused(lambda: factories.person(session, cfg, Role.DISP, "38"))
    )
    assert any(
        "« territoire »" in p for p in refused(lambda: factories.person(session, cfg, Role.DDETS, "LYON"))
    )
    assert any(
        "« siae » : obligatoire" in p
        for p in refused(lambda: factories.person(session, cfg, Role.SIAE, "38"))
    )
    assert any("« role »" in p for p in refused(lambda: factories.person(session, cfg, Role.OPERATEUR, "38")))
    assert factories.person(session, cfg, Role.ATIGIP, "NATIONAL").territory == "NATIONAL"


def test_the_sample_files_import_cleanly(session: Session, cfg: ProcessConfig) -> None:
    assert len(import_csv(session, cfg, ESTABLISHMENTS, SAMPLES / "etablissements.csv")) == 6
    assert len(import_csv(session, cfg, SIAES, SAMPLES / "siae.csv")) == 6
    assert len(import_csv(session, cfg, PERSONS, SAMPLES / "personnes.csv")) == 8
    session.commit()
    deps = {e.code: e.departement for e in session.exec(select(Establishment))}
    assert deps == {
        "CP-GRENOBLE-VARCES": "38",
        "CP-SAINT-DENIS-REUNION": "974",
        "CP-MEAUX-CHAUCONIN": "77",
        "CD-OERMINGEN": "67",
        "CP-PERPIGNAN": "66",
        "MA-MOULINS": "03",
    }


def _write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "import.csv"
    path.write_text(text, encoding=encoding)
    return path


def test_import_is_all_or_nothing_and_reports_every_bad_line(
    session: Session, cfg: ProcessConfig, tmp_path: Path, row_counts: Callable[[], dict[str, int]]
) -> None:
    before = row_counts()
    path = _write(
        tmp_path,
        "siret;nom;type;adresse;code_postal;ville\n"
        "00000001800010;La Remise;ACI;1 rue A;38000;Grenoble\n"
        "12345678901234;Mauvais SIRET;ACI;1 rue B;38000;Grenoble\n"
        "00000002600013;Intérim;ETTI;1 rue C;38000;Grenoble\n"
        "00000001800010;Doublon;EI;1 rue D;38000;Grenoble\n"
        "00000003400017;Trop court;ACI\n",
    )
    problems = refused(lambda: import_csv(session, cfg, SIAES, path))
    session.commit()
    assert any(p.startswith("Ligne 6 : 3 valeur(s) au lieu de 6") for p in problems), problems
    assert row_counts() == before
    path = _write(tmp_path, path.read_text(encoding="utf-8").rsplit("\n", 2)[0] + "\n")
    problems = refused(lambda: import_csv(session, cfg, SIAES, path))
    assert [p.split(",")[0] for p in problems[:-1]] == ["Ligne 3", "Ligne 4", "Ligne 5"]
    assert "champ « siret » : SIRET invalide" in problems[0]
    assert "champ « type » : une SIAE de type ETTI" in problems[1]
    assert "figure déjà à la ligne 2 du fichier" in problems[2]
    assert problems[-1].startswith("Import annulé")
    assert row_counts() == before


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("code;nom\nX;Y\n", "colonne(s) obligatoire(s) absente(s) : type, departement, ville"),
        ("code;nom;type;departement;ville;couleur\n", "colonne(s) inconnue(s) : couleur"),
        ("code;nom;nom;type;departement;ville\n", "colonne(s) en double : nom"),
        ("code;nom;type;departement;ville\n", "aucune ligne de données"),
        ("", "vide"),
        ('code;nom;type;departement;ville\nA;"B;CP;38;Varces\n', "Ligne 2 : ligne mal formée"),
    ],
)
def test_malformed_files_are_refused(
    session: Session, cfg: ProcessConfig, tmp_path: Path, content: str, expected: str
) -> None:
    problems = refused(lambda: import_csv(session, cfg, ESTABLISHMENTS, _write(tmp_path, content)))
    assert any(expected in p for p in problems), problems


def test_import_accepts_bom_commas_and_quoted_values(
    session: Session, cfg: ProcessConfig, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        'code,nom,type,departement,ville\nCD-OERMINGEN,"Centre de détention d\'Oermingen, Alsace",CD,67,Oermingen\n',
        encoding="utf-8-sig",
    )
    rows = import_csv(session, cfg, ESTABLISHMENTS, path)
    assert len(rows) == 1 and isinstance(rows[0], Establishment)
    assert rows[0].name == "Centre de détention d'Oermingen, Alsace"


def test_non_utf8_and_missing_files(session: Session, cfg: ProcessConfig, tmp_path: Path) -> None:
    latin = _write(
        tmp_path, "code;nom;type;departement;ville\nA;Établissement;CP;38;Varces\n", encoding="latin-1"
    )
    assert any(
        "encodage non UTF-8" in p for p in refused(lambda: import_csv(session, cfg, ESTABLISHMENTS, latin))
    )
    missing = tmp_path / "absent.csv"
    assert any(
        "Fichier introuvable" in p for p in refused(lambda: import_csv(session, cfg, ESTABLISHMENTS, missing))
    )


def test_person_linked_to_siae_by_siret(session: Session, cfg: ProcessConfig) -> None:
    from implantation.enums import Role

    remise = factories.siae(session, cfg)
    contact = add(
        session,
        cfg,
        PERSONS,
        {
            "nom": "Charlie",
            "email": "c@example.org",
            "organisation": "La Remise",
            "role": "siae",
            "territoire": "38",
            "siae": "000 000 018 00010",
        },
    )
    assert isinstance(contact, Person) and contact.siae_id == remise.id and contact.role == Role.SIAE


def test_the_data_page_documents_every_csv_column() -> None:
    readme = (PROJECT_ROOT / "docs" / "donnees.md").read_text(encoding="utf-8")
    for kind in (ESTABLISHMENTS, SIAES, PERSONS):
        for column in kind.columns:
            assert f"| `{column.name}` |" in readme, column.name
