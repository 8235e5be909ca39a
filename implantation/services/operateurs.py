"""Opérateurs (detainee workers under CEP): entered from a CSV or one by one, retired at the end of the CEP.

Outside Prefect only: identities go to :class:`OperateurIdentity`, the workflow and the change log see the
opaque id alone. On entry the eligibility rules of ``config/eligibilite.toml`` apply (guide D.1), and the
post must be one of the project's posts (dossier key ``postes``), from which the CEP takes its ROME code,
missions and risks. A CEP ends at release or resignation: the record stays, its end is marked.
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, cast

from sqlmodel import Session, col, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import FactChange, ImplantationProject, Operateur, OperateurIdentity
from implantation.dossier import WEEKLY_HOURS_MAX
from implantation.eligibility import Candidate, eligibility_problems
from implantation.enums import LegalStatus, OperateurEndReason, OperateurStatus, ProjectStatus
from implantation.services.errors import DomainError
from implantation.services.projects import parse_date
from implantation.services.referential import Column, InputError, check_text, read_csv
from implantation.services.workflow import Actor
from implantation.work_schedule import (
    bounds_problem,
    consistency_problem,
    parse_schedule,
    within_workshop_problem,
    workshop_of,
)

COLUMNS: tuple[Column, ...] = (
    Column("nom", "last_name", True, help="Nom de famille"),
    Column("prenom", "first_name", True, help="Prénom"),
    Column("ecrou", "ecrou_number", True, help="Numéro d'écrou"),
    Column("date_naissance", "birth_date", True, help="Date de naissance"),
    Column("statut_juridique", "legal_status", True, help="condamne ou prevenu"),
    Column("quantum_mois", "quantum_months", True, help="Quantum de peine en mois"),
    Column("accord_conjoint", "joint_agreement", help="oui ou non (défaut : non)"),
    Column("poste", "post_title", True, help="Intitulé d'un poste du dossier (clé postes)"),
    Column("heures_hebdomadaires", "weekly_hours", help="Durée hebdomadaire ; celle du poste si vide"),
    Column("debut_contrat", "contract_start", help="Début du CEP ; vide : pas encore affecté"),
    Column("date_classement", "classified_on", help="Décision de classement au travail (AAAA-MM-JJ)"),
    Column(
        "date_affectation", "assigned_on", help="Décision d'affectation sur le poste ; début du CEP si vide"
    ),
    Column("autorise_travail", "work_authorised", help="oui (défaut) ou non"),
    Column("volontaire", "volunteer", help="oui (défaut) ou non"),
    Column("jours", "schedule", help="Jours travaillés, séparés par des virgules (ex. lundi,mardi,jeudi)"),
    Column("heure_debut", "schedule", help="Heure de début (HH:MM)"),
    Column("heure_fin", "schedule", help="Heure de fin (HH:MM)"),
    Column("pause_minutes", "schedule", help="Pause quotidienne en minutes (défaut : 0)"),
)
_YES = {"oui", "o", "true", "vrai", "1", "x"}
_NO = {"non", "n", "false", "faux", "0", ""}
_LENGTHS = {"nom": 120, "prenom": 120, "ecrou": 20}


def _flag(name: str, raw: str, default: bool, problems: list[str]) -> bool:
    text = raw.strip().casefold()
    if not text:
        return default
    if text in _YES:
        return True
    if text in _NO:
        return False
    problems.append(f"champ « {name} » : oui ou non attendu, lu « {raw[:40]} »")
    return default


def _schedule(text: dict[str, str], hours: Any, problems: list[str]) -> dict[str, Any] | None:
    """The worker's own schedule (R412-25, 8°): it must give exactly his weekly hours, or it is refused."""
    parts = ("jours", "heure_debut", "heure_fin")
    if not any(text.get(name, "").strip() for name in (*parts, "pause_minutes")):
        return None  # entered later; the CEP names it as missing until then
    missing = [name for name in parts if not text.get(name, "").strip()]
    if missing:
        problems.append(f"emploi du temps incomplet : {', '.join(f'« {m} »' for m in missing)} manquant(s)")
        return None
    pause = text.get("pause_minutes", "").strip() or "0"
    if not pause.isdigit():
        problems.append(f"champ « pause_minutes » : nombre entier de minutes attendu, lu « {pause} »")
        return None
    raw = {
        "jours": [day.strip().casefold() for day in text["jours"].split(",") if day.strip()],
        "debut": text["heure_debut"].strip(),
        "fin": text["heure_fin"].strip(),
        "pause_minutes": int(pause),
    }
    schedule, problem = parse_schedule(raw)
    if schedule is None:
        problems.append(f"champ « jours », « heure_debut », « heure_fin » : {problem}")
        return None
    if hours is not None:
        mismatch = consistency_problem(schedule, Decimal(str(hours)))
        if mismatch:
            problems.append(mismatch)
            return None
    return raw


def _hours_problems(
    project: ImplantationProject, cfg: ProcessConfig, raw: dict[str, Any], hours: Decimal
) -> list[str]:
    """The Code's bounds (R412-50, R412-51) and the workshop's opening hours, as the CEP will check them."""
    schedule, _ = parse_schedule(raw)
    if schedule is None:
        return []
    bounds = cfg.contracts.duree_travail
    found = [
        bounds_problem(
            schedule,
            hours,
            bounds.minimum_hebdomadaire,
            bounds.maximum_quotidien,
            bounds.maximum_hebdomadaire,
            bounds.source,
        )
    ]
    try:
        workshop = workshop_of(project.workshop_days, project.workshop_start, project.workshop_end)
    except ValueError:
        workshop = None
    if workshop is not None:
        found.append(within_workshop_problem(schedule, workshop))
    return [problem for problem in found if problem]


def _date(name: str, raw: str, problems: list[str]) -> date | None:
    try:
        return parse_date(raw, name)
    except DomainError as exc:
        problems.append(str(exc).removesuffix("."))
        return None


def _posts(project: ImplantationProject) -> dict[str, dict[str, str]]:
    return {p["intitule"].casefold(): p for p in project.posts or []}


@dataclass
class Entry:
    operateur: Operateur
    identity: OperateurIdentity


def _active_ecrous(session: Session, project_id: int) -> set[str]:
    rows = session.exec(
        select(OperateurIdentity.ecrou_number)
        .join(Operateur, col(Operateur.id) == col(OperateurIdentity.operateur_id))
        .where(Operateur.project_id == project_id, Operateur.status != OperateurStatus.LEFT)
    )
    return {r.casefold() for r in rows}


def build_entry(
    project: ImplantationProject, cfg: ProcessConfig, raw: Mapping[str, str | None], today: date
) -> tuple[Entry | None, list[str]]:
    """One opérateur from French-named raw values; every problem, eligibility included, is returned."""
    text = {c.name: (raw.get(c.name) or "").strip() for c in COLUMNS}
    problems: list[str] = []
    for column in COLUMNS:
        if column.required and not text[column.name]:
            problems.append(f"champ « {column.name} » : valeur obligatoire manquante")
        else:
            problems += check_text(column.name, text[column.name], _LENGTHS.get(column.name, 200))
    if problems:
        return None, problems
    born = _date("date_naissance", text["date_naissance"], problems)
    if born is not None and born >= today:
        problems.append(f"champ « date_naissance » : le {born:%d/%m/%Y} n'est pas dans le passé")
    try:
        legal: LegalStatus | None = cast(LegalStatus, LegalStatus.from_user(text["statut_juridique"]))
    except ValueError:
        legal = None
        problems.append(
            f"champ « statut_juridique » : valeur inconnue « {text['statut_juridique']} » (condamne ou prevenu)"
        )
    quantum = int(text["quantum_mois"]) if text["quantum_mois"].isdigit() else None
    if quantum is None:
        problems.append(
            f"champ « quantum_mois » : nombre entier de mois attendu, lu « {text['quantum_mois']} »"
        )
    joint = _flag("accord_conjoint", text["accord_conjoint"], False, problems)
    authorised = _flag("autorise_travail", text["autorise_travail"], True, problems)
    volunteer = _flag("volontaire", text["volontaire"], True, problems)
    post = _posts(project).get(text["poste"].casefold())
    if post is None:
        known = ", ".join(p["intitule"] for p in project.posts or []) or "aucun"
        problems.append(
            f"champ « poste » : « {text['poste']} » n'est pas un poste du projet (postes définis : {known} ; "
            "clé « postes » de « siae projet completer »)"
        )
    hours = _hours(text["heures_hebdomadaires"], post, problems)
    schedule = _schedule(text, hours, problems)
    if schedule is not None and hours is not None:
        problems += _hours_problems(project, cfg, schedule, Decimal(str(hours)))
    start = _date("debut_contrat", text["debut_contrat"], problems) if text["debut_contrat"] else None
    if start is not None and start < project.started_on:
        problems.append(f"champ « debut_contrat » : le {start:%d/%m/%Y} précède le début du projet")
    classified = (
        _date("date_classement", text["date_classement"], problems) if text["date_classement"] else None
    )
    assigned = (
        _date("date_affectation", text["date_affectation"], problems) if text["date_affectation"] else start
    )
    if classified and assigned and classified > assigned:
        problems.append("champ « date_classement » : le classement au travail précède l'affectation")
    if assigned and start and assigned > start:
        problems.append("champ « date_affectation » : l'affectation précède le début du contrat (L412-10)")
    if legal is not None and quantum is not None:
        candidate = Candidate(legal, quantum, authorised, volunteer, joint)
        problems += [f"inéligible : {p}" for p in eligibility_problems(candidate, cfg.eligibility)]
    if problems:
        return None, problems
    assert born is not None and legal is not None and quantum is not None and post is not None
    operateur = Operateur(
        project_id=project.id,  # type: ignore[arg-type]
        status=OperateurStatus.ASSIGNED if start else OperateurStatus.IDENTIFIED,
        legal_status=legal,
        quantum_months=quantum,
        work_authorised=authorised,
        volunteer=volunteer,
        joint_agreement=joint,
        classified_on=classified,
        assigned_on=assigned if start else None,
        post_title=post["intitule"],
        rome_code=post.get("code_rome"),
        weekly_hours=Decimal(str(hours)) if hours is not None else None,
        schedule=schedule,
        contract_start=start,
        missions=post.get("missions"),
        particular_risks=post.get("risques"),
    )
    identity = OperateurIdentity(
        operateur_id=operateur.id,
        last_name=text["nom"],
        first_name=text["prenom"],
        ecrou_number=text["ecrou"],
        birth_date=born,
    )
    return Entry(operateur, identity), []


def _hours(raw: str, post: dict[str, str] | None, problems: list[str]) -> Decimal | None:
    if not raw:
        return Decimal(post["heures_hebdomadaires"]) if post else None
    try:
        hours = Decimal(raw.replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        problems.append(f"champ « heures_hebdomadaires » : nombre d'heures attendu, lu « {raw[:40]} »")
        return None
    if not hours.is_finite() or not 0 < hours <= WEEKLY_HOURS_MAX:
        problems.append(
            f"champ « heures_hebdomadaires » : entre 0 et {WEEKLY_HOURS_MAX} heures, lu « {raw} »"
        )
        return None
    return hours


def _editable(project: ImplantationProject) -> None:
    if project.status == ProjectStatus.ABANDONED:
        raise DomainError(
            f"Le projet {project.reference} est abandonné : plus aucune saisie.", field="projet"
        )


def _log(
    session: Session,
    project: ImplantationProject,
    actor: Actor,
    old: str | None,
    new: str,
    source: str | None,
) -> None:
    session.add(
        FactChange(
            project_id=project.id,  # type: ignore[arg-type]
            field="operateur",
            old_value=old,
            new_value=new,
            actor_id=actor.person_id,
            actor_label=actor.label,
            source=source,
        )
    )


def _record(
    session: Session, project: ImplantationProject, entries: list[Entry], actor: Actor, source: str | None
) -> list[Operateur]:
    for entry in entries:
        session.add(entry.operateur)
    session.flush()
    for entry in entries:
        session.add(entry.identity)
        op = entry.operateur
        _log(
            session,
            project,
            actor,
            None,
            f"{op.id} enregistré ({op.status.label}, poste « {op.post_title} »)",
            source,
        )
    session.flush()
    return [e.operateur for e in entries]


def add_operateur(
    session: Session,
    cfg: ProcessConfig,
    project: ImplantationProject,
    raw: Mapping[str, str | None],
    actor: Actor,
    today: date,
) -> Operateur:
    _editable(project)
    entry, problems = build_entry(project, cfg, raw, today)
    if entry is not None and entry.identity.ecrou_number.casefold() in _active_ecrous(session, project.id):  # type: ignore[arg-type]
        problems.append(
            f"champ « ecrou » : « {entry.identity.ecrou_number} » est déjà enregistré pour ce projet"
        )
    if problems:
        raise InputError([f"Opérateur refusé — {p}" for p in problems])
    assert entry is not None
    return _record(session, project, [entry], actor, "siae operateurs ajouter")[0]


def import_operateurs(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, path: Path, actor: Actor, today: date
) -> list[Operateur]:
    """All or nothing: every refused line is reported with its number (eligibility included)."""
    _editable(project)
    rows = read_csv(path, COLUMNS)
    known = _active_ecrous(session, project.id)  # type: ignore[arg-type]
    seen: dict[str, int] = {}
    entries: list[Entry] = []
    problems: list[str] = []
    for line, raw in rows:
        entry, row_problems = build_entry(project, cfg, raw, today)
        if entry is not None:
            ecrou = entry.identity.ecrou_number.casefold()
            if ecrou in known:
                row_problems.append(
                    f"champ « ecrou » : « {entry.identity.ecrou_number} » est déjà enregistré pour ce projet"
                )
            elif ecrou in seen:
                row_problems.append(
                    f"champ « ecrou » : « {entry.identity.ecrou_number} » figure déjà à la ligne {seen[ecrou]} du fichier"
                )
            seen.setdefault(ecrou, line)
        problems += [f"Ligne {line}, {p}" for p in row_problems]
        if entry is not None and not row_problems:
            entries.append(entry)
    if problems:
        raise InputError(
            [*problems, f"Import annulé : aucun opérateur n'a été enregistré ({len(problems)} erreur(s))."]
        )
    return _record(session, project, entries, actor, path.name)


def find_operateur(session: Session, project: ImplantationProject, ref: str) -> Operateur:
    """An opérateur of the project by its opaque id (OP-…) or its écrou number."""
    wanted = ref.strip()
    op = session.get(Operateur, wanted.upper())
    if op is None:
        op = session.exec(
            select(Operateur)
            .join(OperateurIdentity, col(Operateur.id) == col(OperateurIdentity.operateur_id))
            .where(Operateur.project_id == project.id, OperateurIdentity.ecrou_number == wanted)
            .order_by(col(Operateur.status) == OperateurStatus.LEFT)
        ).first()
    if op is None or op.project_id != project.id:
        raise DomainError(
            f"Champ « operateur » : aucun opérateur « {wanted[:40]} » dans le projet {project.reference} "
            "(identifiant OP-… ou numéro d'écrou attendu).",
            field="operateur",
        )
    return op


def retire_operateur(
    session: Session,
    project: ImplantationProject,
    ref: str,
    reason: OperateurEndReason,
    ended_on: date,
    actor: Actor,
    today: date,
) -> Operateur:
    """The CEP ends (L412-16): status « sorti », date and reason kept; identity and documents stay."""
    _editable(project)
    op = find_operateur(session, project, ref)
    if op.status == OperateurStatus.LEFT:
        raise DomainError(
            f"L'opérateur {op.id} est déjà sorti le {op.ended_on:%d/%m/%Y}."
            if op.ended_on
            else f"L'opérateur {op.id} est déjà sorti.",
            field="operateur",
        )
    if ended_on > today:
        raise DomainError("Champ « date » : la date de sortie ne peut pas être dans le futur.", field="date")
    if op.contract_start is not None and ended_on < op.contract_start:
        raise DomainError(
            f"Champ « date » : le {ended_on:%d/%m/%Y} précède le début du CEP ({op.contract_start:%d/%m/%Y}).",
            field="date",
        )
    previous = op.status
    op.status, op.ended_on, op.end_reason = OperateurStatus.LEFT, ended_on, reason
    session.add(op)
    _log(
        session,
        project,
        actor,
        f"{op.id} {previous.label}",
        f"{op.id} sorti le {ended_on:%d/%m/%Y} ({reason.label})",
        "siae operateurs retirer",
    )
    session.flush()
    return op


def operateurs_of(session: Session, project_id: int) -> list[tuple[Operateur, OperateurIdentity | None]]:
    rows = session.exec(
        select(Operateur, OperateurIdentity)
        .join(OperateurIdentity, col(Operateur.id) == col(OperateurIdentity.operateur_id), isouter=True)
        .where(Operateur.project_id == project_id)
        .order_by(col(Operateur.id))
    )
    return [(op, identity) for op, identity in rows]


def counts(session: Session, project_id: int) -> dict[OperateurStatus, int]:
    """What a gate may show of the opérateurs: how many in each status, never who."""
    found = Counter(session.exec(select(Operateur.status).where(Operateur.project_id == project_id)))
    return {status: found.get(status, 0) for status in OperateurStatus}


def summary(session: Session, project_id: int) -> dict[str, Any]:
    """Counts and opaque ids of the opérateurs, for a gate description (nothing personal)."""
    ops = session.exec(
        select(Operateur).where(Operateur.project_id == project_id).order_by(col(Operateur.id))
    )
    return {
        "effectifs": {s.label: n for s, n in counts(session, project_id).items() if n},
        "affectes": [op.id for op in ops if op.status == OperateurStatus.ASSIGNED],
    }
