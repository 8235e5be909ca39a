"""One-time codes binding each gate decision to a person: HMAC(secret, gate key + person).

The form asks for an e-mail address, which anyone can type; the code proves that the person who answers
read the approval request sent to that address. It is derived, not stored: the secret
(``SIAE_SECRET_KEY``) and the gate key (project, stage, attempt, answer number) suffice to recompute it.
A code is worth nothing for another person, at another gate, at another attempt of the same gate (a
send-back reopens the stage with a new attempt) and even for the next answer at the same gate: every
answer, accepted or refused, moves the gate to a new key, and its approval request brings new codes.
That matters because Prefect keeps each answer, code included, as the run's input: a code read there
has already been spent.

After ``MAX_WRONG_CODES`` wrong codes at one gate, the gate refuses every answer for ``LOCK_DURATION``
and the pilot is told; the count starts again after the lock or an accepted decision at that gate. A code
that was the person's own for an earlier ask of the same gate is refused too, but is not a wrong try:
whoever typed it read a genuine e-mail, only not the latest one.
"""

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, func, or_, select

from implantation.db.models import Person, StageRecord, TransitionLog
from implantation.keys import stage_attempt_key, stage_key
from implantation.services.errors import DomainError
from implantation.settings import Settings

MAX_WRONG_CODES = 5
LOCK_DURATION = timedelta(hours=1)
WRONG_CODE = "refus_code"
STALE_CODE = "refus_code_perime"
LOCKED = "refus_porte_verrouillee"
LOCK = "verrouillage_code"
RESENT = "renvoi_code"
SECRET_FILE = "cle-secrete"


def gate_secret(settings: Settings) -> bytes:
    """``SIAE_SECRET_KEY``; for the demo and the tests only, a key generated once under the data directory."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode("utf-8")
    if settings.production:
        raise DomainError(
            "SIAE_SECRET_KEY n'est pas défini : il est obligatoire hors démonstration "
            "(codes de décision envoyés par courriel).",
            field="SIAE_SECRET_KEY",
        )
    return _demo_secret(settings.data_dir / SECRET_FILE)


def _demo_secret(path: Path) -> bytes:
    """Created atomically (written aside, then linked): concurrent runs all read the same complete key.

    The file is private from its creation (mode 0600 given to ``open``), never readable by others for a
    moment before a ``chmod``."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as key:
            key.write(secrets.token_urlsafe(32))
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
        finally:
            aside.unlink()
    return path.read_text(encoding="ascii").strip().encode("ascii")


def gate_code(secret: bytes, gate: str, person_id: int) -> str:
    """Ten letters and digits, shown as two groups of five (« ABCDE-23456 »); ``gate`` is the gate key."""
    message = f"{gate}-personne-{person_id}".encode()
    letters = base64.b32encode(hmac.new(secret, message, hashlib.sha256).digest()).decode("ascii")[:10]
    return f"{letters[:5]}-{letters[5:]}"


def current_code(
    session: Session, secret: bytes, project_id: int, stage: int, person_id: int, key: str | None
) -> str:
    """The code for the gate ``key``; without a key (services called directly), for the stage attempt."""
    if key is None:
        record = session.exec(
            select(StageRecord).where(StageRecord.project_id == project_id, StageRecord.stage == stage)
        ).one()
        key = stage_attempt_key(project_id, stage, record.attempt)
    return gate_code(secret, key, person_id)


def _normalized(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


def code_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison; spaces, dashes and case do not matter."""
    return hmac.compare_digest(_normalized(expected).encode(), _normalized(given or "").encode())


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def locked_until(session: Session, project_id: int, stage: int, now: datetime) -> datetime | None:
    lock = session.exec(
        select(TransitionLog.at)
        .where(
            TransitionLog.project_id == project_id,
            TransitionLog.stage == stage,
            TransitionLog.transition == LOCK,
        )
        .order_by(col(TransitionLog.id).desc())
    ).first()
    if lock is None:
        return None
    until = _aware(lock) + LOCK_DURATION
    return until if until > now else None


def wrong_codes(session: Session, project_id: int, stage: int) -> int:
    """Wrong codes at the gate since its last lock or its last accepted transition."""
    at_gate = (TransitionLog.project_id == project_id, TransitionLog.stage == stage)
    reset = session.exec(
        select(func.max(TransitionLog.id)).where(
            *at_gate, or_(TransitionLog.transition == LOCK, col(TransitionLog.accepted).is_(True))
        )
    ).one()
    return session.exec(
        select(func.count())
        .select_from(TransitionLog)
        .where(*at_gate, TransitionLog.transition == WRONG_CODE, col(TransitionLog.id) > (reset or 0))
    ).one()


@dataclass(frozen=True)
class CodeRefusal:
    transition: str
    problem: str
    locks_until: datetime | None = None


def code_refusal(
    session: Session,
    secret: bytes,
    project_id: int,
    stage: int,
    approver: Person | None,
    code: str | None,
    key: str | None,
    now: datetime,
) -> CodeRefusal | None:
    """Why the answer is refused for its code or a locked gate; None when the code is the approver's own.

    ``approver`` is None when the address is unknown or not allowed here: the other checks refuse it.
    """
    until = locked_until(session, project_id, stage, now)
    if until is not None:
        return CodeRefusal(
            LOCKED,
            f"la décision de l'étape {stage} est bloquée jusqu'au {_when(until)} après {MAX_WRONG_CODES} codes erronés",
        )
    if approver is None or approver.id is None:
        return None
    if code_matches(current_code(session, secret, project_id, stage, approver.id, key), code):
        return None
    if any(
        code_matches(gate_code(secret, earlier, approver.id), code)
        for earlier in _earlier_asks(session, project_id, stage, key)
    ):
        return CodeRefusal(
            STALE_CODE,
            f"le code saisi par {approver.email} valait pour une demande précédente de cette décision, "
            "remplacée depuis (il ne compte pas comme un code erroné) ; un nouveau code personnel vient "
            "d'être envoyé à chaque personne habilitée : saisir celui du dernier courriel",
        )
    tries = wrong_codes(session, project_id, stage) + 1
    if not (code or "").strip():
        problem = f"le code reçu par courriel par {approver.email} n'est pas renseigné"
    else:
        problem = f"le code reçu par courriel ne correspond pas à l'adresse {approver.email}"
    problem += f" (essai erroné {tries} sur {MAX_WRONG_CODES})"
    if tries >= MAX_WRONG_CODES:
        lock_end = now + LOCK_DURATION
        problem += f" ; la décision de l'étape {stage} est bloquée jusqu'au {_when(lock_end)} et le pilote est prévenu"
        return CodeRefusal(WRONG_CODE, problem, lock_end)
    return CodeRefusal(
        WRONG_CODE,
        problem + " ; un nouveau code personnel vient d'être envoyé à chaque personne habilitée",
    )


def _earlier_asks(session: Session, project_id: int, stage: int, key: str | None) -> list[str]:
    """The keys of the asks of this gate already answered (every attempt): each answer moved the gate on."""
    if key is None:
        return []
    prefix = stage_key(project_id, stage) + "-"
    return [
        earlier
        for earlier in session.exec(
            select(TransitionLog.idempotency_key).where(
                TransitionLog.project_id == project_id,
                TransitionLog.stage == stage,
                col(TransitionLog.idempotency_key).startswith(prefix),
            )
        )
        if earlier is not None and earlier != key
    ]


def _when(moment: datetime) -> str:
    from implantation.dates import fr_datetime

    return fr_datetime(moment)
