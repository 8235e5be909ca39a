"""One-time codes at the gates: only the approver's own code, for this gate and attempt, lets a decision in."""

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import factories
import pytest
import time_machine
from factories import SECRET
from mailsink import MailSink, mail_sink, make_settings
from pydantic import SecretStr
from sqlmodel import Session, col, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import ImplantationProject, Person, TransitionLog
from implantation.enums import Decision, Role
from implantation.keys import gate_key
from implantation.notifications.codes import resend_code, send_approval_requests, send_lock_alert
from implantation.services import gate_codes
from implantation.services.decisions import DecisionRequest, decide
from implantation.services.errors import DomainError
from implantation.settings import Mode, Settings

__all__ = ["mail_sink"]

DAY = date(2026, 12, 10)
START = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
PILOT = "Pilote (essai)"
CODE = re.compile(r"Votre code personnel pour cette décision : ([A-Z2-7]{5}-[A-Z2-7]{5})")


def _key(project: ImplantationProject, answer: int = 1, stage: int = 1, attempt: int = 1) -> str:
    return gate_key(project.id, stage, attempt, answer)  # type: ignore[arg-type]


def _code(project: ImplantationProject, person: Person, key: str | None = None) -> str:
    return gate_codes.gate_code(SECRET, key or _key(project), person.id)  # type: ignore[arg-type]


def _answer(
    session: Session,
    cfg: ProcessConfig,
    project: ImplantationProject,
    approver: Person,
    code: str | None,
    answer: int = 1,
) -> tuple[bool, list[str]]:
    """The answer number ``answer`` at gate 1, as the flow asks it (one key per answer)."""
    request = DecisionRequest(1, Decision.APPROVE, approver.id, code=code, key=_key(project, answer))  # type: ignore[arg-type]
    factories.stage_work(session, cfg, project.id, 1)  # type: ignore[arg-type]
    outcome = decide(session, cfg, project.id, request, DAY, secret=SECRET)  # type: ignore[arg-type]
    return outcome.accepted, outcome.problems


def _log(session: Session, project: ImplantationProject) -> list[TransitionLog]:
    query = select(TransitionLog).where(TransitionLog.project_id == project.id, TransitionLog.stage == 1)
    return list(session.exec(query.order_by(col(TransitionLog.id))))


@pytest.fixture
def gate(session: Session, cfg: ProcessConfig) -> tuple[ImplantationProject, Person, Person]:
    """Stage 1 open; two DISP agents of Lyon may both decide there."""
    project, lead = factories.project(session, cfg)
    colleague = factories.person(
        session, cfg, Role.DISP, "LYON", nom="Autre Agent", email="autre@example.org"
    )
    session.commit()
    return project, lead, colleague


def test_the_right_code_is_accepted(session: Session, cfg: ProcessConfig, gate) -> None:  # type: ignore[no-untyped-def]
    project, lead, _colleague = gate
    code = _code(project, lead)
    assert _answer(session, cfg, project, lead, f"  {code.lower().replace('-', ' ')} ") == (True, [])
    assert _log(session, project)[-1].transition == "approuver"


@pytest.mark.parametrize(
    ("case", "wanted"),
    [
        ("wrong", "ne correspond pas"),
        ("empty", "n'est pas renseigné"),
        ("other_person", "ne correspond pas"),
        ("other_gate", "ne correspond pas"),
        ("other_attempt", "ne correspond pas"),
        ("other_answer", "ne correspond pas"),
        ("other_project", "ne correspond pas"),
    ],
)
def test_a_code_other_than_the_approvers_own_is_refused_logged_and_re_asked(
    session: Session,
    cfg: ProcessConfig,
    gate,  # type: ignore[no-untyped-def]
    case: str,
    wanted: str,
) -> None:
    project, lead, colleague = gate
    code = {
        "wrong": "AAAAA-BBBBB",
        "empty": "",
        "other_person": _code(project, colleague),
        "other_gate": _code(project, lead, _key(project, stage=2)),
        "other_attempt": _code(project, lead, _key(project, attempt=2)),
        "other_answer": _code(project, lead, _key(project, answer=2)),
        "other_project": gate_codes.gate_code(SECRET, gate_key(project.id + 1, 1, 1, 1), lead.id),  # type: ignore[operator,arg-type]
    }[case]
    accepted, problems = _answer(session, cfg, project, lead, code)
    assert not accepted and wanted in problems[0] and lead.email in problems[0]
    refused = _log(session, project)[-1]
    assert (refused.transition, refused.accepted, refused.actor_id) == ("refus_code", False, lead.id)
    assert "essai erroné 1 sur 5" in (refused.reason or "")
    # Re-asked under the next key: the code of the first ask is spent; the new one is accepted.
    assert not _answer(session, cfg, project, lead, _code(project, lead), answer=2)[0]
    assert _answer(session, cfg, project, lead, _code(project, lead, _key(project, 3)), answer=3) == (
        True,
        [],
    )


def test_five_wrong_codes_lock_the_gate_for_an_hour(session: Session, cfg: ProcessConfig, gate) -> None:  # type: ignore[no-untyped-def]
    project, lead, colleague = gate
    with time_machine.travel(START, tick=False):
        for n in range(1, 5):
            accepted, problems = _answer(session, cfg, project, lead, f"FAUX{n}", answer=n)
            assert not accepted and f"essai erroné {n} sur 5" in problems[0]
        request = DecisionRequest(1, Decision.APPROVE, lead.id, code="FAUX5", key=_key(project, 5))  # type: ignore[arg-type]
        fifth = decide(session, cfg, project.id, request, DAY, secret=SECRET)  # type: ignore[arg-type]
        assert not fifth.accepted and fifth.locked_until == START + timedelta(hours=1)
        assert "bloquée jusqu'au 10 décembre 2026 à 11:00" in fifth.problems[0]
        assert [r.transition for r in _log(session, project)[-2:]] == ["refus_code", "verrouillage_code"]
    with time_machine.travel(START + timedelta(minutes=59), tick=False):
        # Even the right code, even another allowed person: the gate refuses, and says until when.
        for n, person in ((6, lead), (7, colleague)):
            accepted, problems = _answer(
                session, cfg, project, person, _code(project, person, _key(project, n)), n
            )
            assert not accepted and "bloquée jusqu'au 10 décembre 2026 à 11:00" in problems[0]
        assert _log(session, project)[-1].transition == "refus_porte_verrouillee"
    with time_machine.travel(START + timedelta(minutes=61), tick=False):
        # The count starts again after the lock.
        accepted, problems = _answer(session, cfg, project, lead, "FAUX8", answer=8)
        assert not accepted and "essai erroné 1 sur 5" in problems[0]
        assert _answer(session, cfg, project, lead, _code(project, lead, _key(project, 9)), 9) == (True, [])


def test_a_code_of_an_earlier_ask_is_refused_without_counting_as_a_wrong_try(
    session: Session, cfg: ProcessConfig, gate
) -> None:  # type: ignore[no-untyped-def]
    """A person who types the code of an earlier e-mail read a genuine one: no step toward the lock-out."""
    project, lead, colleague = gate
    assert not _answer(session, cfg, project, lead, "FAUX1", answer=1)[0]  # one wrong try
    first = _code(project, lead)  # valid for the first ask, which that answer consumed
    for n in range(2, 8):  # more than the five tries that lock the gate
        accepted, problems = _answer(session, cfg, project, lead, first, answer=n)
        assert not accepted and "valait pour une demande précédente" in problems[0]
        assert "ne compte pas comme un code erroné" in problems[0]
    logged = _log(session, project)
    assert [r.transition for r in logged[-6:]] == ["refus_code_perime"] * 6
    assert "verrouillage_code" not in [r.transition for r in logged]
    assert gate_codes.wrong_codes(session, project.id, 1) == 1  # type: ignore[arg-type]
    # Someone else's earlier code is still a wrong code: it was never this person's.
    accepted, problems = _answer(session, cfg, project, lead, _code(project, colleague), answer=8)
    assert not accepted and "essai erroné 2 sur 5" in problems[0]
    assert _answer(session, cfg, project, lead, _code(project, lead, _key(project, 9)), 9) == (True, [])


def test_people_not_allowed_are_refused_for_their_role_not_their_code(
    session: Session, cfg: ProcessConfig, gate
) -> None:  # type: ignore[no-untyped-def]
    project, _lead, _colleague = gate
    spip = factories.person(session, cfg, Role.SPIP, "38")
    accepted, problems = _answer(session, cfg, project, spip, "")
    assert not accepted and "rôle" in problems[0]
    assert _log(session, project)[-1].transition == "refus_approuver"
    assert gate_codes.wrong_codes(session, project.id, 1) == 0  # type: ignore[arg-type]


def _settings(tmp_path: Path, sink: MailSink) -> Settings:
    return make_settings(tmp_path, sink.port).model_copy(update={"secret_key": SecretStr(SECRET.decode())})


def test_each_decider_gets_their_own_code_and_the_pilot_can_resend_it(
    session: Session,
    cfg: ProcessConfig,
    gate,  # type: ignore[no-untyped-def]
    mail_sink: MailSink,
    tmp_path: Path,
) -> None:
    project, lead, colleague = gate
    session.commit()  # each e-mail claims its key in a transaction of its own
    settings = _settings(tmp_path, mail_sink)
    with pytest.raises(DomainError, match="aucune demande de décision"):
        resend_code(session, settings, cfg, project, 1, lead.email, None, requested_by=PILOT)
    assert send_approval_requests(session, settings, cfg, project, 1, _key(project), "http://ui") == 2
    codes = {m.rcpt_tos[0]: CODE.findall(m.body) for m in mail_sink.mails}
    assert codes == {lead.email: [_code(project, lead)], colleague.email: [_code(project, colleague)]}

    newcomer = factories.person(
        session, cfg, Role.DISP, "LYON", nom="Nouvel Agent", email="Nouveau@Example.org"
    )
    session.commit()  # each e-mail claims its key in a transaction of its own
    resend_code(session, settings, cfg, project, 1, " nouveau@example.org ", None, requested_by=PILOT)
    session.commit()
    assert CODE.findall(mail_sink.mails[-1].body) == [_code(project, newcomer)]
    assert mail_sink.mails[-1].rcpt_tos == ["Nouveau@Example.org"]
    logged = _log(session, project)[-1]
    assert logged.transition == "renvoi_code" and "Nouveau@Example.org" in (logged.reason or "")
    assert _code(project, newcomer) not in (logged.reason or "")

    spip = factories.person(session, cfg, Role.SPIP, "38")
    with pytest.raises(DomainError, match="ne peut pas décider à l'étape 1"):
        resend_code(session, settings, cfg, project, 1, spip.email, None, requested_by=PILOT)
    with pytest.raises(DomainError, match="Aucune personne"):
        resend_code(session, settings, cfg, project, 1, "inconnu@example.org", None, requested_by=PILOT)
    with pytest.raises(DomainError, match="aucune décision attendue"):
        resend_code(session, settings, cfg, project, 2, lead.email, None, requested_by=PILOT)


def test_the_code_of_a_suspended_gate_can_be_resent(
    session: Session,
    cfg: ProcessConfig,
    gate,  # type: ignore[no-untyped-def]
    mail_sink: MailSink,
    tmp_path: Path,
) -> None:
    """A suspended stage waits for « reprendre » at its gate: that decision needs a code too."""
    project, lead, _colleague = gate
    session.commit()
    settings = _settings(tmp_path, mail_sink)
    send_approval_requests(session, settings, cfg, project, 1, _key(project), "http://ui")
    request = DecisionRequest(
        1,
        Decision.SUSPEND,
        lead.id,
        reason="Attestation attendue de l'EP",
        code=_code(project, lead),
        key=_key(project),
    )  # type: ignore[arg-type]
    assert decide(session, cfg, project.id, request, DAY, secret=SECRET).accepted  # type: ignore[arg-type]
    session.commit()
    send_approval_requests(session, settings, cfg, project, 1, _key(project, 2), "http://ui")
    resend_code(session, settings, cfg, project, 1, lead.email, None, requested_by=PILOT)
    assert CODE.findall(mail_sink.mails[-1].body) == [_code(project, lead, _key(project, 2))]


def test_the_pilot_is_told_when_the_gate_locks(
    session: Session, cfg: ProcessConfig, gate, mail_sink: MailSink, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    project, lead, _colleague = gate
    settings = _settings(tmp_path, mail_sink)
    assert send_lock_alert(session, settings, cfg, project, 1, START + timedelta(hours=1), "cle") == 1
    (mail,) = mail_sink.mails
    assert lead.email in mail.rcpt_tos and "Décision bloquée – étape 1 : 5 codes erronés" in mail.subject
    assert "jusqu'au 10 décembre 2026 à 11:00" in mail.body


def test_the_secret_is_required_outside_the_demo(tmp_path: Path) -> None:
    production = Settings(data_dir=tmp_path, secret_key=None, mode=Mode.PRODUCTION)
    with pytest.raises(DomainError, match="SIAE_SECRET_KEY"):
        gate_codes.gate_secret(production)
    assert gate_codes.gate_secret(Settings(data_dir=tmp_path, secret_key="abc")) == b"abc"  # type: ignore[arg-type]
    demo = Settings(data_dir=tmp_path / "demo", secret_key=None, mode=Mode.DEMO)
    first = gate_codes.gate_secret(demo)
    assert len(first) >= 32 and gate_codes.gate_secret(demo) == first
    assert (tmp_path / "demo" / gate_codes.SECRET_FILE).stat().st_mode & 0o077 == 0


def test_the_demo_key_is_never_readable_by_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Private from its creation: with a permissive umask and no ``chmod`` afterwards, still 0600."""
    import os

    monkeypatch.setattr(Path, "chmod", lambda self, mode: None)
    previous = os.umask(0o022)
    try:
        gate_codes.gate_secret(Settings(data_dir=tmp_path / "demo", secret_key=None, mode=Mode.DEMO))
    finally:
        os.umask(previous)
    assert (tmp_path / "demo" / gate_codes.SECRET_FILE).stat().st_mode & 0o777 == 0o600
