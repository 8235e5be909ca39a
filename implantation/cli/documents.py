"""``siae documents …``: generate the stage-5 pack, list documents and signatures, record a signature."""

from collections.abc import Callable
from datetime import date

import typer
from rich.table import Table
from sqlmodel import Session

from implantation.cli.common import fail, out
from implantation.config.loader import ConfigError, get_process_config
from implantation.config.schema import ProcessConfig
from implantation.db.models import ImplantationProject
from implantation.db.session import get_engine, session_scope
from implantation.documents.render import LibreOfficeError
from implantation.documents.service import (
    document_states,
    generate_pack,
    generate_pack_with_pdf,
    project_dir,
    record_signature,
)
from implantation.enums import Role
from implantation.services.errors import DomainError
from implantation.services.projects import find_project
from implantation.settings import Settings, get_settings

app = typer.Typer(
    name="documents",
    help="Documents de l'étape 5 : DUI, convention IAE, contrat d'implantation, CEP et annexes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _id(project: ImplantationProject) -> int:
    assert project.id is not None
    return project.id


def _run(action: Callable[[Session, ProcessConfig, Settings], None]) -> None:
    """French message and exit code 1 for every expected failure; no traceback for the user."""
    try:
        settings = get_settings()
        cfg = get_process_config(settings.config_dir)
        with session_scope(get_engine(settings.effective_database_url)) as session:
            action(session, cfg, settings)
    except (DomainError, LibreOfficeError, ConfigError) as exc:
        fail(str(exc))


@app.command("generer")
def generate(
    projet: str = typer.Argument(..., help="Référence (ex. IMP-2026-0001) ou identifiant du projet"),
    pdf: bool = typer.Option(False, "--pdf", help="Produire aussi les PDF/A-2b (LibreOffice)"),
    nouvelle_version: bool = typer.Option(
        False, "--nouvelle-version", help="Créer une nouvelle version même si le contenu n'a pas changé"
    ),
) -> None:
    """Génère le dossier de l'étape 5 d'un projet (DOCX, et PDF/A-2b avec --pdf)."""

    def action(session, cfg, settings):
        project = find_project(session, projet)
        if pdf:
            # LibreOffice runs outside any transaction: this command's session only read the project.
            session.rollback()
            engine = get_engine(settings.effective_database_url)
            records = generate_pack_with_pdf(
                engine, _id(project), cfg, settings, reuse_identical=not nouvelle_version
            )
        else:
            records = generate_pack(
                session, _id(project), cfg, settings, reuse_identical=not nouvelle_version
            )
        folder = project_dir(settings, project.reference)
        out.print(
            f"{len(records)} document(s) pour le projet {project.reference}, dans {folder} :", highlight=False
        )
        for r in records:
            extra = f" + {r.pdf_filename}" if r.pdf_filename else ""
            out.print(f"  • [{r.id}] {r.filename}{extra}", highlight=False)

    _run(action)


@app.command("lister")
def list_documents(projet: str = typer.Argument(..., help="Référence ou identifiant du projet")) -> None:
    """Liste les documents d'un projet et l'état de leurs signatures."""

    def action(session, cfg, settings):
        project = find_project(session, projet)
        states = document_states(session, _id(project), cfg)
        if not states:
            out.print(f"Aucun document pour le projet {project.reference}.", highlight=False)
            return
        table = Table(title=f"Documents du projet {project.reference}")
        for column in ("Id", "Document", "Opérateur", "Version", "État", "Signatures", "Manquent", "Fichier"):
            table.add_column(column)
        for s in states:
            signed = "\n".join(
                f"{p.role.label}{f' (par {p.signed_by.label})' if p.signed_by else ''} : "
                f"{p.signer_label} ({p.signed_on:%d/%m/%Y})"
                for p in s.parties
                if p.signed_on
            )
            version = f"v{s.record.version}" + ("" if s.latest else " (remplacée)")
            table.add_row(
                str(s.record.id),
                s.title,
                s.record.operateur_id or "—",
                version,
                s.status.label,
                signed or "—",
                "\n".join(s.missing_labels) or "—",
                s.record.filename,
            )
        out.print(table)

    _run(action)


@app.command("signer")
def sign(
    document: int = typer.Argument(..., help="Identifiant du document (voir « lister »)"),
    role: str = typer.Option(
        ..., "--role", help="Partie qui signe : siae, ep, prefet, ddets, disp, operateur"
    ),
    signataire: str = typer.Option(..., "--signataire", help="Nom et qualité du signataire"),
    le: str = typer.Option(..., "--date", help="Date de signature (AAAA-MM-JJ)"),
) -> None:
    """Enregistre la signature d'une partie sur une version de document."""
    try:
        party = Role.from_user(role)
    except ValueError:
        fail(f"rôle inconnu « {role} » (valeurs possibles : {', '.join(r.value for r in Role)}).")
    try:
        signed_on = date.fromisoformat(le)
    except ValueError:
        fail(f"date invalide « {le} » : format AAAA-MM-JJ attendu.")

    def action(session, cfg, settings):
        record = record_signature(session, document, party, signataire, signed_on, cfg)  # type: ignore[arg-type]
        out.print(
            f"Signature enregistrée ({party.label}). Document {record.filename} : {record.status.label}.",
            highlight=False,
        )

    _run(action)
