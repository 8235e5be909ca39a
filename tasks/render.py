"""Stage-5 documents: the pack is rendered by the documents service, which reuses identical drafts on replay."""

from prefect import task
from pydantic import BaseModel

from implantation import fault_points
from implantation.db.session import session_scope
from implantation.documents.render import LibreOfficeError
from implantation.documents.service import generate_pack
from implantation.services.errors import DomainError
from tasks.common import TASK_OPTIONS, runtime


class PackResult(BaseModel):
    """Ids only: CEP records name an opaque opérateur id, and nothing else leaves the database."""

    document_ids: list[int] = []
    problems: list[str] = []

    @property
    def ok(self) -> bool:
        return bool(self.document_ids) and not self.problems


@task(name="generer-documents", **TASK_OPTIONS)
def generate_documents(projet_id: int, tentative: int, saisie: int) -> PackResult:
    """Render the pack as DOCX drafts (the SIAE completes them); missing data is reported, not raised.

    ``saisie`` (the gate's ask number) makes each new ask re-render, so data completed after a refusal is
    taken into account; identical drafts are reused by the service, so nothing is duplicated.
    """
    settings, cfg, engine = runtime()
    try:
        with session_scope(engine) as session:
            records = generate_pack(session, projet_id, cfg, settings)
            result = PackResult(document_ids=[r.id for r in records if r.id is not None])
    except (DomainError, LibreOfficeError) as exc:
        problems = getattr(exc, "problems", None) or [str(exc)]
        return PackResult(problems=[str(p) for p in problems])
    fault_points.point("documents")  # files written and recorded, the task's result not yet stored
    return result
