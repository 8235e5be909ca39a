"""Who may work for the SIAE under a CEP (guide D.1); every reason is returned, not just the first."""

from dataclasses import dataclass

from implantation.config.schema import EligibilityFile
from implantation.enums import LegalStatus, SiaeKind


@dataclass(frozen=True)
class Candidate:
    legal_status: LegalStatus
    quantum_months: int
    work_authorised: bool
    volunteer: bool
    joint_agreement: bool


def eligibility_problems(candidate: Candidate, rules: EligibilityFile) -> list[str]:
    problems: list[str] = []
    agreement = " et ".join(role.label for role in rules.accord_conjoint)
    if candidate.quantum_months < rules.quantum_min_mois:
        problems.append(
            f"quantum de peine de {candidate.quantum_months} mois, inférieur au minimum de {rules.quantum_min_mois} mois"
        )
    if candidate.quantum_months > rules.quantum_max_mois and not candidate.joint_agreement:
        problems.append(
            f"quantum de peine de {candidate.quantum_months} mois, supérieur à {rules.quantum_max_mois} mois "
            f"sans accord conjoint ({agreement})"
        )
    if candidate.legal_status == LegalStatus.REMAND and not candidate.joint_agreement:
        problems.append(f"personne prévenue sans accord conjoint ({agreement})")
    if not candidate.work_authorised:
        problems.append("ni de nationalité française ni autorisée à travailler en France")
    if not candidate.volunteer:
        problems.append("la personne n'est pas volontaire")
    return problems


def implantation_kind_problem(kind: SiaeKind, rules: EligibilityFile) -> str | None:
    """Only some SIAE kinds may be implanted in prison (ACI and EI in the guide)."""
    if kind in rules.types_siae_implantables:
        return None
    allowed = " ou ".join(k.value for k in rules.types_siae_implantables)
    return f"une SIAE de type {kind.value} ({kind.label}) ne peut pas s'implanter en détention : seuls {allowed} le peuvent"
