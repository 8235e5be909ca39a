"""Legal amounts kept by an administrator: added with their text on top of ``config/montants.toml``, checked,
listed, and the CEPs a new SMIC leaves under the floor.

Every addition and every check is a row of the tamper-evident journal (tables ``montant`` and
``montant_verification``): who entered what, from which text, when. Rows are never updated: a value entered
again for the same key, day and establishment corrects the earlier one, which stays in the journal.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlmodel import Session, col, select

from implantation import contract_rules as rules
from implantation.amounts import Added, AmountBook, Place
from implantation.config.schema import Amount, ProcessConfig
from implantation.dates import fr_date
from implantation.db.models import (
    AmountCheck,
    AmountRecord,
    Establishment,
    ImplantationProject,
    Operateur,
    Person,
)
from implantation.documents.formatting import fr_money, fr_percent
from implantation.enums import OperateurStatus, ProjectStatus
from implantation.services.errors import DomainError
from implantation.services.referential import InputError
from implantation.settings import Settings

SMIC_KEYS = ("smic_horaire_brut", "smic_horaire_brut_mayotte")
CSV_COLUMNS = ("cle", "valeur", "du", "au", "source", "date_source", "etablissement")


def amount_book(session: Session, cfg: ProcessConfig) -> AmountBook:
    """The shipped amounts with every value and check an administrator recorded."""
    codes = {e.id: e.code for e in session.exec(select(Establishment))}
    added = []
    checks: dict[str, date] = {}
    for row in session.exec(select(AmountRecord).order_by(col(AmountRecord.id))):
        if row.key not in cfg.money.montant:
            continue  # a key removed from the file since: kept in the journal, no longer used
        amount = Amount.model_construct(
            valeur=row.value,
            du=row.starts_on,
            au=row.ends_on,
            source=row.source,
            date_source=row.source_date,
            demonstration=False,
        )
        code = codes.get(row.establishment_id) if row.establishment_id is not None else None
        assert row.id is not None  # read back from the table
        added.append(Added(row.key, amount, code, row.id))
        checks[row.key] = max(checks.get(row.key, row.recorded_at.date()), row.recorded_at.date())
    for check in session.exec(select(AmountCheck)):
        checks[check.key] = max(checks.get(check.key, check.checked_on), check.checked_on)
    return AmountBook(cfg.money, added, checks)


# --- adding a value ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAmount:
    key: str
    value: str
    starts_on: date | None
    source: str
    source_date: date | None
    establishment: str | None = None
    ends_on: date | None = None


def _establishment(session: Session, code: str) -> Establishment | None:
    text = code.strip()
    row = session.exec(select(Establishment).where(Establishment.code == text)).first()
    if row is None and text.isdigit():
        row = session.get(Establishment, int(text))
    return row


def check_new(session: Session, cfg: ProcessConfig, new: NewAmount, today: date) -> list[str]:
    """Every problem of one value, in French, naming the option to fix."""
    problems: list[str] = []
    series = cfg.money.montant.get(new.key)
    if series is None:
        return [f"clé inconnue « {new.key} » (clés : {', '.join(cfg.money.montant)})"]
    try:
        value = Decimal(new.value.strip().replace(",", ".").replace(" ", "").replace("\xa0", ""))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0:
        problems.append(f"valeur : nombre positif attendu, lu « {new.value[:40]} »")
    elif series.unite == "taux" and value >= 1:
        problems.append(f"valeur : taux attendu en fraction (0.042 pour 4,20 %), lu « {new.value} »")
    elif value.as_tuple().exponent < -6:  # type: ignore[operator]
        problems.append("valeur : six décimales au plus")
    if new.starts_on is None:
        problems.append("--du : date d'entrée en vigueur obligatoire (AAAA-MM-JJ)")
    if not new.source.strip():
        problems.append("--source : le texte qui fixe la valeur est obligatoire (nom, numéro, date, article)")
    elif new.source.strip().startswith("DÉMONSTRATION"):
        problems.append("--source : une valeur de démonstration ne s'enregistre pas dans la base")
    elif new.source.strip().lower().startswith(("décret", "arrêté")) and new.source_date is None:
        problems.append("--date-source : la date du texte est obligatoire pour un décret ou un arrêté")
    if new.source_date is not None and new.source_date > today:
        problems.append(f"--date-source : le {new.source_date:%d/%m/%Y} est dans le futur")
    if new.ends_on is not None and new.starts_on is not None and new.ends_on < new.starts_on:
        problems.append("--au : la date de fin précède la date d'entrée en vigueur")
    if series.par_etablissement and not new.establishment:
        problems.append(
            f"--etablissement : « {new.key} » se saisit par établissement (code de l'établissement)"
        )
    if not series.par_etablissement and new.establishment:
        problems.append(f"--etablissement : « {new.key} » est national, pas propre à un établissement")
    if new.establishment and _establishment(session, new.establishment) is None:
        problems.append(f"--etablissement : établissement inconnu « {new.establishment} »")
    return problems


def add_amount(session: Session, cfg: ProcessConfig, new: NewAmount, actor: str, today: date) -> AmountRecord:
    """Record one value (journaled), or refuse it with every problem and write nothing."""
    problems = check_new(session, cfg, new, today)
    if problems:
        raise InputError([f"Montant refusé — {p}" for p in problems], field="montant")
    return _record(session, new, actor)


def _record(session: Session, new: NewAmount, actor: str) -> AmountRecord:
    assert new.starts_on is not None
    establishment = _establishment(session, new.establishment) if new.establishment else None
    row = AmountRecord(
        key=new.key,
        value=Decimal(new.value.strip().replace(",", ".").replace(" ", "").replace("\xa0", "")),
        starts_on=new.starts_on,
        ends_on=new.ends_on,
        source=new.source.strip(),
        source_date=new.source_date,
        establishment_id=establishment.id if establishment else None,
        actor_label=actor[:200],
    )
    session.add(row)
    session.flush()
    return row


def _csv_date(raw: str, name: str, line: int, problems: list[str]) -> date | None:
    text = raw.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"ligne {line}, colonne « {name} » : date AAAA-MM-JJ attendue, lu « {text[:20]} »")
        return None


def import_amounts(
    session: Session, cfg: ProcessConfig, path: Path, actor: str, today: date
) -> list[AmountRecord]:
    """A CSV of values (AT/MP rates of every establishment, a year's amounts): all or nothing."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError([f"Fichier introuvable : « {path} »."], field="fichier") from None
    except UnicodeDecodeError:
        raise InputError([f"Fichier « {path.name} » : encodage non UTF-8."], field="fichier") from None
    delimiter = ";" if text.split("\n", 1)[0].count(";") >= text.split("\n", 1)[0].count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in ("cle", "valeur", "du", "source") if c not in header]
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if missing or unknown:
        raise InputError(
            [
                f"Fichier « {path.name} » : colonnes attendues {', '.join(CSV_COLUMNS)}"
                + (f" ; manquantes : {', '.join(missing)}" if missing else "")
                + (f" ; inconnues : {', '.join(unknown)}" if unknown else "")
            ],
            field="fichier",
        )
    entries: list[NewAmount] = []
    problems: list[str] = []
    for line, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        dates = [_csv_date(row.get(n, ""), n, line, problems) for n in ("du", "au", "date_source")]
        new = NewAmount(
            key=row.get("cle", ""),
            value=row.get("valeur", ""),
            starts_on=dates[0],
            ends_on=dates[1],
            source=row.get("source", ""),
            source_date=dates[2],
            establishment=row.get("etablissement") or None,
        )
        problems += [f"ligne {line} : {p}" for p in check_new(session, cfg, new, today)]
        entries.append(new)
    if problems or not entries:
        raise InputError(
            [*problems, "Import refusé : aucun montant n'a été enregistré."]
            if problems
            else ["Fichier vide."],
            field="fichier",
        )
    return [_record(session, new, actor) for new in entries]


def confirm(
    session: Session, cfg: ProcessConfig, keys: Sequence[str], actor: str, today: date
) -> list[AmountCheck]:
    """Record that no newer text changes these amounts, as of ``today`` (journaled)."""
    unknown = [k for k in keys if k not in cfg.money.montant]
    if unknown:
        raise InputError([f"Clé inconnue « {k} »." for k in unknown], field="cle")
    rows = [AmountCheck(key=key, checked_on=today, actor_label=actor[:200]) for key in keys]
    session.add_all(rows)
    session.flush()
    return rows


# --- reading ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    key: str
    label: str
    in_force: Amount | None  # today (national amounts)
    latest: Amount | None
    checked_on: date | None
    overdue_since: date | None  # usual revaluation date passed without a newer text or check
    per_establishment: int  # values entered per establishment (AT/MP)


def statuses(session: Session, book: AmountBook, today: date) -> list[Status]:
    per_establishment: dict[str, int] = {}
    for row in session.exec(select(AmountRecord).where(col(AmountRecord.establishment_id).is_not(None))):
        per_establishment[row.key] = per_establishment.get(row.key, 0) + 1
    out = []
    for key in book.all_keys():
        series = book.series(key)
        try:
            current = None if series.par_etablissement else book.in_force(key, today)
        except rules.RuleError:
            current = None
        out.append(
            Status(
                key,
                series.libelle,
                current,
                book.latest(key),
                book.checked_on(key),
                book.overdue(key, today),
                per_establishment.get(key, 0),
            )
        )
    return out


def values_of(session: Session, book: AmountBook, key: str) -> list[tuple[str | None, Amount]]:
    """Every value of a key: national ones, then each establishment's (AT/MP)."""
    rows: list[tuple[str | None, Amount]] = [(None, a) for a in book.values(key)]
    codes = sorted({a.establishment for a in book.added if a.key == key and a.establishment})
    for code in codes:
        rows += [(code, a) for a in book.values(key, code) if a not in book.values(key)]
    return rows


# --- a new SMIC: the CEPs under the new floor -------------------------------------------------------


@dataclass(frozen=True)
class Avenant:
    project_id: int
    reference: str
    lead_email: str | None
    lead_name: str | None
    operateur_id: str
    contract_start: date
    rate: Decimal
    new_floor: Decimal
    share: Decimal  # of the SMIC (D412-64)


def avenants_due(
    session: Session, before: AmountBook, after: AmountBook, record: AmountRecord
) -> list[Avenant]:
    """The CEPs in force whose hourly pay is under the floor that a new SMIC value sets from its date.

    Their pay is the rate their CEP printed: the one entered, or the floor in force at its start before the
    new value (a CEP starting after the new SMIC but produced before it printed the old floor too).
    """
    if record.key not in SMIC_KEYS:
        return []
    mayotte = record.key.endswith("_mayotte")
    due: list[Avenant] = []
    query = (
        select(Operateur, ImplantationProject, Establishment)
        .join(ImplantationProject, col(ImplantationProject.id) == col(Operateur.project_id))
        .join(Establishment, col(Establishment.id) == col(ImplantationProject.establishment_id))
        .where(
            Operateur.status == OperateurStatus.ASSIGNED,
            col(Operateur.ended_on).is_(None),
            ImplantationProject.status != ProjectStatus.ABANDONED,
        )
        .order_by(col(ImplantationProject.id), col(Operateur.id))
    )
    for op, project, establishment in session.exec(query):
        place = Place(establishment.code, establishment.departement)
        if place.mayotte != mayotte or op.contract_start is None:
            continue
        on = max(op.contract_start, record.starts_on)
        try:
            floor = rules.hourly_pay_floor(after, place, on)
            rate = (
                Decimal(str(op.hourly_rate))
                if op.hourly_rate is not None
                else rules.hourly_pay_floor(before, place, op.contract_start).floor
            )
        except rules.RuleError:
            continue
        if rate < floor.floor:
            lead = session.get(Person, project.lead_id)
            due.append(
                Avenant(
                    project.id,  # type: ignore[arg-type]
                    project.reference,
                    lead.email if lead else None,
                    lead.full_name if lead else None,
                    op.id,
                    op.contract_start,
                    rate,
                    floor.floor,
                    floor.share.value,
                )
            )
    return due


def by_project(due: Iterable[Avenant]) -> dict[int, list[Avenant]]:
    grouped: dict[int, list[Avenant]] = {}
    for avenant in due:
        grouped.setdefault(avenant.project_id, []).append(avenant)
    return grouped


def smic_record(session: Session, record_id: int) -> AmountRecord:
    row = session.get(AmountRecord, record_id)
    if row is None or row.key not in SMIC_KEYS:
        raise DomainError(f"Aucun SMIC enregistré sous l'identifiant {record_id}.", field="montant")
    return row


def book_without(book: AmountBook, record: AmountRecord) -> AmountBook:
    """The amounts as they were before ``record`` was added (for the rate a CEP printed then)."""
    assert record.id is not None  # read back from the table
    kept = [a for a in book.added if a.rank < record.id]
    return AmountBook(book.money, kept, book.checks)


def latest_smic(session: Session) -> list[AmountRecord]:
    """The latest SMIC value added, per territory (what ``siae montants avenants`` checks again)."""
    out = []
    for key in SMIC_KEYS:
        row = session.exec(
            select(AmountRecord).where(AmountRecord.key == key).order_by(col(AmountRecord.id).desc())
        ).first()
        if row is not None:
            out.append(row)
    return out


def notify_avenants(
    session: Session, settings: Settings, cfg: ProcessConfig, record: AmountRecord, due: Sequence[Avenant]
) -> list[str]:
    """E-mail each project's DISP lead the list of its CEPs under the new floor, once per SMIC value.

    Returns one French line per project: sent, already sent, or why it could not be.
    """
    from implantation.notifications.context import base_context
    from implantation.notifications.mailer import MailError, MailKind, send_once

    lines = []
    for project_id, items in by_project(due).items():
        project = session.get(ImplantationProject, project_id)
        assert project is not None
        first = items[0]
        if not first.lead_email:
            lines.append(
                f"{first.reference} : aucun chef de projet DISP avec une adresse ; courriel non envoyé"
            )
            continue
        context = {
            **base_context(session, cfg, project, None),
            "smic": fr_money(record.value),
            "du": fr_date(record.starts_on),
            "source": record.source,
            "plancher": fr_money(first.new_floor),
            "part": fr_percent(first.share),
            "contrats": [
                {"operateur": a.operateur_id, "debut": fr_date(a.contract_start), "taux": fr_money(a.rate)}
                for a in items
            ],
        }
        try:
            sent = send_once(
                session,
                settings,
                project_id=project_id,
                stage=None,
                kind=MailKind.AVENANT,
                dedup_key=f"avenant:{project_id}:{record.id}",
                recipients=[first.lead_email],
                context=context,
            )
        except MailError as exc:
            lines.append(
                f"{first.reference} : courriel non envoyé ({exc}) ; relancer « siae montants avenants »"
            )
            continue
        state = "courriel envoyé" if sent is not None else "courriel déjà envoyé"
        lines.append(
            f"{first.reference} : {state} à {first.lead_name or first.lead_email} ({first.lead_email})"
        )
    return lines
