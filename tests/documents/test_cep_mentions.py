"""The CEP's R412-25 mentions carry the opérateur's own computed values, within the Code's bounds."""

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session, delete

from implantation.config.schema import ProcessConfig
from implantation.db.models import AmountRecord, Operateur
from implantation.documents.builders import DocumentDataError, build_cep_context
from implantation.enums import LegalStatus

NBSP = "\u00a0"
FULL_WEEK = {"jours": ["lundi", "mardi", "mercredi", "jeudi", "vendredi"], "debut": "08:00", "fin": "14:00"}


def _money(text: str) -> str:
    return text.replace(" ", NBSP) + f"{NBSP}€"


def test_hours_schedule_rest_and_holidays_are_his_own(
    session: Session, project_id: int, cfg: ProcessConfig, new_operateur
) -> None:
    ctx = build_cep_context(session, project_id, new_operateur(session, project_id), cfg)
    assert ctx.schedule.weekly_hours == "24 h"  # 4 days × (6 h 30 − 30 min)
    assert ctx.schedule.monthly_hours == "104 h"  # 24 × 52 / 12
    assert (ctx.schedule.days, ctx.schedule.start, ctx.schedule.end) == (
        "du lundi au jeudi",
        "8 h 00",
        "14 h 30",
    )
    assert ctx.schedule.daily_hours == "6 h"
    assert ctx.schedule.break_clause.startswith("Chaque jour travaillé comporte une pause de 30 minutes")
    assert ctx.schedule.rest_days == "du vendredi au dimanche"
    # Public holidays of the Gironde falling on a Monday to Thursday, 1 March 2026 to 28 February 2027.
    assert [(h.date, h.name) for h in ctx.holidays] == [
        ("lundi 6 avril 2026", "Lundi de Pâques"),
        ("jeudi 14 mai 2026", "Ascension"),
        ("lundi 25 mai 2026", "Lundi de Pentecôte"),
        ("mardi 14 juillet 2026", "Fête nationale"),
        ("mercredi 11 novembre 2026", "Armistice"),
    ]


def test_weekly_hours_that_contradict_the_schedule_are_refused(
    session: Session, project_id: int, cfg: ProcessConfig, new_operateur
) -> None:
    op = new_operateur(session, project_id, schedule=FULL_WEEK)
    with pytest.raises(DocumentDataError) as refused:
        build_cep_context(session, project_id, op, cfg)
    assert (
        "la durée hebdomadaire de 24 h ne correspond pas à l'emploi du temps (du lundi au vendredi, de 8 h 00 "
        "à 14 h 00, sans pause : 30 h par semaine)"
    ) in str(refused.value)
    consistent = new_operateur(session, project_id, schedule=FULL_WEEK, weekly_hours=Decimal("30"))
    assert build_cep_context(session, project_id, consistent, cfg).schedule.weekly_hours == "30 h"


def test_an_invalid_schedule_is_refused_naming_the_field(
    session: Session, project_id: int, cfg: ProcessConfig, new_operateur
) -> None:
    op = new_operateur(session, project_id, schedule={**FULL_WEEK, "jours": ["lundi", "dimanch"]})
    with pytest.raises(
        DocumentDataError, match="l'emploi du temps est invalide \\(jours : jour inconnu : dimanch"
    ):
        build_cep_context(session, project_id, op, cfg)


def test_contributions_are_the_css_ones_in_euros_with_their_article(
    session: Session, project_id: int, cfg: ProcessConfig, new_operateur
) -> None:
    ctx = build_cep_context(session, project_id, new_operateur(session, project_id), cfg)
    assert ctx.monthly_gross == _money("562,64")  # 5,41 € × 104 h
    assert ctx.old_age_floor == _money("601,00")  # 50 × 12,02 € (D382-35)
    rows = {c.label: (c.part, c.rate, c.base, c.amount) for c in ctx.contributions}
    assert rows["Assurance maladie, maternité, invalidité et décès"] == (
        "patronale",
        f"4,2{NBSP}%",
        _money("562,64"),
        _money("23,63"),
    )
    assert rows["Assurance vieillesse plafonnée, part salariale"] == (
        "salariale",
        f"6,9{NBSP}%",
        _money("601,00"),
        _money("41,47"),
    )
    assert all("Code de la sécurité sociale, article" in c.source for c in ctx.contributions)
    assert not any("DÉMONSTRATION" in c.source or "guide" in c.source.lower() for c in ctx.contributions)
    assert ctx.employee_contributions == _money("43,87")  # 41,47 + 2,40
    assert ctx.monthly_net == _money("518,77")
    assert ctx.contributions_source.startswith("Code de la sécurité sociale, articles L382-38")
    assert ctx.demonstration_banner == ""


def test_without_the_atmp_rate_of_the_establishment_the_cep_is_refused_naming_it(
    session: Session, cfg: ProcessConfig, new_project, new_operateur
) -> None:
    project = new_project(session)
    session.exec(delete(AmountRecord))  # type: ignore[call-overload]
    with pytest.raises(DocumentDataError) as refused:
        build_cep_context(session, project, new_operateur(session, project), cfg)
    assert (
        "Accidents du travail et maladies professionnelles (taux notifié à l'établissement) » pour "
        in str(refused.value)
    )
    assert "siae montants ajouter taux_atmp VALEUR --du AAAA-MM-JJ --etablissement CODE" in str(refused.value)


def test_a_2027_cep_takes_the_smic_in_force_and_says_it_is_revalued(
    session: Session, project_id: int, cfg: ProcessConfig, new_operateur
) -> None:
    """No 2027 decree is known: the 2026 SMIC is in force until replaced, and the pay follows the next one."""
    op = new_operateur(session, project_id, contract_start=date(2027, 2, 1))
    ctx = build_cep_context(session, project_id, op, cfg)
    assert (ctx.hourly_rate, ctx.pay.smic) == (_money("5,41"), _money("12,02"))
    assert "revalorisée de plein droit à chaque relèvement du SMIC" in ctx.pay.revaluation


def test_hours_outside_the_workshop_or_the_code_s_bounds_are_refused(
    session: Session, project_id: int, cfg: ProcessConfig, new_operateur
) -> None:
    late = new_operateur(
        session,
        project_id,
        schedule={
            "jours": ["lundi", "mardi", "mercredi"],
            "debut": "08:00",
            "fin": "16:00",
            "pause_minutes": 0,
        },
    )
    with pytest.raises(DocumentDataError) as refused:
        build_cep_context(session, project_id, late, cfg)
    assert "dépasse les horaires de l'atelier (ouvert du lundi au vendredi, de 8 h 00 à 15 h 00)" in str(
        refused.value
    )
    short = new_operateur(
        session,
        project_id,
        weekly_hours=Decimal(6),
        schedule={"jours": ["lundi", "mardi"], "debut": "08:00", "fin": "11:00", "pause_minutes": 0},
    )
    with pytest.raises(DocumentDataError, match="6 h par semaine sont en dessous du minimum de 10 heures"):
        build_cep_context(session, project_id, short, cfg)
    saturday = new_operateur(
        session,
        project_id,
        schedule={
            "jours": ["mardi", "samedi", "lundi", "jeudi"],
            "debut": "08:00",
            "fin": "14:30",
            "pause_minutes": 30,
        },
    )
    with pytest.raises(DocumentDataError, match=r"le travail samedi, jour\(s\) où l'atelier est fermé"):
        build_cep_context(session, project_id, saturday, cfg)


def test_classement_affectation_and_a_remand_prisoner_s_joint_agreement_are_printed(
    session: Session, project_id: int, cfg: ProcessConfig, new_operateur
) -> None:
    op = new_operateur(session, project_id)
    ctx = build_cep_context(session, project_id, op, cfg)
    assert ctx.classification.startswith("L'opérateur a été classé au travail le 1er février 2026 et affecté")
    assert "du 15 février 2026" in ctx.classification and ctx.joint_agreements == []
    row = session.get(Operateur, op)
    assert row is not None
    row.legal_status, row.joint_agreement = LegalStatus.REMAND, True
    session.add(row)
    session.flush()
    joint = build_cep_context(session, project_id, op, cfg).joint_agreements
    assert len(joint) == 1 and joint[0].startswith(
        "L'opérateur, prévenu, a été admis au travail dans la SIAE"
    )
    undated = new_operateur(session, project_id, classified_on=None)
    with pytest.raises(DocumentDataError, match="la date de classement au travail de l'opérateur"):
        build_cep_context(session, project_id, undated, cfg)


def test_trial_period_is_written_for_an_open_ended_contract(
    session: Session, project_id: int, cfg: ProcessConfig, new_operateur
) -> None:
    """A planned duration of 6 months no longer caps it at 14 days: the SIAE CEP is open-ended (L412-16)."""
    ctx = build_cep_context(
        session, project_id, new_operateur(session, project_id, planned_duration_months=6), cfg
    )
    assert ctx.trial_sentence == (
        "Le contrat comporte une période d'essai de 31 jours calendaires, qui s'achève le 31 mars 2026."
    )
    assert "durée indéterminée" in ctx.trial_rule and "semaine" not in ctx.trial_rule
    assert "durée indéterminée" in ctx.trial_clause and "semaine" not in ctx.trial_clause
    none = build_cep_context(session, project_id, new_operateur(session, project_id, trial_days=0), cfg)
    assert none.trial_sentence == "Le contrat ne comporte pas de période d'essai."


def test_suspension_cases_and_each_party_ending_the_contract(
    session: Session, project_id: int, cfg: ProcessConfig, new_operateur
) -> None:
    ctx = build_cep_context(session, project_id, new_operateur(session, project_id), cfg)
    cases = {c.source: c.text for c in ctx.suspension_cases}
    assert "baisse temporaire de l'activité" in cases["Code pénitentiaire, articles L412-15, 2°, et R412-33"]
    assert any("disciplinaire" in c.text for c in ctx.suspension_cases)
    assert [t.party for t in ctx.terminations] == [
        "Par accord des parties ou à l'initiative de l'opérateur",
        "À l'initiative de la SIAE",
        "Par décision du chef d'établissement",
        "De plein droit",
    ]
    siae = ctx.terminations[1]
    assert "insuffisance professionnelle" in siae.terms and "motif économique" in siae.terms
    assert "R412-38" in siae.source and "R412-40" in siae.source
    printed = [c.source for c in ctx.suspension_cases] + [t.source for t in ctx.terminations]
    assert not any("guide" in source.lower() for source in printed)
