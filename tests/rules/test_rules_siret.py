"""SIRET checks, including La Poste's establishments, which do not follow the Luhn key."""

import pytest
from stdnum import luhn

from implantation.siae_rules import normalise_siret


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("73282932000074", "73282932000074"),
        ("732 829 320 00074", "73282932000074"),
        (" 73282932000074 ", "73282932000074"),
        ("732.829.320.00074", "73282932000074"),
    ],
)
def test_valid_siret_is_normalised(raw: str, expected: str) -> None:
    assert normalise_siret(raw) == expected


def test_la_poste_head_office() -> None:
    assert normalise_siret("35600000000048") == "35600000000048"


def test_la_poste_establishment_is_valid_although_luhn_fails() -> None:
    # La Poste's establishments (SIREN 356000000) use "sum of digits multiple of 5" instead of Luhn.
    assert not luhn.is_valid("35600000049837")
    assert normalise_siret("35600000049837") == "35600000049837"


def test_la_poste_establishment_with_a_wrong_key() -> None:
    with pytest.raises(ValueError, match=r"^SIRET invalide : la clé de contrôle est fausse$"):
        normalise_siret("35600000049838")


@pytest.mark.parametrize("raw", ["73282932000075", "12345678901234"])
def test_wrong_checksum(raw: str) -> None:
    with pytest.raises(ValueError, match=r"^SIRET invalide : la clé de contrôle est fausse$"):
        normalise_siret(raw)


@pytest.mark.parametrize("raw", ["7328293200007", "732829320000745", "732829320"])
def test_wrong_length(raw: str) -> None:
    with pytest.raises(ValueError, match=r"^SIRET invalide : il doit compter 14 chiffres$"):
        normalise_siret(raw)


@pytest.mark.parametrize("raw", ["7328293200007A", "SIRET73282932000074", "7328293200007-4x"])
def test_non_digits(raw: str) -> None:
    with pytest.raises(ValueError, match=r"^SIRET invalide : seuls des chiffres sont admis$"):
        normalise_siret(raw)
