"""The alarm of a signature that no longer verifies (a signed file altered in storage, a certificate
revoked since): told, like a broken journal, to ATIGIP and to the DISP of the project, the day the sweep
finds it. The message names the documents (file names carry the opérateur's opaque id, never a name) and
the parties; sent once a day per set of problems."""

import hashlib
from collections.abc import Sequence
from datetime import date

from sqlmodel import Session

from implantation.config.schema import ProcessConfig
from implantation.dates import fr_date
from implantation.db.models import ImplantationProject
from implantation.notifications.journal_mail import alarm_recipients
from implantation.notifications.mailer import MailKind, send_composed_once
from implantation.settings import Settings


def _text(reference: str, problems: Sequence[str], today: date) -> tuple[str, str]:
    lines = [
        "Bonjour,",
        "",
        f"Le balayage quotidien du {fr_date(today)} a trouvé, dans le projet {reference}, des signatures qui ne "
        "se vérifient plus :",
        "",
        *[f"  - {p}" for p in problems],
        "",
        "Un fichier signé conservé par l'application a été modifié, ou un certificat a été révoqué depuis la "
        f"signature. Le détail se vérifie sur le serveur par « siae documents verifier {reference} ». Le "
        "balayage échoue chaque jour tant qu'une signature ne se vérifie plus.",
        "",
        "L'outil de pilotage « SIAE en détention »",
        "",
        "--",
        "Message automatique : merci de ne pas y répondre.",
        "Ce message ne contient aucune donnée personnelle relative aux personnes détenues.",
    ]
    return f"[SIAE en détention] Signatures qui ne se vérifient plus (projet {reference})", "\n".join(lines)


def send_signature_alert(
    session: Session,
    cfg: ProcessConfig,
    settings: Settings,
    project: ImplantationProject,
    problems: Sequence[str],
    today: date,
) -> int:
    """How many people were told (0: nobody to tell, or told already today about these problems)."""
    recipients = alarm_recipients(session, cfg, project)
    if not recipients or not problems:
        return 0
    digest = hashlib.sha256("\n".join(problems).encode()).hexdigest()[:16]
    session.commit()  # the e-mail's claim is written by a session of its own
    record = send_composed_once(
        session,
        settings,
        project_id=project.id,
        stage=None,
        kind=MailKind.SIGNATURES_INVALID,
        dedup_key=f"signatures-invalides:{project.id}:{today.isoformat()}:{digest}",
        recipients=recipients,
        compose=lambda: _text(project.reference, problems, today),
    )
    return len(recipients) if record is not None else 0
