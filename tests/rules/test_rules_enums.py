"""Persisted enum values never change; labels are French; users may type a value, a label or a name."""

import pytest

from implantation.enums import (
    Decision,
    DocumentKind,
    DocumentStatus,
    EstablishmentType,
    LabelledEnum,
    LegalStatus,
    OperateurStatus,
    PartyAction,
    ProjectStatus,
    Role,
    SiaeKind,
    StageStatus,
)
from implantation.transitions import ProjectTransition, StageTransition

# Stored in the database: a change here needs a data migration, not just a code edit.
STABLE_VALUES: dict[type[LabelledEnum], list[str]] = {
    Role: [
        "disp", "dreets", "ddets", "prefet", "ep", "spip", "siae", "atigip", "dgefp", "ule", "psy_pep",
        "france_travail", "mission_locale", "reseau_iae", "region", "jap", "operateur",
    ],
    EstablishmentType: ["MA", "CD", "MC", "CP", "CSL", "QSL", "EPM", "SAS"],
    SiaeKind: ["ACI", "EI", "ETTI", "AI", "EITI"],
    ProjectStatus: ["en_cours", "lance", "abandonne"],
    StageStatus: ["a_venir", "en_cours", "validee", "suspendue", "annulee"],
    Decision: ["approuver", "rejeter", "renvoyer", "suspendre", "reprendre"],
    LegalStatus: ["condamne", "prevenu"],
    OperateurStatus: ["identifie", "classe", "affecte", "sorti"],
    DocumentKind: ["dui", "convention", "contrat_implantation", "cep", "annexe_cep"],
    DocumentStatus: ["brouillon", "signature_partielle", "signe"],
    PartyAction: ["complete", "signe", "destinataire"],
    StageTransition: ["ouvrir", "approuver", "rejeter", "renvoyer", "rouvrir", "annuler", "suspendre", "reprendre"],
    ProjectTransition: ["creer", "lancer", "abandonner"],
}  # fmt: skip


@pytest.mark.parametrize("enum", list(STABLE_VALUES), ids=lambda e: e.__name__)
def test_values_are_stable(enum: type[LabelledEnum]) -> None:
    assert [member.value for member in enum] == STABLE_VALUES[enum]


@pytest.mark.parametrize("enum", list(STABLE_VALUES), ids=lambda e: e.__name__)
def test_members_are_strings_equal_to_their_value(enum: type[LabelledEnum]) -> None:
    for member in enum:
        assert isinstance(member, str)
        assert member == member.value
        assert str(member) == member.value
        assert enum(member.value) is member


@pytest.mark.parametrize("enum", list(STABLE_VALUES), ids=lambda e: e.__name__)
def test_labels_are_distinct_and_not_the_value(enum: type[LabelledEnum]) -> None:
    labels = [member.label for member in enum]
    assert len(set(labels)) == len(labels)
    assert all(label.strip() == label and label for label in labels)


@pytest.mark.parametrize(
    ("member", "label"),
    [
        (Role.EP, "Établissement pénitentiaire (chef d'établissement)"),
        (Role.JAP, "Juge de l'application des peines (JAP)"),
        (EstablishmentType.MA, "Maison d'arrêt"),
        (SiaeKind.ACI, "Atelier et chantier d'insertion"),
        (ProjectStatus.ABANDONED, "Abandonné"),
        (StageStatus.PENDING, "À venir"),
        (StageStatus.VALIDATED, "Validée"),
        (Decision.REJECT, "Rejeter (motif obligatoire)"),
        (LegalStatus.REMAND, "Prévenu"),
        (OperateurStatus.CLASSIFIED, "Classé au travail (CPU)"),
        (DocumentKind.CEP, "Contrat d'emploi pénitentiaire (CEP)"),
        (DocumentStatus.PARTIALLY_SIGNED, "Signature partielle"),
        (PartyAction.RECEIVES, "Destinataire"),
    ],
)
def test_french_labels(member: LabelledEnum, label: str) -> None:
    assert member.label == label


@pytest.mark.parametrize(
    ("enum", "raw", "expected"),
    [
        (Role, "spip", Role.SPIP),
        (Role, "  SPIP ", Role.SPIP),
        (Role, "psy_pep", Role.PSY_PEP),
        (Role, "Psychologue PEP", Role.PSY_PEP),
        (Role, "psychologue pep", Role.PSY_PEP),
        (Role, "France_Travail", Role.FRANCE_TRAVAIL),
        (Role, "Juge de l'application des peines (JAP)", Role.JAP),
        (SiaeKind, "aci", SiaeKind.ACI),
        (SiaeKind, "Entreprise d'insertion", SiaeKind.EI),
        (LegalStatus, "prevenu", LegalStatus.REMAND),
        (LegalStatus, "Prévenu", LegalStatus.REMAND),
        (LegalStatus, "REMAND", LegalStatus.REMAND),
        (ProjectStatus, "IN_PROGRESS", ProjectStatus.IN_PROGRESS),
        (StageStatus, "à venir", StageStatus.PENDING),
        (DocumentKind, "contrat_implantation", DocumentKind.IMPLANTATION_CONTRACT),
        (DocumentKind, "implantation_contract", DocumentKind.IMPLANTATION_CONTRACT),
    ],
)
def test_from_user_accepts_value_label_and_name(
    enum: type[LabelledEnum], raw: str, expected: LabelledEnum
) -> None:
    assert enum.from_user(raw) is expected


@pytest.mark.parametrize(
    ("enum", "raw"), [(Role, "juge"), (Role, ""), (SiaeKind, "ESAT"), (LegalStatus, "prévenue")]
)
def test_from_user_refuses_unknown_text(enum: type[LabelledEnum], raw: str) -> None:
    with pytest.raises(ValueError):
        enum.from_user(raw)


def test_from_user_stays_in_its_enum() -> None:
    # "en_cours" is a value of both StageStatus and ProjectStatus; each enum returns its own member.
    assert StageStatus.from_user("en_cours") is StageStatus.OPEN
    assert ProjectStatus.from_user("en_cours") is ProjectStatus.IN_PROGRESS
