"""The national overview (ATIGIP): every project, its current stage, its delay and where it stands.

A read model built in a fixed handful of queries whatever the number of projects (about 190
establishments): projects with their establishment and SIAE, current stages, last decisions,
documents, opérateurs and suspension motifs are each read once and joined in memory. It names
professionals and structures only: opérateurs are counted, never named.
"""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, func, select

from implantation.calendar import working_days_between
from implantation.config.schema import ProcessConfig
from implantation.db.models import (
    DocumentRecord,
    Establishment,
    ImplantationProject,
    Operateur,
    Siae,
    StageRecord,
    TransitionLog,
)
from implantation.enums import (
    OPERATEUR_DOCUMENT_KINDS,
    PROJECT_DOCUMENT_KINDS,
    DocumentStatus,
    OperateurStatus,
    ProjectStatus,
    StageStatus,
)
from implantation.services.errors import DomainError
from implantation.services.projects import pilots, suspension_reasons

# Transitions shown as « last decision » (state changes someone decided, not the system's openings).
DECISION_LABELS = {
    "approuver": "Approbation",
    "rejeter": "Rejet",
    "renvoyer": "Renvoi",
    "suspendre": "Suspension",
    "reprendre": "Reprise",
    "lancer": "Lancement",
    "abandonner": "Abandon",
}


@dataclass(frozen=True)
class OverviewFilters:
    disp: str | None = None
    region: str | None = None
    departement: str | None = None
    stage: int | None = None
    late_only: bool = False


@dataclass(frozen=True)
class OverviewRow:
    project_id: int
    reference: str
    establishment: str
    disp: str
    region: str
    departement: str
    siae: str | None
    activity: str | None
    status: ProjectStatus
    stage: int
    stage_title: str
    stage_status: StageStatus
    pilot_roles: str
    due_on: date | None
    late_days: int
    suspended_on: date | None
    suspension_reason: str | None
    last_decision: str | None
    last_decision_at: datetime | None
    last_decision_by: str | None
    documents_signed: int
    documents_required: int
    operateurs_cep: int

    @property
    def late(self) -> bool:
        return self.late_days > 0


def _departements(cfg: ProcessConfig, filters: OverviewFilters) -> set[str] | None:
    """The départements the territorial filters keep (None: no territorial filter)."""
    territory = cfg.territory
    keep: set[str] | None = None
    if filters.disp:
        wanted = filters.disp.strip().upper()
        if wanted not in territory.disp:
            known = ", ".join(sorted(territory.disp))
            raise DomainError(
                f"Champ « disp » : DISP inconnue « {filters.disp} » (connues : {known}).", "disp"
            )
        keep = {code for code, dep in territory.departement.items() if dep.disp == wanted}
    if filters.region:
        wanted = filters.region.strip()
        codes = {
            code
            for code, region in territory.region.items()
            if wanted == code or wanted.casefold() == region.nom.casefold()
        }
        if not codes:
            raise DomainError(
                f"Champ « region » : région inconnue « {filters.region} » (code INSEE ou nom attendu).",
                "region",
            )
        found = {code for code, dep in territory.departement.items() if dep.region in codes}
        keep = found if keep is None else keep & found
    if filters.departement:
        wanted = filters.departement.strip().upper()
        if wanted not in territory.departement:
            raise DomainError(
                f"Champ « departement » : département inconnu « {filters.departement} ».", "departement"
            )
        keep = {wanted} if keep is None else keep & {wanted}
    return keep


def late_working_days(record: StageRecord, departement: str, today: date) -> int:
    """Working days of the département past the due date; frozen while the clock is stopped."""
    if record.due_on is None or record.status not in (StageStatus.OPEN, StageStatus.SUSPENDED):
        return 0
    until = record.suspended_on if record.suspended_on is not None else today
    return working_days_between(record.due_on, until, departement)


def _last_decisions(session: Session, ids: list[int]) -> dict[int, TransitionLog]:
    latest = (
        select(func.max(TransitionLog.id))
        .where(
            col(TransitionLog.project_id).in_(ids),
            col(TransitionLog.transition).in_(list(DECISION_LABELS)),
            col(TransitionLog.accepted).is_(True),
        )
        .group_by(col(TransitionLog.project_id))
    )
    rows = session.exec(select(TransitionLog).where(col(TransitionLog.id).in_(latest))).all()
    return {row.project_id: row for row in rows}


def _documents(session: Session, ids: list[int]) -> dict[int, set[tuple[str, str | None]]]:
    """Per project, the documents whose latest version is fully signed."""
    rows = session.exec(select(DocumentRecord).where(col(DocumentRecord.project_id).in_(ids))).all()
    latest: dict[tuple[int, str, str | None], tuple[int, DocumentStatus]] = {}
    for doc in rows:
        key = (doc.project_id, doc.kind.value, doc.operateur_id)
        if key not in latest or latest[key][0] < doc.version:
            latest[key] = (doc.version, doc.status)
    signed: dict[int, set[tuple[str, str | None]]] = defaultdict(set)
    for (pid, kind, op), (_version, status) in latest.items():
        if status == DocumentStatus.SIGNED:
            signed[pid].add((kind, op))
    return signed


def _operateurs(session: Session, ids: list[int]) -> dict[int, set[str]]:
    rows = session.exec(
        select(Operateur.project_id, Operateur.id).where(
            col(Operateur.project_id).in_(ids), Operateur.status == OperateurStatus.ASSIGNED
        )
    ).all()
    assigned: dict[int, set[str]] = defaultdict(set)
    for pid, op in rows:
        assigned[pid].add(op)
    return assigned


def overview(
    session: Session, cfg: ProcessConfig, today: date, filters: OverviewFilters | None = None
) -> list[OverviewRow]:
    """Every project (filtered), in reference order; six queries whatever the number of projects."""
    filters = filters or OverviewFilters()
    if filters.stage is not None and not 1 <= filters.stage <= len(cfg.stages.etape):
        raise DomainError(
            f"Champ « etape » : numéro d'étape {filters.stage} invalide (1 à {cfg.last_stage}).", "etape"
        )
    departements = _departements(cfg, filters)
    query = (
        select(ImplantationProject, Establishment, Siae.name, StageRecord)
        .join(Establishment, col(Establishment.id) == col(ImplantationProject.establishment_id))
        .join(
            StageRecord,
            (col(StageRecord.project_id) == col(ImplantationProject.id))
            & (col(StageRecord.stage) == col(ImplantationProject.current_stage)),
        )
        .outerjoin(Siae, col(Siae.id) == col(ImplantationProject.siae_id))
        .order_by(col(ImplantationProject.reference))
    )
    if departements is not None:
        query = query.where(col(Establishment.departement).in_(sorted(departements)))
    if filters.stage is not None:
        query = query.where(ImplantationProject.current_stage == filters.stage)
    found = session.exec(query).all()
    ids = [project.id for project, *_ in found if project.id is not None]
    if not ids:
        return []
    decisions = _last_decisions(session, ids)
    signed = _documents(session, ids)
    assigned = _operateurs(session, ids)
    reasons = suspension_reasons(session, ids)
    rows: list[OverviewRow] = []
    for project, establishment, siae_name, record in found:
        assert project.id is not None
        dep = cfg.territory.departement.get(establishment.departement)
        decision = decisions.get(project.id)
        operateurs = assigned.get(project.id, set())
        required = {(k.value, None) for k in PROJECT_DOCUMENT_KINDS} | {
            (k.value, op) for k in OPERATEUR_DOCUMENT_KINDS for op in operateurs
        }
        in_progress = project.status == ProjectStatus.IN_PROGRESS
        row = OverviewRow(
            project_id=project.id,
            reference=project.reference,
            establishment=establishment.name,
            disp=dep.disp if dep else "",
            region=cfg.territory.region[dep.region].nom if dep else "",
            departement=establishment.departement,
            siae=siae_name,
            activity=project.activity,
            status=project.status,
            stage=record.stage,
            stage_title=cfg.stage(record.stage).titre,
            stage_status=record.status,
            pilot_roles=pilots(cfg, record.stage),
            due_on=record.due_on if in_progress else None,
            late_days=late_working_days(record, establishment.departement, today) if in_progress else 0,
            suspended_on=record.suspended_on if record.status == StageStatus.SUSPENDED else None,
            suspension_reason=reasons.get((project.id, record.stage))
            if record.status == StageStatus.SUSPENDED
            else None,
            last_decision=DECISION_LABELS[decision.transition] if decision else None,
            last_decision_at=decision.at if decision else None,
            last_decision_by=decision.actor_label if decision else None,
            documents_signed=len(signed.get(project.id, set()) & required),
            documents_required=len(required),
            operateurs_cep=len(operateurs),
        )
        if filters.late_only and not row.late:
            continue
        rows.append(row)
    return rows


@dataclass(frozen=True)
class OverviewCounts:
    """Projects per current stage and per DISP, and how many of them are late."""

    per_stage: dict[int, int]
    late_per_stage: dict[int, int]
    per_disp: dict[str, int]
    late_per_disp: dict[str, int]


def counts(rows: list[OverviewRow], stages: Sequence[int]) -> OverviewCounts:
    """``stages``: the stage numbers of ``etapes.toml``, each counted even when no project is there."""
    active = [r for r in rows if r.status == ProjectStatus.IN_PROGRESS]
    return OverviewCounts(
        per_stage={n: sum(1 for r in active if r.stage == n) for n in stages},
        late_per_stage={n: sum(1 for r in active if r.stage == n and r.late) for n in stages},
        per_disp=dict(sorted(Counter(r.disp for r in active).items())),
        late_per_disp=dict(sorted(Counter(r.disp for r in active if r.late).items())),
    )
