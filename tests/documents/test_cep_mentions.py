"""The CEP's R412-25 mentions carry the opérateur's own computed values (demonstration rates for contributions)."""

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session

from implantation.config.loader import load_process_config
from implantation.config.schema import ProcessConfig
from implantation.documents.builders import DocumentDataError, build_cep_context
from implantation.settings import PROJECT_ROOT

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
    assert (ctx.schedule.daily_hours, ctx.schedule.break_minutes) == ("6 h", "30")
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
        "à 14 h 00, pause de 0 minutes : 30 h par semaine)"
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


def test_contributions_have_rates_and_a_monthly_amount_from_his_pay(
    session: Session, project_id: int, cfg: ProcessConfig, new_operateur
) -> None:
    ctx = build_cep_context(session, project_id, new_operateur(session, project_id), cfg)
    assert ctx.monthly_gross == _money("562,64")  # 5,41 € × 104 h
    assert [(c.part, c.rate, c.amount) for c in ctx.contributions] == [
        ("salariale", f"10{NBSP}%", _money("56,26")),
        ("patronale", f"5{NBSP}%", _money("28,13")),
    ]
    assert ctx.contributions_total == _money("84,39")
    assert ctx.monthly_net == _money("506,38")
    assert all(c.source.startswith("DÉMONSTRATION") for c in ctx.contributions)


def test_without_contribution_rates_the_cep_is_refused(
    session: Session, project_id: int, cfg: ProcessConfig, new_operateur
) -> None:
    shipped = load_process_config(PROJECT_ROOT / "config")
    money = shipped.money.model_copy(update={"aide_au_poste_socle": cfg.money.aide_au_poste_socle})
    no_rates = shipped.model_copy(update={"money": money})
    with pytest.raises(DocumentDataError) as refused:
        build_cep_context(session, project_id, new_operateur(session, project_id), no_rates)
    assert "config/montants.toml (clé « cotisations_operateur »)" in str(refused.value)


def test_a_2027_cep_with_no_2027_smic_is_refused(session: Session, project_id: int, new_operateur) -> None:
    shipped = load_process_config(PROJECT_ROOT / "config")
    op = new_operateur(session, project_id, contract_start=date(2027, 2, 1))
    with pytest.raises(DocumentDataError) as refused:
        build_cep_context(session, project_id, op, shipped)
    assert (
        "aucune valeur « SMIC horaire brut » en vigueur au 01/02/2027 : ajoutez-la, avec sa source, dans "
        "config/montants.toml (clé « smic_horaire_brut »)"
    ) in str(refused.value)


def test_trial_period_is_written_for_an_open_ended_contract(
    session: Session, project_id: int, cfg: ProcessConfig, new_operateur
) -> None:
    """A planned duration of 6 months no longer caps it at 14 days: the SIAE CEP is open-ended (L412-16)."""
    ctx = build_cep_context(
        session, project_id, new_operateur(session, project_id, planned_duration_months=6), cfg
    )
    assert (ctx.trial_days, ctx.trial_end) == ("31", "31 mars 2026")
    assert "durée indéterminée" in ctx.trial_rule and "semaine" not in ctx.trial_rule
    assert "durée indéterminée" in ctx.trial_clause and "semaine" not in ctx.trial_clause


def test_suspension_cases_and_each_party_ending_the_contract(
    session: Session, project_id: int, cfg: ProcessConfig, new_operateur
) -> None:
    ctx = build_cep_context(session, project_id, new_operateur(session, project_id), cfg)
    assert len(ctx.suspension_cases) == 3 and any("disciplinaire" in c for c in ctx.suspension_cases)
    assert [t.party for t in ctx.terminations] == [
        "L'opérateur",
        "La SIAE",
        "Le chef d'établissement",
        "De plein droit",
    ]
    assert ctx.terminations[-1].source == "Code pénitentiaire, article L412-16"
