"""Re-sending a person's decision code, inside a run: the key that computes codes lives only where runs
execute, never on the workstations that start them (``siae decision renvoyer-code``, the run form)."""

from prefect import task
from pydantic import BaseModel
from sqlmodel import Session

from implantation.notifications.codes import resend_code
from implantation.notifications.mailer import MailError
from implantation.services.errors import DomainError
from implantation.services.projects import find_project
from tasks.common import TASK_OPTIONS, runtime


class CodeResent(BaseModel):
    """Whether the code went out, and the French sentence that says so or says why not (no code in it)."""

    sent: bool
    message: str


@task(name="renvoyer-code", **TASK_OPTIONS)
def resend_code_task(projet: str, etape: int, personne: str, requested_by: str) -> CodeResent:
    settings, cfg, engine = runtime()
    try:
        with Session(engine, expire_on_commit=False) as session:
            project = find_project(session, projet)
            person = resend_code(session, settings, cfg, project, etape, personne, requested_by=requested_by)
            session.commit()
            reference = project.reference
    except (DomainError, MailError) as exc:
        return CodeResent(sent=False, message=str(exc))
    return CodeResent(
        sent=True,
        message=f"Code de l'étape {etape} du projet {reference} renvoyé à {person.full_name} "
        f"({person.email}) ; l'envoi est inscrit au journal.",
    )
