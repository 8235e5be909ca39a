"""What must be recorded before a stage may be approved.

- Every stage: the deliverables that ``config/etapes.toml`` lists for it, and its minimum of COPILs.
  These come from the guide's method (« 2 à 3 COPIL »), not from the law: the stage's pilot may approve
  without them with a motivated override (``derogation``), logged with what was missing, for the kinds
  that ``derogation_pilote`` lists in ``config/etapes.toml``.
- The gate that approves the convention (stage 5): the DUI, the convention IAE and the implantation contract, each in a version produced from
  the data recorded now (same content checksum as a rendering today) and signed by every signing party
  of the guide's matrix (``config/documents.toml``), each signature verified (a PAdES signature whose
  certificate and bytes still check) or, for the opérateur only, witnessed on paper. No override: an
  unsigned convention binds no one.
"""

from dataclasses import dataclass, field

from sqlmodel import Session, func, select

from implantation.config.schema import DecisionKind, ProcessConfig
from implantation.db.models import (
    CopilMeeting,
    DeliverableRecord,
    DocumentRecord,
    ImplantationProject,
    Person,
)
from implantation.documents import render
from implantation.documents.builders import SHORT_LABEL, DocumentDataError
from implantation.documents.service import PROJECT_KINDS, document_states
from implantation.enums import DocumentKind


@dataclass
class Requirements:
    """Missing items, split by whether the pilot may override them."""

    overridable: list[str] = field(default_factory=list)
    binding: list[str] = field(default_factory=list)


def _copils(session: Session, project_id: int, stage: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(CopilMeeting)
        .where(
            CopilMeeting.project_id == project_id, CopilMeeting.stage == stage, CopilMeeting.kind == "COPIL"
        )
    ).one()


def stage_work_missing(
    session: Session, cfg: ProcessConfig, project_id: int, stage: int
) -> dict[str, list[str]]:
    """``{"copil": [...], "livrables": [...]}``: what the stage still lacks, in French."""
    spec = cfg.stage(stage)
    missing: dict[str, list[str]] = {"copil": [], "livrables": []}
    if spec.copil is not None:
        held = _copils(session, project_id, stage)
        if held < spec.copil.min:
            missing["copil"].append(
                f"COPIL de l'étape {stage} : {held} enregistré(s) sur {spec.copil.min} au minimum "
                f"(« siae projet copil {project_id} --etape {stage} … »)"
            )
    received = set(
        session.exec(
            select(DeliverableRecord.kind).where(
                DeliverableRecord.project_id == project_id, DeliverableRecord.stage == stage
            )
        )
    )
    absent = [d for d in spec.livrables if d.id not in received]
    if absent:
        names = ", ".join(f"« {d.titre} » ({d.id})" for d in absent)
        missing["livrables"].append(
            f"livrable(s) de l'étape {stage} non enregistré(s) : {names} "
            f"(« siae projet livrable {project_id} --etape {stage} --type … »)"
        )
    return missing


def _current_checksum(
    session: Session, cfg: ProcessConfig, project_id: int, kind: DocumentKind
) -> str | None:
    from implantation.documents.builders import (
        build_convention_context,
        build_dui_context,
        build_implantation_context,
    )
    from implantation.settings import get_settings

    build = {
        DocumentKind.DUI: build_dui_context,
        DocumentKind.CONVENTION: build_convention_context,
        DocumentKind.IMPLANTATION_CONTRACT: build_implantation_context,
    }[kind]
    try:
        context = build(session, project_id, cfg)
    except DocumentDataError:
        return None
    return render.content_checksum(render.template_path(get_settings().templates_dir, kind), context)


def contract_problems(session: Session, cfg: ProcessConfig, project_id: int) -> list[str]:
    """Stage 5: each project document produced from the current data and signed by all its signers."""
    states = {
        s.record.kind: s
        for s in document_states(session, project_id, cfg)
        if s.latest and s.record.operateur_id is None
    }
    problems = []
    for kind in PROJECT_KINDS:
        label = SHORT_LABEL[kind]
        state = states.get(kind)
        if state is None:
            problems.append(f"{label} : jamais produit (« siae documents generer {project_id} »)")
            continue
        version = f"{label} (version {state.record.version})"
        if state.record.content_sha256 != _current_checksum(session, cfg, project_id, kind):
            problems.append(
                f"{version} : ne correspond plus aux données enregistrées ; le produire de nouveau "
                f"(« siae documents generer {project_id} ») et le faire signer"
            )
        else:
            problems += [f"{version} : {p}" for p in _signature_problems(session, cfg, state.record)]
    return problems


def _signature_problems(session: Session, cfg: ProcessConfig, record: DocumentRecord) -> list[str]:
    """Each party's signature, verified (certificate) or witnessed (handwritten, opérateur only), on
    this version: a « signature déclarée » does not count."""
    from implantation.settings import get_settings
    from implantation.signatures.register import missing_proofs

    return missing_proofs(session, cfg, get_settings(), record)


def approval_requirements(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, stage: int
) -> Requirements:
    assert project.id is not None
    found = Requirements()
    overridable = set(cfg.stages.derogation_pilote)
    for kind, problems in stage_work_missing(session, cfg, project.id, stage).items():
        (found.overridable if kind in overridable else found.binding).extend(problems)
    if cfg.has(stage, DecisionKind.CONVENTION_APPROVAL):
        found.binding += contract_problems(session, cfg, project.id)
    return found


def override_problems(
    cfg: ProcessConfig, stage: int, approver: Person | None, reason: str | None, missing: Requirements
) -> list[str]:
    """A motivated override is the pilot's, and only for what may be overridden."""
    problems = []
    if not (reason or "").strip():
        return ["dérogation sans motif"]
    if approver is None or approver.role not in cfg.stage(stage).pilotes:
        pilots = ", ".join(r.label for r in cfg.stage(stage).pilotes)
        problems.append(f"seul un pilote de l'étape {stage} peut déroger ({pilots})")
    if not missing.overridable:
        problems.append("dérogation inutile : rien ne manque qui puisse y donner lieu")
    return problems


def override_note(missing: Requirements, reason: str) -> str:
    """The logged reason of an override: the pilot's motive and what was missing."""
    return f"{reason.strip()} — dérogation pour : " + " ; ".join(missing.overridable)
