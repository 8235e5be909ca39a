"""Entering the facts of stages 1 to 4 (:class:`~implantation.dossier.Dossier`), all or nothing, each change logged.

A dossier is checked twice: alone by the pydantic models (types, bounds, formats), then merged with what
is already recorded (a convention end given without its start is checked against the recorded start).
Only then is anything written, and every value that actually changes gets one :class:`FactChange` row
(who, which key, old and new value, when) in the same transaction.
"""

import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from implantation import contract_rules as rules
from implantation.calendar import launch_date_problems
from implantation.config.schema import ProcessConfig
from implantation.db.models import CandidateSiae, Establishment, FactChange, ImplantationProject, Siae
from implantation.dossier import Dossier, check_etp_within_posts, french_problems
from implantation.eligibility import implantation_kind_problem
from implantation.enums import DocumentKind, ProjectStatus
from implantation.services.errors import DomainError
from implantation.services.referential import InputError
from implantation.services.workflow import Actor


def _dec(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).normalize()


def _plain(value: Decimal) -> str:
    """``8``, ``1.5``: no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return text


@dataclass(frozen=True)
class Binding:
    """Where a key is stored: on the project or on its establishment, and how it converts both ways."""

    key: str
    on: str  # "project" or "establishment"
    attr: str
    store: Callable[[Any], Any] = lambda v: v
    load: Callable[[Any], Any] = lambda v: v


def _budget_store(lines: list[Any]) -> list[dict[str, str]]:
    return [
        {"nature": ln.nature, "libelle": ln.libelle, "montant": _plain(ln.montant), "annee": str(ln.annee)}
        for ln in lines
    ]


def _budget_load(raw: list[dict[str, str]] | None) -> list[dict[str, Any]] | None:
    if raw is None:
        return None
    return [{**line, "annee": int(line.get("annee") or 1)} for line in raw]


def _posts_store(posts: list[Any]) -> list[dict[str, str]]:
    stored = []
    for p in posts:
        row = p.model_dump(exclude_none=True)
        row["heures_hebdomadaires"] = _plain(p.heures_hebdomadaires)
        stored.append(row)
    return stored


def _float(value: Decimal) -> float:
    return float(value)


BINDINGS: tuple[Binding, ...] = (
    Binding("locaux", "establishment", "premises"),
    Binding("chef_projet_commun", "project", "joint_lead"),
    Binding("chef_etablissement", "establishment", "head_name"),
    Binding("regles_securite", "establishment", "security_rules"),
    Binding("siae_retenue", "project", "siae_id"),  # converted through the referential (SIRET ↔ id)
    Binding("activite", "project", "activity"),
    Binding("ateliers", "project", "workshops_count"),
    Binding("postes_insertion", "project", "insertion_posts_count"),
    Binding("postes_etp", "project", "insertion_posts_etp", _float, _dec),
    Binding("eti_etp", "project", "staff_eti_etp", _float, _dec),
    Binding("cip_etp", "project", "staff_cip_etp", _float, _dec),
    Binding(
        "part_modulee_pourcent",
        "project",
        "modulated_share",
        lambda v: float(v / 100),
        lambda v: None if v is None else (Decimal(str(v)) * 100).normalize(),
    ),
    Binding("date_demarrage_prevue", "project", "launch_date"),
    Binding("budget", "project", "budget_lines", _budget_store, _budget_load),
    Binding("plan_accompagnement", "project", "accompaniment_plan"),
    Binding("objectifs_insertion", "project", "insertion_targets"),
    Binding("partenaires", "project", "partners"),
    Binding("horaires", "project", "work_schedule"),
    Binding("atelier_jours", "project", "workshop_days"),
    Binding("atelier_debut", "project", "workshop_start"),
    Binding("atelier_fin", "project", "workshop_end"),
    Binding("postes", "project", "posts", _posts_store),
    Binding("convention_debut", "project", "convention_start"),
    Binding("convention_fin", "project", "convention_end"),
    Binding("implantation_debut", "project", "implantation_start"),
    Binding("implantation_fin", "project", "implantation_end"),
    Binding("reconduction_tacite", "project", "implantation_tacit_renewal"),
    Binding("modalites_remboursement", "project", "reimbursement_terms"),
    Binding("autorisation_travail", "project", "work_authorisation"),
    Binding("autorisation_travail_date", "project", "work_authorisation_date"),
)
assert {b.key for b in BINDINGS} == set(Dossier.model_fields), "every key of the dossier is stored somewhere"


# --- reading a file -------------------------------------------------------------------------------


def parse_dossier(data: dict[str, Any], source: str = "dossier") -> Dossier:
    try:
        return Dossier.model_validate(data)
    except ValidationError as exc:
        raise InputError(
            [f"{source} : {p}" for p in french_problems(exc)]
            + ["Dossier refusé : aucune valeur n'a été enregistrée."],
            field="fichier",
        ) from None


def load_dossier(path: Path) -> Dossier:
    """A TOML file whose keys are those of :class:`Dossier`; French errors with the key or the line."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError([f"Fichier introuvable : « {path} »."], field="fichier") from None
    except IsADirectoryError:
        raise InputError([f"« {path} » est un répertoire, pas un fichier TOML."], field="fichier") from None
    except UnicodeDecodeError as exc:
        raise InputError(
            [f"Fichier « {path.name} » : encodage non UTF-8 (octet {exc.start + 1})."], field="fichier"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"line (\d+), column (\d+)", str(exc))
        at = f" (ligne {where.group(1)}, colonne {where.group(2)})" if where else ""
        raise InputError(
            [f"Fichier « {path.name} » : syntaxe TOML invalide{at} ; rien n'a été enregistré."],
            field="fichier",
        ) from None
    if not data:
        raise InputError([f"Fichier « {path.name} » : aucune clé."], field="fichier")
    return parse_dossier(data, f"Fichier « {path.name} »")


# --- current values -------------------------------------------------------------------------------


def _targets(session: Session, project: ImplantationProject) -> dict[str, Any]:
    establishment = session.get(Establishment, project.establishment_id)
    assert establishment is not None
    return {"project": project, "establishment": establishment}


def _siret_of(session: Session, siae_id: int | None) -> str | None:
    siae = session.get(Siae, siae_id) if siae_id is not None else None
    return siae.siret if siae else None


def recorded_values(session: Session, project: ImplantationProject) -> dict[str, Any]:
    """What is recorded for every key (None when empty): the pre-filled values of a form."""
    targets = _targets(session, project)
    values: dict[str, Any] = {}
    for b in BINDINGS:
        raw = getattr(targets[b.on], b.attr)
        values[b.key] = _siret_of(session, raw) if b.key == "siae_retenue" else b.load(raw)
    return values


def recorded(session: Session, project: ImplantationProject) -> Dossier:
    """The recorded facts as a :class:`Dossier`; a value that no longer validates is left out."""
    values = {k: v for k, v in recorded_values(session, project).items() if v is not None}
    while True:
        try:
            return Dossier.model_validate(values)
        except ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
            if not bad & set(values):
                return Dossier()
            values = {k: v for k, v in values.items() if k not in bad}


# --- checks against what is recorded ---------------------------------------------------------------


def _merged(current: dict[str, Any], dossier: Dossier) -> dict[str, Any]:
    given = {k: getattr(dossier, k) for k in dossier.model_fields_set if getattr(dossier, k) is not None}
    return {**current, **given}


def _period_problems(cfg: ProcessConfig, merged: dict[str, Any], given: set[str]) -> list[str]:
    problems = []
    for prefix, kind, what in (
        ("convention", DocumentKind.CONVENTION, "durée de la convention"),
        ("implantation", DocumentKind.IMPLANTATION_CONTRACT, "durée du contrat d'implantation"),
    ):
        start, end = merged.get(f"{prefix}_debut"), merged.get(f"{prefix}_fin")
        if not ({f"{prefix}_debut", f"{prefix}_fin"} & given) or start is None or end is None:
            continue
        spec = cfg.documents.document[kind]
        if end < start:
            problems.append(f"clé « {prefix}_fin » : {what} : la date de fin précède la date de début")
        elif spec.duree_max_annees:
            problem = rules.duration_problem(start, end, spec.duree_max_annees, what, spec.base_legale[0])
            if problem:
                problems.append(f"clé « {prefix}_fin » : {problem}")
    return problems


def _siae_problem(session: Session, cfg: ProcessConfig, siret: str) -> tuple[Siae | None, str | None]:
    siae = session.exec(select(Siae).where(Siae.siret == siret)).one_or_none()
    if siae is None:
        return None, (
            f"clé « siae_retenue » : aucune SIAE de SIRET {siret} dans le référentiel "
            "(l'ajouter avec « siae ajouter siae » ou « siae importer siae »)"
        )
    problem = implantation_kind_problem(siae.kind, cfg.eligibility)
    return siae, (f"clé « siae_retenue » : {problem}" if problem else None)


def merged_problems(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, dossier: Dossier
) -> list[str]:
    """Rules that need the recorded values or the configuration; every problem names its key."""
    given = {k for k in dossier.model_fields_set if getattr(dossier, k) is not None}
    merged = _merged(recorded_values(session, project), dossier)
    problems = _period_problems(cfg, merged, given)
    if "siae_retenue" in given:
        problems += [p for p in [_siae_problem(session, cfg, merged["siae_retenue"])[1]] if p]
    etp, posts = merged.get("postes_etp"), merged.get("postes_insertion")
    if {"postes_etp", "postes_insertion"} & given and etp is not None and posts is not None:
        try:
            check_etp_within_posts(etp, posts)
        except ValueError as exc:
            problems.append(f"clé « postes_etp » : {exc}")
    start = merged.get("date_demarrage_prevue")
    if "date_demarrage_prevue" in given and start is not None:
        problems += _start_problems(session, cfg, project, start)
    return problems


def _start_problems(
    session: Session, cfg: ProcessConfig, project: ImplantationProject, start: date
) -> list[str]:
    if start < project.started_on:
        return [
            f"clé « date_demarrage_prevue » : le {start:%d/%m/%Y} précède le début du projet "
            f"({project.started_on:%d/%m/%Y})"
        ]
    establishment = session.get(Establishment, project.establishment_id)
    assert establishment is not None
    zone = cfg.territory.departement[establishment.departement].zone_vacances
    try:
        found = launch_date_problems(start, establishment.departement, cfg.calendar, zone)
    except ValueError as exc:
        found = [str(exc)]
    return [f"clé « date_demarrage_prevue » : {p}" for p in found]


# --- writing ------------------------------------------------------------------------------------


def _shown(value: Any) -> str | None:
    """How a value reads in the change log."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float | Decimal):
        return _plain(Decimal(str(value)))
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def complete(
    session: Session,
    cfg: ProcessConfig,
    project: ImplantationProject,
    dossier: Dossier,
    actor: Actor,
    source: str | None = None,
) -> list[FactChange]:
    """Record the given keys, all or nothing; returns the changes (unchanged values are not logged)."""
    if project.status == ProjectStatus.ABANDONED:
        raise DomainError(
            f"Le projet {project.reference} est abandonné : plus aucune saisie.", field="projet"
        )
    problems = merged_problems(session, cfg, project, dossier)
    if problems:
        raise InputError([*problems, "Dossier refusé : aucune valeur n'a été enregistrée."], field="fichier")
    targets = _targets(session, project)
    changes: list[FactChange] = []
    for b in BINDINGS:
        value = getattr(dossier, b.key)
        if b.key not in dossier.model_fields_set or value is None:
            continue
        target = targets[b.on]
        old = getattr(target, b.attr)
        if b.key == "siae_retenue":
            siae, _problem = _siae_problem(session, cfg, value)
            assert siae is not None
            new: Any = siae.id
            old_shown: str | None
            new_shown: str | None
            old_shown, new_shown = _siret_of(session, old), siae.siret
            _candidate(session, project, siae)
        else:
            new = b.store(value)
            old_shown, new_shown = _shown(old), _shown(new)
        if old_shown == new_shown:
            continue
        setattr(target, b.attr, new)
        session.add(target)
        change = FactChange(
            project_id=project.id,  # type: ignore[arg-type]
            field=b.key,
            old_value=old_shown,
            new_value=new_shown,
            actor_id=actor.person_id,
            actor_label=actor.label,
            source=source,
        )
        session.add(change)
        changes.append(change)
    session.flush()
    return changes


def _candidate(session: Session, project: ImplantationProject, siae: Siae) -> None:
    """The SIAE retained is one of the sourced SIAEs, whichever way it was entered."""
    known = session.exec(
        select(CandidateSiae).where(CandidateSiae.project_id == project.id, CandidateSiae.siae_id == siae.id)
    ).first()
    if known is None:
        session.add(CandidateSiae(project_id=project.id, siae_id=siae.id))  # type: ignore[arg-type]


def history(session: Session, project_id: int) -> list[FactChange]:
    return list(
        session.exec(
            select(FactChange).where(FactChange.project_id == project_id).order_by(col(FactChange.id))
        )
    )
