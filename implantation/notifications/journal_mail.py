"""The alarm of a broken journal: the national administrators (ATIGIP) and the DISP of the project whose
row no longer fits the chain are told the day the sweep finds it.

The message names the link (table, row, rank), as ``siae journal verifier`` does, and no person: what was
rewritten is for them to investigate from the database, not to read in a mailbox. Sent once a day per
problem: a sweep run again the same day does not send it twice.
"""

import hashlib
from datetime import date

from sqlmodel import Session

from implantation.config.schema import ProcessConfig
from implantation.dates import fr_date
from implantation.db.journal import Verification
from implantation.db.models import ImplantationProject
from implantation.enums import Role
from implantation.notifications.mailer import MailKind, send_composed_once
from implantation.notifications.overview_mail import atigip_addresses
from implantation.notifications.recipients import addresses, persons_for_role
from implantation.settings import Settings


def alarm_recipients(session: Session, cfg: ProcessConfig, project: ImplantationProject | None) -> list[str]:
    """ATIGIP's people, then the DISP people of ``project`` (when an alarm names one): who hears of an
    alteration, of the journal or of a signature."""
    found = list(atigip_addresses(session))
    if project is not None:
        found += addresses(persons_for_role(session, cfg, project, Role.DISP))
    return list(dict.fromkeys(found))


def alert_recipients(session: Session, cfg: ProcessConfig, verification: Verification) -> list[str]:
    project_id = verification.broken_project_id
    project = session.get(ImplantationProject, project_id) if project_id is not None else None
    return alarm_recipients(session, cfg, project)


def _text(verification: Verification, today: date, reference: str | None) -> tuple[str, str]:
    where = f" (projet {reference})" if reference else ""
    lines = [
        "Bonjour,",
        "",
        f"Le balayage quotidien du {fr_date(today)} a trouvé le journal des décisions altéré{where} :",
        "",
        f"  {verification.problem}.",
        "",
        "Une ligne du journal (décisions, documents, signatures) a été modifiée, insérée ou supprimée hors de "
        "l'application. Le détail se vérifie sur le serveur par « siae journal verifier », et une empreinte "
        "publiée auparavant (artefact « empreinte-journal ») par « siae journal verifier --empreinte "
        "EMPREINTE ». Le balayage échoue chaque jour tant que la chaîne est rompue.",
        "",
        "L'outil de pilotage « SIAE en détention »",
        "",
        "--",
        "Message automatique : merci de ne pas y répondre.",
        "Ce message ne contient aucune donnée personnelle relative aux personnes détenues.",
    ]
    return f"[SIAE en détention] Journal des décisions altéré{where}", "\n".join(lines)


def send_journal_alert(
    session: Session, cfg: ProcessConfig, settings: Settings, verification: Verification, today: date
) -> int:
    """How many people were told (0: nobody to tell, or told already today about this problem)."""
    assert verification.problem is not None
    recipients = alert_recipients(session, cfg, verification)
    if not recipients:
        return 0
    project_id = verification.broken_project_id
    project = session.get(ImplantationProject, project_id) if project_id is not None else None
    reference = project.reference if project is not None else None
    problem = hashlib.sha256(verification.problem.encode()).hexdigest()[:16]
    session.commit()  # the e-mail's claim is written by a session of its own
    record = send_composed_once(
        session,
        settings,
        project_id=project.id if project is not None else None,
        stage=None,
        kind=MailKind.JOURNAL_ALTERED,
        dedup_key=f"journal-altere:{today.isoformat()}:{problem}",
        recipients=recipients,
        compose=lambda: _text(verification, today, reference),
    )
    return len(recipients) if record is not None else 0
