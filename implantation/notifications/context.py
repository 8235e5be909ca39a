"""Contexts of the e-mail templates, built from the database and the process configuration.

Contexts hold professional data only (project reference, establishment, roles, contacts' names):
detainees are never named in a mail, and the templates ask for no key that could carry them.
Dates stay ``date`` objects; templates format them with the ``date_fr`` filter.
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlmodel import Session

from implantation.config.schema import DecisionKind, ProcessConfig
from implantation.dates import days_late
from implantation.db.models import (
    Establishment,
    ImplantationProject,
    Person,
    Siae,
    StageRecord,
    TransitionLog,
)
from implantation.enums import Decision
from implantation.services.workflow import get_stage


def flow_run_url(prefect_ui_url: str, flow_run_id: UUID | str | None) -> str | None:
    """Link to a flow run in the Prefect UI, where an approver answers the pause."""
    if flow_run_id is None:
        return None
    return f"{prefect_ui_url.rstrip('/')}/runs/flow-run/{flow_run_id}"


def contact_line(person: Person) -> str:
    return f"{person.full_name} ({person.organisation})"


def project_context(session: Session, project: ImplantationProject) -> dict[str, Any]:
    establishment = session.get(Establishment, project.establishment_id)
    if establishment is None:
        raise ValueError(f"établissement introuvable pour le projet {project.reference}")
    siae = session.get(Siae, project.siae_id) if project.siae_id is not None else None
    lead = session.get(Person, project.lead_id)
    return {
        "reference": project.reference,
        "etablissement": establishment.name,
        "type_etablissement": establishment.type.label,
        "ville": establishment.city,
        "departement": establishment.departement,
        "siae": siae.name if siae else None,
        "activite": project.activity or None,
        "chef_de_projet": contact_line(lead) if lead else None,
    }


def stage_context(cfg: ProcessConfig, record: StageRecord) -> dict[str, Any]:
    stage = cfg.stage(record.stage)
    return {
        "numero": stage.numero,
        "titre": stage.titre,
        "objectifs": list(stage.objectifs),
        "actions": list(stage.actions),
        "livrables": [d.titre for d in stage.livrables],
        "pilotes": [r.label for r in stage.pilotes],
        "participants": [r.label for r in stage.participants],
        "decisions": [
            {"titre": d.titre, "attendus": list(d.attendus), "roles": [r.label for r in d.roles]}
            for d in stage.decisions
        ],
        "ouverte_le": record.opened_on,
        "echeance": record.due_on,
        "tentative": record.attempt,
    }


def base_context(
    session: Session,
    cfg: ProcessConfig,
    project: ImplantationProject,
    stage: int | None,
    lien: str | None = None,
) -> dict[str, Any]:
    record = get_stage(session, project.id, stage) if stage is not None else None  # type: ignore[arg-type]
    return {
        "projet": project_context(session, project),
        "etape": stage_context(cfg, record) if record is not None else None,
        "lien": lien,
    }


def stage_opened_context(
    session: Session,
    cfg: ProcessConfig,
    project: ImplantationProject,
    stage: int,
    *,
    pilots: Sequence[Person] = (),
    lien: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """``reason`` is the motive of a send-back when the stage is reopened."""
    context = base_context(session, cfg, project, stage, lien)
    context["contacts_pilotes"] = [contact_line(p) for p in pilots]
    context["motif_reouverture"] = reason
    return context


def approval_request_context(
    session: Session,
    cfg: ProcessConfig,
    project: ImplantationProject,
    stage: int,
    *,
    lien_decision: str,
    code: str | None = None,
) -> dict[str, Any]:
    """``code``: the recipient's own one-time code for this gate (one e-mail per person allowed to decide)."""
    context = base_context(session, cfg, project, stage, lien_decision)
    context["lien_decision"] = lien_decision
    context["code"] = code
    return context


def reminder_context(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, stage: int, today: date
) -> dict[str, Any]:
    context = base_context(session, cfg, project, stage)
    due = context["etape"]["echeance"]
    context["jours_restants"] = (due - today).days
    return context


def escalation_context(
    session: Session,
    cfg: ProcessConfig,
    project: ImplantationProject,
    stage: int,
    today: date,
    escalation_number: int,
) -> dict[str, Any]:
    """``escalation_number`` counts from 0, as in the deduplication key; mails show it from 1."""
    context = base_context(session, cfg, project, stage)
    due = context["etape"]["echeance"]
    context["jours_retard"] = days_late(due, today)
    context["numero_relance"] = escalation_number + 1
    context["intervalle_jours"] = cfg.calendar.relance_intervalle_jours
    return context


def decision_context(
    session: Session,
    cfg: ProcessConfig,
    project: ImplantationProject,
    stage: int,
    *,
    decision: Decision,
    author: str,
    decided_at: datetime | date,
    reason: str | None = None,
    target_stage: int | None = None,
    lien: str | None = None,
) -> dict[str, Any]:
    context = base_context(session, cfg, project, stage, lien)
    next_stage = cfg.next_stage(stage) if decision == Decision.APPROVE else None
    context["decision"] = {
        "code": decision.value,
        "auteur": author,
        "date": decided_at,
        "motif": (reason or "").strip() or None,
        "etape_renvoi": (
            {"numero": target_stage, "titre": cfg.stage(target_stage).titre}
            if target_stage is not None
            else None
        ),
        "etape_suivante": {"numero": next_stage, "titre": cfg.stage(next_stage).titre}
        if next_stage
        else None,
    }
    return context


def logged_decision_context(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, row: TransitionLog, lien: str | None
) -> dict[str, Any]:
    """The decision e-mail as the decision was logged: a send-back names the stage its row says it reopened,
    not the project's current stage, which may have moved on by the time the e-mail goes (a replay)."""
    assert row.stage is not None
    decision = Decision(row.transition)  # type: ignore[call-arg]  # the enum's lookup by value
    return decision_context(
        session,
        cfg,
        project,
        row.stage,
        decision=decision,
        author=row.actor_label,
        decided_at=row.at,
        reason=row.reason,
        target_stage=row.next_stage if decision == Decision.SEND_BACK else None,
        lien=lien,
    )


def drafts_context(
    session: Session,
    cfg: ProcessConfig,
    project: ImplantationProject,
    documents: Sequence[str],
    *,
    stage: int | None = None,
    lien: str | None = None,
) -> dict[str, Any]:
    """``documents`` are the titles of the attached drafts (e.g. ``DocumentKind.label``); they belong to the
    stage whose gate approves the convention unless ``stage`` says otherwise."""
    if stage is None:
        stage = cfg.stage_of(DecisionKind.CONVENTION_APPROVAL)
    context = base_context(session, cfg, project, stage, lien)
    context["documents"] = list(documents)
    return context


def launch_context(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, *, lien: str | None = None
) -> dict[str, Any]:
    context = base_context(session, cfg, project, None, lien)
    context["date_lancement"] = project.launch_date
    return context
