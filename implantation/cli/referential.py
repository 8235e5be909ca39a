"""``siae importer …`` and ``siae ajouter …``: the referential of establishments, SIAEs and contacts."""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from implantation.cli.common import database, handled, out, process_config
from implantation.cli.hooks import REFERENTIAL_CHANGED
from implantation.services.referential import ESTABLISHMENTS, PERSONS, SIAES, Kind, add, import_csv

CsvFile = Annotated[Path, typer.Argument(help="Fichier CSV (UTF-8, séparateur ; ou ,)")]

importer_app = typer.Typer(
    help="Importe un fichier CSV (tout ou rien ; colonnes décrites dans docs/donnees.md).",
    no_args_is_help=True,
)
ajouter_app = typer.Typer(help="Ajoute un élément au référentiel.", no_args_is_help=True)


def _changed() -> None:
    for hook in REFERENTIAL_CHANGED:
        message = hook()
        if message:
            out.print(escape(message))


def _import(kind: Kind, fichier: Path) -> None:
    with handled():
        cfg = process_config()
        with database() as session:
            rows = import_csv(session, cfg, kind, fichier)
        out.print(escape(f"Import réussi : {len(rows)} ligne(s) ({kind.label}) depuis « {fichier.name} »."))
        _changed()


@importer_app.command("etablissements")
def import_establishments(
    fichier: CsvFile,
) -> None:
    """Importe des établissements pénitentiaires."""
    _import(ESTABLISHMENTS, fichier)


@importer_app.command("siae")
def import_siaes(fichier: CsvFile) -> None:
    """Importe des SIAE (types implantables : config/eligibilite.toml)."""
    _import(SIAES, fichier)


@importer_app.command("personnes")
def import_persons(
    fichier: CsvFile,
) -> None:
    """Importe des contacts (DISP, DREETS, DDETS, établissement, SPIP, SIAE…)."""
    _import(PERSONS, fichier)


def _add(kind: Kind, values: dict[str, str | None]) -> None:
    with handled():
        cfg = process_config()
        with database() as session:
            row = add(session, cfg, kind, values)
            row_id = row.id  # type: ignore[attr-defined]
        out.print(f"{kind.label.capitalize()} ajouté(e) : identifiant {row_id}.")
        _changed()


@ajouter_app.command("etablissement")
def add_establishment(
    code: str = typer.Option(..., "--code", help="Code court unique, ex. CP-GRENOBLE-VARCES"),
    nom: str = typer.Option(..., "--nom", help="Nom complet"),
    type_: str = typer.Option(..., "--type", help="MA, CD, MC, CP, CSL, QSL, EPM ou SAS"),
    departement: str = typer.Option(..., "--departement", help="Code INSEE du département"),
    ville: str = typer.Option(..., "--ville", help="Commune"),
    adresse: str | None = typer.Option(None, "--adresse"),
    capacite: str | None = typer.Option(None, "--capacite", help="Nombre de places"),
    locaux: str | None = typer.Option(None, "--locaux", help="Locaux disponibles"),
    chef: str | None = typer.Option(None, "--chef-etablissement", help="Nom du chef d'établissement"),
) -> None:
    """Ajoute un établissement pénitentiaire."""
    _add(
        ESTABLISHMENTS,
        {
            "code": code,
            "nom": nom,
            "type": type_,
            "departement": departement,
            "ville": ville,
            "adresse": adresse,
            "capacite": capacite,
            "locaux": locaux,
            "chef_etablissement": chef,
        },
    )


@ajouter_app.command("siae")
def add_siae(
    siret: str = typer.Option(..., "--siret", help="14 chiffres"),
    nom: str = typer.Option(..., "--nom", help="Raison sociale"),
    type_: str = typer.Option(..., "--type", help="Type de SIAE implantable (config/eligibilite.toml)"),
    adresse: str = typer.Option(..., "--adresse"),
    code_postal: str = typer.Option(..., "--code-postal"),
    ville: str = typer.Option(..., "--ville"),
    reseau: str | None = typer.Option(None, "--reseau"),
    code_naf: str | None = typer.Option(None, "--code-naf"),
    idcc: str | None = typer.Option(None, "--idcc"),
    forme_juridique: str | None = typer.Option(None, "--forme-juridique"),
    president: str | None = typer.Option(None, "--president"),
    directeur: str | None = typer.Option(None, "--directeur"),
    email: str | None = typer.Option(None, "--email"),
    representant: str | None = typer.Option(None, "--representant-legal"),
) -> None:
    """Ajoute une SIAE (seuls les types implantables en détention sont acceptés)."""
    _add(
        SIAES,
        {
            "siret": siret,
            "nom": nom,
            "type": type_,
            "adresse": adresse,
            "code_postal": code_postal,
            "ville": ville,
            "reseau": reseau,
            "code_naf": code_naf,
            "idcc": idcc,
            "forme_juridique": forme_juridique,
            "president": president,
            "directeur": directeur,
            "email": email,
            "representant_legal": representant,
        },
    )


@ajouter_app.command("personne")
def add_person(
    nom: str = typer.Option(..., "--nom", help="Prénom et nom"),
    email: str = typer.Option(..., "--email"),
    organisation: str = typer.Option(..., "--organisation"),
    role: str = typer.Option(..., "--role", help="disp, dreets, ddets, prefet, ep, spip, siae, atigip…"),
    territoire: str = typer.Option(
        ..., "--territoire", help="Code DISP, région ou département selon le rôle"
    ),
    siae: str | None = typer.Option(None, "--siae", help="SIRET ou identifiant de la SIAE (rôle siae)"),
    responsable: str | None = typer.Option(None, "--responsable", help="Identifiant du responsable"),
    qualite: str | None = typer.Option(
        None, "--qualite", help="Qualité imprimée sous la signature (ex. « préfète de l'Isère »)"
    ),
    signataire: str | None = typer.Option(
        None, "--signataire", help="oui : signe les documents de l'étape 5 pour son rôle et son territoire"
    ),
    delegation_acte: str | None = typer.Option(
        None, "--delegation-acte", help="Acte de délégation de signature (ex. « arrêté préfectoral n° … »)"
    ),
    delegation_date: str | None = typer.Option(None, "--delegation-date", help="Date de l'acte (AAAA-MM-JJ)"),
) -> None:
    """Ajoute un contact professionnel (jamais une personne détenue) ; un signataire avec sa qualité."""
    _add(
        PERSONS,
        {
            "nom": nom,
            "email": email,
            "organisation": organisation,
            "role": role,
            "territoire": territoire,
            "siae": siae,
            "responsable": responsable,
            "qualite": qualite,
            "signataire": signataire,
            "delegation_acte": delegation_acte,
            "delegation_date": delegation_date,
        },
    )
