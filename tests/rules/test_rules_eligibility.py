"""Who may work as an opérateur (guide D.1) and which SIAE kinds may be implanted."""

from dataclasses import replace

import pytest

from implantation.config.schema import EligibilityFile, ProcessConfig
from implantation.eligibility import Candidate, eligibility_problems, implantation_kind_problem
from implantation.enums import LegalStatus, Role, SiaeKind

AGREEMENT = "Établissement pénitentiaire (chef d'établissement) et SPIP et SIAE"
ELIGIBLE = Candidate(
    legal_status=LegalStatus.CONVICTED,
    quantum_months=12,
    work_authorised=True,
    volunteer=True,
    joint_agreement=False,
)


def test_the_config_matches_the_guide(cfg: ProcessConfig) -> None:
    rules = cfg.eligibility
    assert (rules.quantum_min_mois, rules.quantum_max_mois) == (4, 36)
    assert rules.accord_conjoint == [Role.EP, Role.SPIP, Role.SIAE]
    assert rules.types_siae_implantables == [SiaeKind.ACI, SiaeKind.EI]


def test_an_ordinary_convicted_volunteer_is_eligible(cfg: ProcessConfig) -> None:
    assert eligibility_problems(ELIGIBLE, cfg.eligibility) == []


def test_every_reason_is_given_at_once(cfg: ProcessConfig) -> None:
    candidate = Candidate(
        legal_status=LegalStatus.REMAND,
        quantum_months=40,
        work_authorised=False,
        volunteer=False,
        joint_agreement=False,
    )
    assert eligibility_problems(candidate, cfg.eligibility) == [
        f"quantum de peine de 40 mois, supérieur à 36 mois sans accord conjoint ({AGREEMENT})",
        f"personne prévenue sans accord conjoint ({AGREEMENT})",
        "ni de nationalité française ni autorisée à travailler en France",
        "la personne n'est pas volontaire",
    ]


@pytest.mark.parametrize("months", [4, 5, 35, 36])
def test_quantum_bounds_are_inclusive(cfg: ProcessConfig, months: int) -> None:
    assert eligibility_problems(replace(ELIGIBLE, quantum_months=months), cfg.eligibility) == []


def test_quantum_below_four_months(cfg: ProcessConfig) -> None:
    assert eligibility_problems(replace(ELIGIBLE, quantum_months=3), cfg.eligibility) == [
        "quantum de peine de 3 mois, inférieur au minimum de 4 mois"
    ]


def test_quantum_below_minimum_is_not_cured_by_agreement(cfg: ProcessConfig) -> None:
    candidate = replace(ELIGIBLE, quantum_months=3, joint_agreement=True)
    assert eligibility_problems(candidate, cfg.eligibility) == [
        "quantum de peine de 3 mois, inférieur au minimum de 4 mois"
    ]


def test_quantum_above_36_months_needs_the_joint_agreement(cfg: ProcessConfig) -> None:
    assert eligibility_problems(replace(ELIGIBLE, quantum_months=37), cfg.eligibility) == [
        f"quantum de peine de 37 mois, supérieur à 36 mois sans accord conjoint ({AGREEMENT})"
    ]
    assert (
        eligibility_problems(replace(ELIGIBLE, quantum_months=37, joint_agreement=True), cfg.eligibility)
        == []
    )


def test_remand_with_the_joint_agreement_is_eligible(cfg: ProcessConfig) -> None:
    remand = replace(ELIGIBLE, legal_status=LegalStatus.REMAND)
    assert eligibility_problems(remand, cfg.eligibility) == [
        f"personne prévenue sans accord conjoint ({AGREEMENT})"
    ]
    assert eligibility_problems(replace(remand, joint_agreement=True), cfg.eligibility) == []


def test_bounds_come_from_the_config(cfg: ProcessConfig) -> None:
    rules = EligibilityFile.model_validate(
        cfg.eligibility.model_dump() | {"quantum_min_mois": 6, "accord_conjoint": ["ep"]}
    )
    assert eligibility_problems(replace(ELIGIBLE, quantum_months=5), rules) == [
        "quantum de peine de 5 mois, inférieur au minimum de 6 mois"
    ]
    assert eligibility_problems(replace(ELIGIBLE, legal_status=LegalStatus.REMAND), rules) == [
        "personne prévenue sans accord conjoint (Établissement pénitentiaire (chef d'établissement))"
    ]


@pytest.mark.parametrize("kind", [SiaeKind.ACI, SiaeKind.EI])
def test_aci_and_ei_may_be_implanted(cfg: ProcessConfig, kind: SiaeKind) -> None:
    assert implantation_kind_problem(kind, cfg.eligibility) is None


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        (SiaeKind.ETTI, "Entreprise de travail temporaire d'insertion"),
        (SiaeKind.AI, "Association intermédiaire"),
        (SiaeKind.EITI, "Entreprise d'insertion par le travail indépendant"),
    ],
)
def test_other_kinds_are_refused_with_the_reason(cfg: ProcessConfig, kind: SiaeKind, label: str) -> None:
    assert implantation_kind_problem(kind, cfg.eligibility) == (
        f"une SIAE de type {kind.value} ({label}) ne peut pas s'implanter en détention : seuls ACI ou EI le peuvent"
    )
