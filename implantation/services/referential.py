"""Establishments, SIAEs and contacts: added one by one or imported from CSV, with the same checks.

Every column is described once (:data:`ESTABLISHMENT_COLUMNS`, …): its French name in the CSV
and on the command line, the model attribute, and how the text is checked. Lengths come from
the table definition, so a change in ``db/models.py`` is enforced here without a second edit.
"""

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, cast

from sqlmodel import Session, SQLModel, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import Establishment, Person, Siae
from implantation.eligibility import implantation_kind_problem
from implantation.enums import EstablishmentType, LabelledEnum, Role, SiaeKind
from implantation.services.errors import DomainError
from implantation.siae_rules import normalise_siret

MAX_FREE_TEXT = 5000
"""Upper bound for unbounded text columns: a sanity limit against pasted files, not a domain rule."""

PARSED_INPUT_LIMIT = 200
"""Longest text accepted for a coded value before parsing (the longest label is well under it)."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAK = re.compile(r"[\r\n\t]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class InputError(DomainError):
    """One or more refused values; each problem names its field (and its CSV line)."""

    def __init__(self, problems: Sequence[str], field: str | None = None) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems), field)


class FieldProblem(ValueError):
    """A single field's refusal, raised by a parser and turned into « champ « x » : … »."""


@dataclass
class Context:
    """What a parser may consult: the process configuration and the database."""

    cfg: ProcessConfig
    session: Session


Parser = Callable[[str, Context], Any]


@dataclass(frozen=True)
class Column:
    name: str
    attr: str
    required: bool = False
    parse: Parser | None = None
    help: str = ""


def _enum_parser(enum_cls: type[LabelledEnum]) -> Parser:
    def parse(raw: str, ctx: Context) -> LabelledEnum:
        try:
            return enum_cls.from_user(raw)
        except ValueError:
            allowed = ", ".join(member.value for member in enum_cls)
            raise FieldProblem(f"valeur inconnue « {raw} » (valeurs possibles : {allowed})") from None

    return parse


def _departement(raw: str, ctx: Context) -> str:
    code = raw.upper()
    if code.isdigit() and len(code) == 1:
        code = "0" + code
    if code not in ctx.cfg.territory.departement:
        raise FieldProblem(f"département inconnu « {raw} » (code INSEE attendu, par exemple 38, 2A ou 974)")
    return code


def _non_negative_int(raw: str, ctx: Context) -> int:
    if not raw.isdigit():
        raise FieldProblem(f"nombre entier positif attendu, lu « {raw} »")
    return int(raw)


def _siret(raw: str, ctx: Context) -> str:
    try:
        return normalise_siret(raw.replace(" ", ""))
    except ValueError as exc:
        raise FieldProblem(str(exc)) from None


def _siae_kind(raw: str, ctx: Context) -> SiaeKind:
    kind = cast(SiaeKind, _enum_parser(SiaeKind)(raw, ctx))
    problem = implantation_kind_problem(kind, ctx.cfg.eligibility)
    if problem:
        raise FieldProblem(problem)
    return kind


def _postal_code(raw: str, ctx: Context) -> str:
    if not re.fullmatch(r"\d{5}", raw):
        raise FieldProblem(f"code postal à 5 chiffres attendu, lu « {raw} »")
    return raw


def _naf(raw: str, ctx: Context) -> str:
    code = raw.upper()
    if not re.fullmatch(r"\d{2}\.?\d{2}[A-Z]", code):
        raise FieldProblem(f"code NAF attendu sous la forme 88.99B ou 8899B, lu « {raw} »")
    return code


def _idcc(raw: str, ctx: Context) -> str:
    if not re.fullmatch(r"\d{1,4}", raw):
        raise FieldProblem(f"numéro IDCC de 1 à 4 chiffres attendu, lu « {raw} »")
    return raw.zfill(4)


def _email(raw: str, ctx: Context) -> str:
    if not _EMAIL.fullmatch(raw):
        raise FieldProblem(f"adresse électronique invalide « {raw} »")
    return raw


def _role(raw: str, ctx: Context) -> Role:
    role = cast(Role, _enum_parser(Role)(raw, ctx))
    if role == Role.OPERATEUR:
        raise FieldProblem("une personne détenue n'est pas un contact : utiliser le registre des opérateurs")
    return role


def _siae_ref(raw: str, ctx: Context) -> int:
    """An SIAE given by its SIRET or its identifier."""
    digits = raw.replace(" ", "")
    siae = None
    if len(digits) == 14 and digits.isdigit():
        siae = ctx.session.exec(select(Siae).where(Siae.siret == digits)).one_or_none()
    elif digits.isdigit():
        siae = ctx.session.get(Siae, int(digits))
    if siae is None:
        raise FieldProblem(f"SIAE introuvable « {raw} » (SIRET ou identifiant attendu)")
    assert siae.id is not None
    return siae.id


def _yes_no(raw: str, ctx: Context) -> bool:
    text = raw.strip().casefold()
    if text in ("oui", "o", "true", "vrai", "1", "x"):
        return True
    if text in ("non", "n", "false", "faux", "0"):
        return False
    raise FieldProblem(f"oui ou non attendu, lu « {raw[:40]} »")


def _past_date(raw: str, ctx: Context) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise FieldProblem(f"date AAAA-MM-JJ attendue, lu « {raw[:40]} »") from None


def _person_ref(raw: str, ctx: Context) -> int:
    if not raw.isdigit() or ctx.session.get(Person, int(raw)) is None:
        raise FieldProblem(f"personne introuvable : identifiant « {raw} »")
    return int(raw)


ESTABLISHMENT_COLUMNS: tuple[Column, ...] = (
    Column("code", "code", True, help="Code court unique, ex. CP-GRENOBLE-VARCES"),
    Column("nom", "name", True, help="Nom complet"),
    Column("type", "type", True, _enum_parser(EstablishmentType), "MA, CD, MC, CP, CSL, QSL, EPM ou SAS"),
    Column("departement", "departement", True, _departement, "Code INSEE du département (38, 2A, 974…)"),
    Column("ville", "city", True, help="Commune"),
    Column("adresse", "address", help="Adresse postale"),
    Column("capacite", "capacity", parse=_non_negative_int, help="Capacité d'accueil (places)"),
    Column("locaux", "premises", help="Locaux disponibles (atelier, bureaux)"),
    Column("chef_etablissement", "head_name", help="Nom du chef d'établissement"),
)

SIAE_COLUMNS: tuple[Column, ...] = (
    Column("siret", "siret", True, _siret, "14 chiffres, clé de contrôle vérifiée"),
    Column("nom", "name", True, help="Raison sociale"),
    Column("type", "kind", True, _siae_kind, "type de SIAE implantable (config/eligibilite.toml)"),
    Column("adresse", "address", True, help="Adresse du siège"),
    Column("code_postal", "postal_code", True, _postal_code, "5 chiffres"),
    Column("ville", "city", True, help="Commune"),
    Column("reseau", "network", help="Réseau d'appartenance"),
    Column("code_naf", "naf_code", parse=_naf, help="Code NAF, ex. 88.99B"),
    Column("idcc", "idcc", parse=_idcc, help="Convention collective (IDCC)"),
    Column("forme_juridique", "legal_form", help="Forme juridique"),
    Column("president", "president", help="Président(e)"),
    Column("directeur", "director", help="Directeur ou directrice"),
    Column("email", "email", parse=_email, help="Adresse électronique"),
    Column("representant_legal", "legal_representative", help="Nom et qualité du représentant légal"),
)

PERSON_COLUMNS: tuple[Column, ...] = (
    Column("nom", "full_name", True, help="Prénom et nom"),
    Column("email", "email", True, _email, "Adresse électronique"),
    Column("organisation", "organisation", True, help="Organisme"),
    Column("role", "role", True, _role, "disp, dreets, ddets, prefet, ep, spip, siae, atigip…"),
    Column("territoire", "territory", True, help="Code DISP, région ou département selon le rôle"),
    Column("siae", "siae_id", parse=_siae_ref, help="SIRET ou identifiant de la SIAE (rôle siae)"),
    Column("responsable", "manager_id", parse=_person_ref, help="Identifiant du responsable hiérarchique"),
    Column("qualite", "office", help="Qualité imprimée sous la signature (ex. préfète de l'Isère)"),
    Column(
        "signataire", "signatory", parse=_yes_no, help="oui : signe les documents de l'étape 5 pour son rôle"
    ),
    Column("delegation_acte", "delegation_act", help="Acte de délégation de signature (nature et numéro)"),
    Column("delegation_date", "delegation_date", parse=_past_date, help="Date de l'acte de délégation"),
)


def _max_length(model: type[SQLModel], attr: str) -> int | None:
    table = model.__table__  # type: ignore[attr-defined]
    length = getattr(table.c[attr].type, "length", None)
    if length is None and table.c[attr].type.python_type is str:
        return MAX_FREE_TEXT
    return length


def check_text(field: str, value: str, max_length: int | None, multiline: bool = False) -> list[str]:
    """Length and control characters; ``& < > {{ }}`` are ordinary text and kept as typed."""
    problems = []
    if max_length is not None and len(value) > max_length:
        problems.append(f"champ « {field} » : {len(value)} caractères, {max_length} au maximum")
    if _CONTROL.search(value) or (not multiline and _LINE_BREAK.search(value)):
        problems.append(f"champ « {field} » : caractère de contrôle ou saut de ligne interdit")
    return problems


def parse_record(
    model: type[SQLModel], columns: Sequence[Column], raw: Mapping[str, str | None], ctx: Context
) -> tuple[dict[str, Any], list[str]]:
    """Turn French-named raw values into model attributes, collecting every problem."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for column in columns:
        text = (raw.get(column.name) or "").strip()
        if not text:
            if column.required:
                problems.append(f"champ « {column.name} » : valeur obligatoire manquante")
            continue
        length = _max_length(model, column.attr)
        # A parsed value (label of a type, spaced SIRET…) may be longer as typed than as stored.
        typed_limit = length if column.parse is None else PARSED_INPUT_LIMIT
        multiline = length is not None and length >= 1000
        field_problems = check_text(column.name, text, typed_limit, multiline)
        if field_problems:
            problems += field_problems
            continue
        try:
            value = column.parse(text, ctx) if column.parse else text
        except FieldProblem as exc:
            problems.append(f"champ « {column.name} » : {exc}")
            continue
        if isinstance(value, str) and length is not None and len(value) > length:
            problems.append(f"champ « {column.name} » : {len(value)} caractères, {length} au maximum")
            continue
        values[column.attr] = value
    return values, problems


def _unique_problem(session: Session, model: type[SQLModel], attr: str, label: str, value: Any) -> str | None:
    exists = session.exec(select(model).where(getattr(model, attr) == value)).first()
    if exists is not None:
        return f"champ « {label} » : « {value} » existe déjà dans le référentiel"
    return None


@dataclass(frozen=True)
class Kind:
    """One referential table: its columns and the column that must be unique, if any."""

    model: type[SQLModel]
    columns: tuple[Column, ...]
    unique: Column | None
    label: str


ESTABLISHMENTS = Kind(Establishment, ESTABLISHMENT_COLUMNS, ESTABLISHMENT_COLUMNS[0], "établissement")
SIAES = Kind(Siae, SIAE_COLUMNS, SIAE_COLUMNS[0], "SIAE")
PERSONS = Kind(Person, PERSON_COLUMNS, None, "personne")


def _person_territory_problem(values: dict[str, Any], cfg: ProcessConfig) -> str | None:
    role, territory = values.get("role"), values.get("territory")
    if role is None or territory is None:
        return None
    known: dict[Role, tuple[Iterable[str], str]] = {
        Role.DISP: (cfg.territory.disp, "code de DISP"),
        Role.DREETS: (cfg.territory.region, "code INSEE de région"),
    }
    for departemental in (Role.DDETS, Role.EP, Role.SPIP, Role.PREFET):
        known[departemental] = (cfg.territory.departement, "code de département")
    if role in known:
        codes, what = known[role]
        if territory not in codes:
            sample = ", ".join(sorted(codes)[:6])
            return (
                f"champ « territoire » : « {territory} » n'est pas un {what} connu (par exemple : {sample}…)"
            )
    if role == Role.SIAE and values.get("siae_id") is None:
        return "champ « siae » : obligatoire pour une personne de rôle siae"
    if values.get("signatory") and not values.get("office"):
        return "champ « qualite » : obligatoire pour un signataire (elle est imprimée sous sa signature)"
    if bool(values.get("delegation_act")) != bool(values.get("delegation_date")):
        return "champs « delegation_acte » et « delegation_date » : l'un ne va pas sans l'autre"
    if values.get("delegation_act") and not values.get("signatory"):
        return "champ « signataire » : une délégation de signature n'a de sens que pour un signataire (oui)"
    return None


def build(kind: Kind, raw: Mapping[str, str | None], ctx: Context) -> tuple[SQLModel | None, list[str]]:
    values, problems = parse_record(kind.model, kind.columns, raw, ctx)
    if kind is PERSONS:
        problem = _person_territory_problem(values, ctx.cfg)
        if problem:
            problems.append(problem)
    if kind.unique is not None and kind.unique.attr in values:
        problem = _unique_problem(
            ctx.session, kind.model, kind.unique.attr, kind.unique.name, values[kind.unique.attr]
        )
        if problem:
            problems.append(problem)
    if problems:
        return None, problems
    return kind.model(**values), []


def add(session: Session, cfg: ProcessConfig, kind: Kind, raw: Mapping[str, str | None]) -> SQLModel:
    """Add one row or raise :class:`InputError` listing every refused field."""
    row, problems = build(kind, raw, Context(cfg, session))
    if problems:
        raise InputError([f"{kind.label.capitalize()} refusé(e) — {p}" for p in problems])
    assert row is not None
    session.add(row)
    session.flush()
    return row


def read_csv(path: Path, columns: Sequence[Column]) -> list[tuple[int, dict[str, str]]]:
    """Rows of a UTF-8 CSV (``;`` or ``,``), with their line numbers; header checked against ``columns``."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError([f"Fichier introuvable : « {path} »."], field="fichier") from None
    except IsADirectoryError:
        raise InputError([f"« {path} » est un répertoire, pas un fichier CSV."], field="fichier") from None
    except UnicodeDecodeError as exc:
        raise InputError(
            [f"Fichier « {path.name} » : encodage non UTF-8 (octet {exc.start + 1})."], field="fichier"
        ) from None
    if "\x00" in text:
        raise InputError(
            [f"Fichier « {path.name} » : octet nul, ce n'est pas un fichier texte."], field="fichier"
        )
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise InputError([f"Fichier « {path.name} » : vide."], field="fichier") from None
    except csv.Error:
        raise InputError(
            [f"Fichier « {path.name} », ligne 1 : en-tête mal formé."], field="fichier"
        ) from None
    _check_header(path.name, header, columns)
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[str] = []
    line = 1
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error:
            problems.append(f"Ligne {start} : ligne mal formée (guillemet non fermé ou caractère interdit).")
            break
        line = start
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            problems.append(
                f"Ligne {line} : {len(values)} valeur(s) au lieu de {len(header)} (colonnes : {delimiter.join(header)})."
            )
            continue
        rows.append((line, dict(zip(header, values, strict=True))))
    if problems:
        raise InputError(problems, field="fichier")
    if not rows:
        raise InputError(
            [f"Fichier « {path.name} » : aucune ligne de données après l'en-tête."], field="fichier"
        )
    return rows


def _check_header(filename: str, header: list[str], columns: Sequence[Column]) -> None:
    known = {c.name for c in columns}
    problems = []
    unknown = [name for name in header if name not in known]
    if unknown:
        problems.append(f"colonne(s) inconnue(s) : {', '.join(unknown)}")
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        problems.append(f"colonne(s) en double : {', '.join(duplicated)}")
    missing = [c.name for c in columns if c.required and c.name not in header]
    if missing:
        problems.append(f"colonne(s) obligatoire(s) absente(s) : {', '.join(missing)}")
    if problems:
        expected = ";".join(c.name for c in columns)
        raise InputError(
            [f"Fichier « {filename} », en-tête : {p}." for p in problems] + [f"En-tête attendu : {expected}"],
            field="fichier",
        )


def import_csv(session: Session, cfg: ProcessConfig, kind: Kind, path: Path) -> list[SQLModel]:
    """All or nothing: every bad row is reported with its line number, and nothing is added."""
    ctx = Context(cfg, session)
    rows = read_csv(path, kind.columns)
    built: list[SQLModel] = []
    problems: list[str] = []
    seen: dict[Any, int] = {}
    for line, raw in rows:
        row, row_problems = build(kind, raw, ctx)
        if row is not None and kind.unique is not None:
            key = getattr(row, kind.unique.attr)
            if key in seen:
                row_problems.append(
                    f"champ « {kind.unique.name} » : « {key} » figure déjà à la ligne {seen[key]} du fichier"
                )
            else:
                seen[key] = line
        problems += [f"Ligne {line}, {p}" for p in row_problems]
        if row is not None and not row_problems:
            built.append(row)
    if problems:
        raise InputError(
            [*problems, f"Import annulé : aucune ligne n'a été enregistrée ({len(problems)} erreur(s))."]
        )
    session.add_all(built)
    session.flush()
    return built
