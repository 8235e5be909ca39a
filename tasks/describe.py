"""The markdown shown above a gate's form in the Prefect UI: what the guide expects and what was received.

Built from ``etapes.toml`` and the database at the moment of asking, and stored by Prefect with the form:
a replayed flow reads the stored answer and never builds it again, and a re-ask after a refusal shows why.
"""

from datetime import date
from typing import Any

from prefect import task
from sqlmodel import Session, col, select

from implantation import dates
from implantation.budget import project_balance_lines
from implantation.calendar import minimum_duration_warning
from implantation.config.schema import DecisionKind, ProcessConfig
from implantation.dates import days_late, fr_date
from implantation.db.models import (
    CopilMeeting,
    DeliverableRecord,
    Establishment,
    ImplantationProject,
    Person,
    Siae,
)
from implantation.db.session import session_scope
from implantation.documents.service import document_states
from implantation.enums import Decision
from implantation.services import choices
from implantation.services.amounts import amount_book
from implantation.services.gate_facts import facts_model, shown_values
from implantation.services.operateurs import summary as operateurs_summary
from implantation.services.projects import suspension_reasons
from implantation.services.workflow import get_project, get_stage
from tasks.common import TASK_OPTIONS, runtime


def _bullets(items: list[str]) -> list[str]:
    return [f"- {item}" for item in items] or ["- (aucun)"]


def _deliverables(session: Session, cfg: ProcessConfig, project_id: int, stage: int) -> list[str]:
    received = {
        d.kind: d
        for d in session.exec(
            select(DeliverableRecord).where(
                DeliverableRecord.project_id == project_id, DeliverableRecord.stage == stage
            )
        )
    }
    lines = []
    for item in cfg.stage(stage).livrables:
        got = received.get(item.id)
        state = (
            f"reçu le {fr_date(got.received_on)}" + (f" ({got.reference})" if got.reference else "")
            if got
            else "**non reçu**"
        )
        lines.append(f"- {item.titre} : {state}")
    return lines or ["- (aucun livrable attendu)"]


def _copil(session: Session, cfg: ProcessConfig, project_id: int, stage: int) -> list[str]:
    meetings = list(
        session.exec(
            select(CopilMeeting)
            .where(CopilMeeting.project_id == project_id, CopilMeeting.stage == stage)
            .order_by(col(CopilMeeting.held_on))
        )
    )
    expected = cfg.stage(stage).copil
    lines = (
        [f"Le guide prévoit {expected.min} à {expected.max} COPIL à cette étape ; {len(meetings)} tenu(s)."]
        if expected
        else []
    )
    for m in meetings:
        lines.append(f"- {m.kind} du {fr_date(m.held_on)} : {m.decisions.strip()}")
    if not meetings:
        lines.append("- aucun comité enregistré")
    return lines


def _project_facts(session: Session, project: ImplantationProject) -> list[str]:
    """What stage 1 confirms (establishment, project lead, premises) and what stage 2 chose, as recorded.

    Staff and structures only: no person detained is ever named in Prefect.
    """
    establishment = session.get(Establishment, project.establishment_id)
    lead = session.get(Person, project.lead_id)
    assert establishment is not None and lead is not None
    lines = [
        f"- Établissement : {establishment.name} ({establishment.type.label}), {establishment.city}, "
        f"département {establishment.departement}",
        f"- Chef de projet : {lead.full_name} ({lead.organisation})",
        f"- Locaux disponibles : {establishment.premises or '**non renseignés**'}",
    ]
    siae = session.get(Siae, project.siae_id) if project.siae_id else None
    if siae is not None:
        lines.append(
            f"- SIAE retenue : {siae.name} ({siae.kind.value}) ; activité : {project.activity or '—'}"
        )
    return lines


def _siae_table(session: Session) -> list[str]:
    rows = session.exec(select(Siae).order_by(col(Siae.name)).limit(100))
    lines = ["| Identifiant | SIAE | Type | Ville |", "|---|---|---|---|"]
    lines += [f"| {s.id} | {s.name} | {s.kind.value} ({s.kind.label}) | {s.city} |" for s in rows]
    return lines


def _documents(session: Session, cfg: ProcessConfig, project_id: int) -> list[str]:
    states = [
        s for s in document_states(session, project_id, cfg) if s.latest and s.record.operateur_id is None
    ]
    if not states:
        return ["- aucun document généré"]
    lines = []
    for s in states:
        missing = ", ".join(s.missing_labels) or "aucune"
        lines.append(
            f"- {s.title} (version {s.record.version}) : {s.status.label} ; signatures manquantes : {missing}"
        )
    return lines


def _operateurs(session: Session, project_id: int) -> list[str]:
    """Counts and opaque ids: a detainee's name or écrou number never reaches Prefect."""
    found = operateurs_summary(session, project_id)
    if not found["effectifs"]:
        return ["- aucun opérateur enregistré (« siae operateurs importer »)"]
    lines = [f"- {label} : {count}" for label, count in found["effectifs"].items()]
    if found["affectes"]:
        lines.append(f"- CEP à établir pour : {', '.join(found['affectes'])}")
    return lines


def _launch(cfg: ProcessConfig) -> list[str]:
    periods = ", ".join(p.nom for p in cfg.calendar.periodes_a_eviter_pour_lancement)
    return [
        f"La date de démarrage doit éviter : {periods}, les week-ends et les jours fériés du département.",
        f"Source : {cfg.calendar.source_periodes}",
    ]


OVERRIDABLE_LABELS = {"copil": "le nombre minimal de COPIL", "livrables": "les livrables"}


def gate_markdown(
    session: Session,
    cfg: ProcessConfig,
    project: ImplantationProject,
    stage: int,
    problems: list[str],
    pack_problems: list[str],
    today: date,
) -> str:
    spec = cfg.stage(stage)
    assert project.id is not None
    record = get_stage(session, project.id, stage)
    lines = [f"## Projet {project.reference} — étape {stage} : {spec.titre}", ""]
    if problems:
        lines += ["### ⚠ La saisie précédente n'a pas été retenue", "", *_bullets(problems), ""]
    if record.suspended_on is not None:
        reason = suspension_reasons(session, [project.id]).get((project.id, stage), "")
        lines += [
            f"### ⏸ Étape suspendue depuis le {fr_date(record.suspended_on)} : horloge arrêtée",
            "",
            f"En attente : {reason}",
            "",
            "Répondez « reprendre » quand l'attente est levée : l'échéance sera reportée des jours ouvrés "
            "d'arrêt, puis la décision de l'étape sera demandée.",
            "",
        ]
    due = record.due_on
    late = f" (**dépassée de {days_late(due, today)} jour(s)**)" if days_late(due, today) else ""
    lines += [
        f"Ouverte le {fr_date(record.opened_on)} ; échéance : **{fr_date(due)}**{late} ; tentative {record.attempt}.",
        f"Pilotes : {', '.join(r.label for r in spec.pilotes)}.",
        "",
        "### Le projet",
        "",
        *_project_facts(session, project),
        "",
    ]
    for decision in spec.decisions:
        lines += [
            f"### Décision attendue : {decision.titre}",
            f"Réservée à : {', '.join(r.label for r in decision.roles)} (territoire de l'établissement).",
            "",
            *_bullets(list(decision.attendus)),
            "",
        ]
    lines += ["### Objectifs (guide)", "", *_bullets(list(spec.objectifs)), ""]
    lines += ["### Livrables", "", *_deliverables(session, cfg, project.id, stage), ""]
    lines += ["### Comités (COPIL, CT)", "", *_copil(session, cfg, project.id, stage), ""]
    if cfg.has(stage, DecisionKind.SIAE_SELECTION):
        kinds = " et les ".join(k.value for k in cfg.eligibility.types_siae_implantables)
        lines += [
            f"### SIAE connues (seuls les {kinds} peuvent être implantés)",
            "",
            *_siae_table(session),
            "",
        ]
    if cfg.has(stage, DecisionKind.FEASIBILITY):
        siae = session.get(Siae, project.siae_id) if project.siae_id else None
        establishment = session.get(Establishment, project.establishment_id)
        assert establishment is not None
        book = amount_book(session, cfg)
        lines += ["### Budget prévisionnel : solde des années 1 et 2", ""]
        lines += [*_bullets(project_balance_lines(book, project, siae, establishment)), ""]
    if cfg.has(stage, DecisionKind.CONVENTION_APPROVAL):
        lines += [f"### Documents de l'étape {stage}", "", *_documents(session, cfg, project.id), ""]
        too_soon = minimum_duration_warning(project.started_on, today, cfg.stages)
        if too_soon:
            lines += [f"**{too_soon}** ({cfg.stages.source_duree_minimale})", ""]
        if pack_problems:
            lines += ["Les documents ne peuvent pas encore être produits :", "", *_bullets(pack_problems), ""]
    if cfg.has(stage, DecisionKind.CONVENTION_APPROVAL) or cfg.has(stage, DecisionKind.LAUNCH):
        lines += [
            "### Opérateurs (effectifs et identifiants opaques seulement)",
            "",
            *_operateurs(session, project.id),
            "",
        ]
    if cfg.has(stage, DecisionKind.LAUNCH):
        lines += ["### Date de démarrage", "", *_launch(cfg), ""]
    lines += [
        "### Répondre",
        "",
        f"Décisions possibles : {', '.join(f'`{d.value}` ({d.label})' for d in Decision)}.",
        "Indiquez votre adresse électronique enregistrée : votre rôle et votre territoire sont vérifiés.",
    ]
    overridable = cfg.overridable(stage)
    if overridable:
        what = " et ".join(OVERRIDABLE_LABELS[kind] for kind in overridable)
        lines.append(
            f"Un pilote de l'étape ({', '.join(r.label for r in spec.pilotes)}) peut approuver sans {what} "
            "par une dérogation motivée (champ « Dérogation motivée »), inscrite au journal avec ce qui "
            f"manquait. {cfg.stages.source_derogation or ''}".rstrip()
        )
    return "\n".join(lines) + "\n"


def gate_description(projet_id: int, etape: int, problems: list[str], pack_problems: list[str]) -> str:
    """Not a task: a read, built only when the gate is really asked (never on a replay), and stored by
    Prefect with the form. A task run costs the server three state events for nothing to replay."""
    _settings, cfg, engine = runtime()
    with session_scope(engine) as session:
        project = get_project(session, projet_id)
        return gate_markdown(session, cfg, project, etape, problems, pack_problems, dates.today())


def gate_choices() -> list[str]:
    """The SIAEs offered as a list at the gate that selects one (staff and structures only); a read, like
    :func:`gate_description`, so not a task."""
    _settings, _cfg, engine = runtime()
    with session_scope(engine) as session:
        return choices.siae_choices(session)


@task(name="faits-de-la-porte", **TASK_OPTIONS)
def gate_facts(projet_id: int, etape: int, key: str) -> dict[str, Any]:
    """The recorded facts the gate's form shows (non-personal: the stage's facts only), per ask ``key``:
    a replay shows, and compares the answer with, the very values the person saw."""
    _settings, cfg, engine = runtime()
    if facts_model(cfg, etape) is None:
        return {}
    with session_scope(engine) as session:
        return shown_values(session, cfg, get_project(session, projet_id), etape)
