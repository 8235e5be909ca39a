"""The national overview sent to ATIGIP: a short summary, the workbook and the chart attached.

Sent once a day at most, like every e-mail: its record (no project) carries the key of the day, so a
re-run of the deployment, even on demand, does not send it twice.
"""

from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, col, select

from implantation.config.schema import ProcessConfig
from implantation.dates import fr_date
from implantation.db.models import Person
from implantation.enums import Role
from implantation.notifications.mailer import Attachment, MailKind, send_composed_once
from implantation.services.overview import OverviewRow, counts
from implantation.settings import Settings

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def atigip_addresses(session: Session) -> list[str]:
    people = session.exec(select(Person).where(Person.role == Role.ATIGIP).order_by(col(Person.id)))
    return sorted({person.email for person in people})


def overview_text(cfg: ProcessConfig, rows: Sequence[OverviewRow], today: date) -> tuple[str, str]:
    figures = counts(list(rows), cfg.stage_numbers)
    total, late = sum(figures.per_stage.values()), sum(figures.late_per_stage.values())
    lines = [
        "Bonjour,",
        "",
        f"Voici le tableau national des implantations de SIAE en détention au {fr_date(today)} : "
        f"{total} projet(s) en cours, dont {late} en retard (jours ouvrés du département).",
        "",
        "Projets par étape en cours :",
    ]
    for number, count in figures.per_stage.items():
        lines.append(
            f"- étape {number} ({cfg.stage(number).titre}) : {count}"
            + (f", dont {figures.late_per_stage[number]} en retard" if figures.late_per_stage[number] else "")
        )
    lines += ["", "Projets par DISP :"]
    for code, count in figures.per_disp.items():
        extra = f", dont {figures.late_per_disp[code]} en retard" if figures.late_per_disp.get(code) else ""
        lines.append(f"- {code} : {count}{extra}")
    suspended = [r for r in rows if r.suspended_on is not None]
    if suspended:
        lines += ["", "Étapes suspendues (horloge arrêtée, en attente de l'autre partie) :"]
        lines += [
            f"- {r.reference} ({r.establishment}), étape {r.stage}, depuis le {fr_date(r.suspended_on)} : "
            f"{r.suspension_reason or 'motif non précisé'}"
            for r in suspended
        ]
    lines += [
        "",
        "Le classeur joint détaille chaque projet (filtres, retards surlignés, synthèse par étape et par "
        "DISP) ; le graphique joint résume la situation.",
        "",
        "Cordialement,",
        "L'outil de pilotage « SIAE en détention »",
        "",
        "--",
        "Message automatique : merci de ne pas y répondre.",
        "Ce message ne contient aucune donnée personnelle relative aux personnes détenues.",
    ]
    return (
        f"[SIAE en détention] Tableau national au {today:%d/%m/%Y} : {late} projet(s) en retard",
        "\n".join(lines),
    )


def send_overview(
    session: Session,
    cfg: ProcessConfig,
    settings: Settings,
    rows: Sequence[OverviewRow],
    today: date,
    xlsx: bytes,
    png: bytes,
) -> list[str]:
    """Send to every ATIGIP person, once a day; returns the addresses (empty: nobody to send to, or sent
    already today)."""
    recipients = atigip_addresses(session)
    if not recipients:
        return []
    session.commit()  # the e-mail's claim is written by a session of its own
    record = send_composed_once(
        session,
        settings,
        project_id=None,
        stage=None,
        kind=MailKind.NATIONAL_OVERVIEW,
        dedup_key=f"tableau-national:{today.isoformat()}",
        recipients=recipients,
        compose=lambda: overview_text(cfg, rows, today),
        attachments=[
            Attachment(f"tableau-national_{today.isoformat()}.xlsx", xlsx, XLSX_MIMETYPE),
            Attachment(f"tableau-national_{today.isoformat()}.png", png, "image/png"),
        ],
    )
    if record is None:  # already sent today
        return []
    return [address.strip() for address in record.recipients.split(",") if address.strip()]
