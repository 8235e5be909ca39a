"""Rendering and sending of the French e-mails, each recorded once under its deduplication key.

Delivery guarantee: **at least once**, with no database lock held while the SMTP server talks.
:func:`send_once` *claims* the key first: it inserts the :class:`NotificationRecord` marked ``pending`` and
commits it at once, in a short transaction of its own; then it talks to the SMTP server (up to 30 s); then it
marks the record sent, again in a short transaction. So:

* no write transaction stays open across the SMTP exchange: on SQLite, other writers (a decision, the
  Prefect-driven tasks) never wait for a slow mail server;
* a concurrent resume finding a fresh claim (or inserting the same ``dedup_key`` at the same moment) fails
  before any mail goes out (:class:`NotificationConflict`);
* an SMTP failure removes the claim and raises :class:`MailError`: nothing is recorded and a retry sends
  the mail;
* a crash between the claim and the confirmation leaves a pending claim; once older than
  :data:`CLAIM_STALE_AFTER` (twice the SMTP timeout, so no live sender still owns it) a retry takes it over
  and sends, possibly a second time: a duplicate reminder is harmless whereas a lost approval request
  silently blocks a project. The ``Message-ID`` is derived from the ``dedup_key`` so that mail clients can
  fold such a duplicate.

The claim is committed on its own connection, so the caller's session must not hold uncommitted writes
when it calls :func:`send_once` (on SQLite they would hold the lock the claim needs, and what the e-mail
reports must be committed before it goes): the caller commits them first, and :func:`send_once` refuses
to run otherwise rather than end the caller's transaction behind its back.
"""

import hashlib
import logging
import re
import smtplib
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateError, UndefinedError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, delete, select, update

from implantation import fault_points
from implantation.dates import fr_date, fr_datetime
from implantation.db.models import (
    ImplantationProject,
    NotificationRecord,
    Operateur,
    OperateurIdentity,
    utcnow,
)
from implantation.db.session import has_uncommitted_writes
from implantation.enums import LabelledEnum
from implantation.settings import Settings

logger = logging.getLogger(__name__)

SUBJECT_PREFIX = "[SIAE en détention]"
SMTP_TIMEOUT_SECONDS = 30
CLAIM_STALE_AFTER = timedelta(seconds=2 * SMTP_TIMEOUT_SECONDS)
DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# Keys that would carry a detainee's identity. Templates never ask for them; refusing them here
# means a careless context builder fails loudly instead of mailing personal data.
FORBIDDEN_KEYS = frozenset(
    {
        "first_name",
        "last_name",
        "prenom",
        "nom_detenu",
        "nom_operateur",
        "ecrou",
        "ecrou_number",
        "numero_ecrou",
        "birth_date",
        "date_naissance",
        "identite",
        "identity",
    }
)


class MailError(Exception):
    """An e-mail could not be rendered or sent; the message is French and nothing was recorded."""


class NotificationConflict(MailError):
    """Another run recorded the same notification first; the caller must roll back."""


class MailKind(LabelledEnum):
    """Values are stored in ``NotificationRecord.kind`` and in deduplication keys: never change them."""

    STAGE_OPENED = "ouverture_etape", "Ouverture d'étape"
    APPROVAL_REQUEST = "demande_decision", "Demande de décision"
    REMINDER = "rappel", "Rappel d'échéance"
    ESCALATION = "relance", "Relance (échéance dépassée)"
    DECISION = "decision", "Décision"
    DRAFTS = "projets_documents", "Projets de documents"
    LAUNCH = "lancement", "Lancement de l'activité"
    CODE_RESENT = "renvoi_code", "Code de décision renvoyé"
    GATE_LOCKED = "porte_verrouillee", "Décision bloquée (codes erronés)"
    NATIONAL_OVERVIEW = "tableau_national", "Tableau national"
    AVENANT = "avenant_cep", "Avenant dû aux CEP (nouveau SMIC)"
    JOURNAL_ALTERED = "journal_altere", "Journal des décisions altéré"
    SIGNATURES_INVALID = "signatures_invalides", "Signatures qui ne se vérifient plus"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str = DOCX_MIMETYPE


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("implantation.notifications", "templates"),
        autoescape=False,  # plain-text mail: HTML escaping would print "&amp;" to the reader
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["date_fr"] = fr_date
    env.filters["datetime_fr"] = fr_datetime
    return env


_ENV = _environment()
_REFERENCE = _ENV.from_string("{{ projet.reference }}")  # compiled once: ``from_string`` is not cached


def compile_templates() -> None:
    """Compile every e-mail template now (the runner's forkserver does, so that its runs find them)."""
    for name in _ENV.list_templates(extensions=["j2"]):
        _ENV.get_template(name)


def _refuse_personal_data(value: Any, path: str = "contexte") -> None:
    if isinstance(value, Operateur | OperateurIdentity):
        raise MailError(
            f"Courriel refusé : « {path} » contient des données d'un opérateur (personne détenue)."
        )
    if isinstance(value, Mapping):
        for key, item in value.items():
            if str(key).casefold() in FORBIDDEN_KEYS:
                raise MailError(
                    f"Courriel refusé : la clé « {key} » ({path}) désigne une donnée personnelle "
                    "de personne détenue, qui ne doit jamais figurer dans un courriel."
                )
            _refuse_personal_data(item, f"{path}.{key}")
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            _refuse_personal_data(item, f"{path}[{index}]")


def render_mail(kind: MailKind, context: Mapping[str, Any]) -> tuple[str, str]:
    """French (subject, body) of one e-mail; every key the template uses must be in ``context``."""
    _refuse_personal_data(context)
    try:
        template = _ENV.get_template(f"{kind.value}.j2")
        subject = "".join(template.blocks["subject"](template.new_context(dict(context))))
        reference = _REFERENCE.render(context)
        body = template.render(context)
    except UndefinedError as exc:
        raise MailError(
            f"Courriel « {kind.label} » : donnée manquante pour le modèle ({exc.message})."
        ) from None
    except TemplateError as exc:
        raise MailError(f"Courriel « {kind.label} » : modèle invalide ({exc}).") from None
    subject = f"{SUBJECT_PREFIX} {reference} – {' '.join(subject.split())}"
    body = re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"
    return subject, body


def _clean_recipients(recipients: Sequence[str]) -> list[str]:
    seen: dict[str, str] = {}
    for raw in recipients:
        address = raw.strip()
        if "\n" in address or "\r" in address or "@" not in parseaddr(address)[1]:
            raise MailError(f"Adresse électronique invalide : « {address} ».")
        seen.setdefault(address.casefold(), address)
    if not seen:
        raise MailError("Aucun destinataire : le courriel n'a pas été envoyé.")
    return list(seen.values())


def message_id(dedup_key: str, mail_from: str) -> str:
    """Same key, same Message-ID: a duplicate from an at-least-once retry can be recognised."""
    domain = mail_from.rpartition("@")[2] or "siae-penitentiaire.local"
    return f"<{hashlib.sha256(dedup_key.encode()).hexdigest()[:32]}@{domain}>"


def build_message(
    settings: Settings,
    *,
    dedup_key: str,
    recipients: Sequence[str],
    subject: str,
    body: str,
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = message_id(dedup_key, settings.mail_from)
    message["Content-Language"] = "fr"
    # RFC 3834: out-of-office robots must not answer an automatic mail.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body, charset="utf-8")
    for attachment in attachments:
        maintype, _, subtype = attachment.mimetype.partition("/")
        if not subtype:
            raise MailError(
                f"Pièce jointe « {attachment.filename} » : type MIME invalide « {attachment.mimetype} »."
            )
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "authentification refusée (vérifier SIAE_SMTP_USER et SIAE_SMTP_PASSWORD)"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "tous les destinataires ont été refusés"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"adresse d'expédition refusée (code {exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return "le serveur ne prend pas en charge STARTTLS ou l'authentification demandée"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "connexion interrompue par le serveur"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"le serveur a répondu par une erreur (code {exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPException):
        return "erreur du protocole SMTP"
    if isinstance(exc, ConnectionRefusedError):
        return "connexion refusée (serveur arrêté ou mauvais port)"
    if isinstance(exc, TimeoutError):
        return f"aucune réponse après {SMTP_TIMEOUT_SECONDS} secondes"
    if isinstance(exc, ssl.SSLError):
        return "échec de la négociation TLS"
    return f"erreur réseau ({exc.__class__.__name__})"


def deliver(settings: Settings, message: EmailMessage, recipients: Sequence[str]) -> dict[str, Any]:
    """Hand the message to the SMTP server; returns the recipients it refused (others got it)."""
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            return dict(smtp.send_message(message, from_addr=settings.mail_from, to_addrs=list(recipients)))
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(
            f"Envoi du courriel impossible par le serveur SMTP {settings.smtp_host}:{settings.smtp_port} : "
            f"{_reason(exc)}. Rien n'a été enregistré ; l'envoi sera retenté à la reprise."
        ) from exc


def already_sent(session: Session, dedup_key: str) -> NotificationRecord | None:
    """The notification recorded under ``dedup_key``, read in a session of its own that gives its
    connection back at once (the row comes back detached, its values loaded).

    Read in the caller's session, it began a transaction there that held a connection while the claim
    took a second one: each run that sends mail opened two connections to the database, and on
    PostgreSQL each new connection is a new server process (about 5 per transition under the national
    load, 3.75 ms of PostgreSQL's CPU each). A caller that committed before sending (the stage tasks)
    holds none, and the claim reuses this one from the pool.
    """
    with Session(session.get_bind(), expire_on_commit=False) as own:
        return own.exec(select(NotificationRecord).where(NotificationRecord.dedup_key == dedup_key)).first()


def _conflict(kind: MailKind, dedup_key: str) -> NotificationConflict:
    return NotificationConflict(
        f"Le courriel « {kind.label} » (clé {dedup_key}) est en cours d'envoi par une autre exécution : "
        "rien n'a été envoyé. La reprise constatera l'envoi."
    )


def _claim(
    session: Session, kind: MailKind, record: NotificationRecord, stale: NotificationRecord | None
) -> NotificationRecord:
    """Commit the claim on the key in a transaction of its own; returns the claimed row, detached.

    ``expire_on_commit=False``: the row's values are known, reading them back would cost a query.
    """
    with Session(session.get_bind(), expire_on_commit=False) as claim:
        try:
            if stale is None:
                claim.add(record)
                claim.commit()
                return record
            # Take over a crashed sender's claim, unless another retry just did.
            record.id = stale.id
            taken = claim.execute(
                update(NotificationRecord)
                .where(
                    col(NotificationRecord.id) == stale.id, col(NotificationRecord.sent_at) == stale.sent_at
                )
                .values(sent_at=record.sent_at, recipients=record.recipients, subject=record.subject)
                .execution_options(synchronize_session=False)
            )
            claim.commit()
        except IntegrityError:
            claim.rollback()
            raise _conflict(kind, record.dedup_key) from None
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise _conflict(kind, record.dedup_key)
    make_transient_to_detached(record)
    return record


def _settle(session: Session, record_id: int, recipients: str | None) -> None:
    """Confirm the claim (``recipients``: who got it) or, with ``None``, remove it."""
    where = col(NotificationRecord.id) == record_id
    statement = (
        delete(NotificationRecord).where(where)
        if recipients is None
        else update(NotificationRecord).where(where).values(pending=False, recipients=recipients)
    )
    with Session(session.get_bind()) as own:
        own.execute(statement.execution_options(synchronize_session=False))
        own.commit()


def send_once(
    session: Session,
    settings: Settings,
    *,
    project_id: int,
    stage: int | None,
    kind: MailKind,
    dedup_key: str,
    recipients: Sequence[str],
    context: Mapping[str, Any],
    attachments: Sequence[Attachment] = (),
) -> NotificationRecord | None:
    """Send the e-mail unless ``dedup_key`` was already recorded; ``None`` means "already sent".

    The record is committed by :func:`send_once` itself (see the module docstring); the returned row is
    loaded in the caller's session.
    """
    return send_composed_once(
        session,
        settings,
        project_id=project_id,
        stage=stage,
        kind=kind,
        dedup_key=dedup_key,
        recipients=recipients,
        compose=lambda: render_mail(kind, context),
        attachments=attachments,
    )


def send_composed_once(
    session: Session,
    settings: Settings,
    *,
    project_id: int | None,
    stage: int | None,
    kind: MailKind,
    dedup_key: str,
    recipients: Sequence[str],
    compose: Callable[[], tuple[str, str]],
    attachments: Sequence[Attachment] = (),
) -> NotificationRecord | None:
    """:func:`send_once` for a message composed by the caller (``compose`` gives subject and body, and runs
    only if the mail is still to send); ``project_id`` is None for a mail about every project."""
    if len(dedup_key) > 200:
        raise MailError(f"Clé de déduplication trop longue ({len(dedup_key)} caractères, 200 au plus).")
    if has_uncommitted_writes(session):
        raise RuntimeError(
            f"send_once({dedup_key}) called with uncommitted writes: the caller commits what the e-mail "
            "reports before it goes (the claim is written by a session of its own)."
        )
    existing = already_sent(session, dedup_key)
    if existing is not None and not existing.pending:
        logger.info("Courriel %s déjà envoyé (clé %s) : rien à faire.", kind.value, dedup_key)
        return None
    if existing is not None and utcnow() - _aware(existing.sent_at) < CLAIM_STALE_AFTER:
        raise _conflict(kind, dedup_key)
    if project_id is not None and session.get(ImplantationProject, project_id) is None:
        raise MailError(f"Courriel non envoyé : projet introuvable (identifiant {project_id}).")
    addresses = _clean_recipients(recipients)
    subject, body = compose()
    message = build_message(
        settings,
        dedup_key=dedup_key,
        recipients=addresses,
        subject=subject,
        body=body,
        attachments=attachments,
    )
    claimed = NotificationRecord(
        project_id=project_id,
        stage=stage,
        kind=kind.value,
        dedup_key=dedup_key,
        recipients=", ".join(addresses),
        subject=subject[:300],
        pending=True,
    )
    claimed = _claim(session, kind, claimed, existing)
    assert claimed.id is not None
    try:
        refused = deliver(settings, message, addresses)
    except MailError:
        _settle(session, claimed.id, None)
        raise
    except BaseException:
        # Interrupted mid-exchange: the mail may have gone; the claim goes stale and a retry resends.
        raise
    if refused:
        logger.warning(
            "Courriel %s (clé %s) : %d destinataire(s) refusé(s) par le serveur SMTP.",
            kind.value,
            dedup_key,
            len(refused),
        )
    delivered_to = ", ".join(a for a in addresses if a not in refused)
    _settle(session, claimed.id, delivered_to)
    fault_points.point("courriel")  # delivered and recorded, the caller not yet told
    logger.info("Courriel %s envoyé (clé %s, %d destinataire(s)).", kind.value, dedup_key, len(addresses))
    # The row as now committed, placed in the caller's session without reading it back.
    set_committed_value(claimed, "pending", False)
    set_committed_value(claimed, "recipients", delivered_to)
    set_committed_value(claimed, "sent_at", _aware(claimed.sent_at))
    return session.merge(claimed, load=False)


def _aware(moment: Any) -> Any:
    """SQLite gives naive datetimes back (stored in UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
