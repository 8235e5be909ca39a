"""``siae documents …``: generate the stage-5 pack, list documents and signatures, sign, deposit signed PDFs,
record handwritten signatures and verify them all again."""

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import typer
from rich.table import Table
from sqlmodel import Session

from implantation.cli.common import fail, out
from implantation.config.loader import ConfigError, get_process_config
from implantation.config.schema import ProcessConfig
from implantation.db.models import DocumentRecord, ImplantationProject
from implantation.db.session import get_engine, session_scope
from implantation.documents.render import LibreOfficeError
from implantation.documents.service import (
    document_states,
    ensure_pdfs,
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
        methods = _methods(session, [s.record for s in states])
        for s in states:
            signed = "\n".join(
                f"{p.role.label}{f' (par {p.signed_by.label})' if p.signed_by else ''} : "
                f"{p.signer_label} ({p.signed_on:%d/%m/%Y}) — {methods.get((s.record.id, p.role), '')}"
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


def _methods(session: Session, records: list) -> dict[tuple[int | None, Role], str]:
    """« signature électronique vérifiée », « signature manuscrite … » or « signature déclarée », per
    (document, signature given)."""
    from sqlmodel import col, select

    from implantation.db.models import SignatureEvidence, SignatureRecord
    from implantation.signatures.register import METHOD_LABELS

    found: dict[tuple[int | None, Role], str] = {}
    ids = [r.id for r in records]
    rows = session.exec(
        select(SignatureRecord, SignatureEvidence)
        .join(SignatureEvidence, col(SignatureEvidence.signature_id) == SignatureRecord.id, isouter=True)
        .where(col(SignatureRecord.document_id).in_(ids))
    )
    kinds = {r.id: r.kind for r in records}
    cfg = get_process_config(get_settings().config_dir)
    for signature, proof in rows:
        slot = cfg.documents.document[kinds[signature.document_id]].signs_for(signature.party_role)
        label = METHOD_LABELS[proof.method if proof else None]
        if proof is not None and proof.demonstration:
            label += " (certificat de DÉMONSTRATION)"
        found[(signature.document_id, slot or signature.party_role)] = label
    return found


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"fichier illisible « {path} » ({exc.strerror or type(exc).__name__}).")


def _print_deposit(result) -> None:
    name = result.record.pdf_filename or result.record.filename
    for match, check in result.recorded:
        by = f" (par {match.role.label})" if match.role != match.slot else ""
        demo = " — certificat de DÉMONSTRATION" if check.demonstration else ""
        out.print(
            f"Signature vérifiée et enregistrée : {match.slot.label}{by} — {check.common_name}, "
            f"{check.organisation} (certificat n° {check.serial}, émis par {check.issuer}){demo}.",
            highlight=False,
        )
    for check in result.already:
        out.print(
            f"Déjà enregistrée : signature « {check.field_name} » de {check.common_name}.", highlight=False
        )
    out.print(f"Document {name} : {result.record.status.label}.", highlight=False)


@app.command("deposer")
def deposit(
    projet: str = typer.Argument(..., help="Référence ou identifiant du projet"),
    fichier: str = typer.Argument(..., help="PDF signé rendu par une partie (parapheur, outil de la SIAE)"),
) -> None:
    """Dépose un PDF signé : chaque signature est vérifiée (contenu, certificat, signataire) puis enregistrée."""
    content = _read(Path(fichier))

    def action(session, cfg, settings):
        from implantation.signatures.register import deposit as register_deposit

        project = find_project(session, projet)
        _print_deposit(register_deposit(session, cfg, settings, _id(project), content))

    _run(action)


PASSWORD_VARIABLE = "SIAE_CERTIFICAT_MOT_DE_PASSE"


@app.command("signer")
def sign(
    cible: list[str] = typer.Argument(  # noqa: B008 - typer's way to declare a variable argument list
        ...,
        help="PROJET DOCUMENT avec --certificat ; DOCUMENT seul pour une signature déclarée (--role, "
        "--signataire, --date)",
        metavar="[PROJET] DOCUMENT",
    ),
    certificat: str | None = typer.Option(
        None,
        "--certificat",
        help=f"Fichier .p12 de l'agent ; mot de passe demandé, ou lu dans {PASSWORD_VARIABLE}",
    ),
    role: str | None = typer.Option(
        None, "--role", help="Signature déclarée : partie qui signe (siae, ep, prefet, ddets, disp)"
    ),
    signataire: str | None = typer.Option(None, "--signataire", help="Signature déclarée : nom et qualité"),
    le: str | None = typer.Option(None, "--date", help="Signature déclarée : date (AAAA-MM-JJ)"),
) -> None:
    """Signe une version avec un certificat (PAdES), ou enregistre une signature déclarée (hors PDF)."""
    if certificat is not None:
        if len(cible) != 2:
            fail(
                "avec --certificat, indiquez le projet puis le document : siae documents signer PROJET DOCUMENT --certificat agent.p12"
            )
        _sign_with_certificate(cible[0], cible[1], Path(certificat))
        return
    if len(cible) != 1 or role is None or signataire is None or le is None:
        fail(
            "indiquez --certificat agent.p12 (signature électronique : siae documents signer PROJET DOCUMENT "
            "--certificat agent.p12), ou, pour une signature déclarée d'un document signé hors de tout PDF, "
            "le document seul avec --role, --signataire et --date."
        )
    _declare(cible[0], role, signataire, le)


def _document_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        fail(f"identifiant de document invalide « {text} » : un nombre (voir « siae documents lister »).")


def _sign_with_certificate(projet: str, document: str, certificat: Path) -> None:
    document_id = _document_id(document)
    p12 = _read(certificat)
    password = os.environ.get(PASSWORD_VARIABLE)
    if password is None:
        password = typer.prompt("Mot de passe du certificat", hide_input=True, default="", show_default=False)

    def action(session, cfg, settings):
        from implantation.signatures.register import sign_with_certificate

        project = find_project(session, projet)
        # A version is signed on its PDF/A: made now if it was never exported, outside any transaction.
        session.rollback()
        ensure_pdfs(get_engine(settings.effective_database_url), settings, [document_id])
        _print_deposit(
            sign_with_certificate(session, cfg, settings, _id(project), document_id, p12, password)
        )

    _run(action)


def _declare(document: str, role: str, signataire: str, le: str) -> None:
    document_id = _document_id(document)
    try:
        party = Role.from_user(role)
    except ValueError:
        fail(f"rôle inconnu « {role} » (valeurs possibles : {', '.join(r.value for r in Role)}).")
    try:
        signed_on = date.fromisoformat(le)
    except ValueError:
        fail(f"date invalide « {le} » : format AAAA-MM-JJ attendu.")

    def action(session, cfg, settings):
        record = record_signature(session, document_id, party, signataire, signed_on, cfg)  # type: ignore[arg-type]
        out.print(
            f"Signature déclarée enregistrée ({party.label}). Document {record.filename} : {record.status.label}. "
            "Une signature déclarée ne compte pas pour l'étape 5 : déposez le PDF signé (siae documents "
            "deposer) ou signez avec un certificat (--certificat).",
            highlight=False,
        )

    _run(action)


@app.command("manuscrite")
def handwritten(
    projet: str = typer.Argument(..., help="Référence ou identifiant du projet"),
    document: int = typer.Argument(..., help="Identifiant du CEP ou de l'annexe (voir « lister »)"),
    fichier: str = typer.Argument(..., help="Numérisation de la page signée (PDF, PNG, JPEG ou TIFF)"),
    temoin: str = typer.Option(..., "--temoin", help="Nom et qualité de l'agent témoin de la signature"),
    le: str = typer.Option(..., "--date", help="Date de la signature (AAAA-MM-JJ)"),
) -> None:
    """Enregistre la signature manuscrite de l'opérateur : numérisation, empreinte, agent témoin, date."""
    content = _read(Path(fichier))
    try:
        signed_on = date.fromisoformat(le)
    except ValueError:
        fail(f"date invalide « {le} » : format AAAA-MM-JJ attendu.")

    def action(session, cfg, settings):
        from implantation import dates
        from implantation.signatures.register import record_handwritten

        project = find_project(session, projet)
        record = session.get(DocumentRecord, document)
        if record is None or record.project_id != project.id:
            raise DomainError(
                f"Document introuvable dans ce projet : identifiant {document}.", field="document"
            )
        record = record_handwritten(session, cfg, document, content, temoin, signed_on, dates.today())
        out.print(
            f"Signature manuscrite de l'opérateur enregistrée (témoin : {temoin.strip()}). "
            f"Document {record.filename} : {record.status.label}.",
            highlight=False,
        )

    _run(action)


@app.command("verifier")
def verify(projet: str = typer.Argument(..., help="Référence ou identifiant du projet")) -> None:
    """Vérifie de nouveau chaque signature enregistrée contre les octets conservés ; code 1 si l'une ne se vérifie plus."""
    failures: list[str] = []

    def action(session, cfg, settings):
        from implantation.signatures.register import verify_project

        project = find_project(session, projet)
        checks = verify_project(session, settings, _id(project))
        if not checks:
            out.print(f"Aucune signature enregistrée pour le projet {project.reference}.", highlight=False)
            return
        table = Table(title=f"Signatures du projet {project.reference}")
        for column in ("Document", "Version", "Partie", "Signataire", "Nature", "Vérification"):
            table.add_column(column)
        for c in checks:
            spec = cfg.documents.document[c.record.kind]
            slot = spec.signs_for(c.signature.party_role) or c.signature.party_role
            result = c.problem or ("non vérifiable (déclarée)" if c.method is None else "vérifiée")
            table.add_row(
                c.record.pdf_filename or c.record.filename,
                f"v{c.record.version}",
                slot.label,
                c.signature.signer_label,
                c.label,
                result,
            )
            if c.problem:
                failures.append(f"{c.record.pdf_filename or c.record.filename} ({slot.label}) : {c.problem}")
        out.print(table)

    _run(action)
    if failures:
        fail("signature(s) qui ne se vérifient plus :\n- " + "\n- ".join(failures))
