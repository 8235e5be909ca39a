"""Identifier checks delegated to python-stdnum, which knows the La Poste SIRET exception."""

from stdnum import exceptions as stdnum_errors
from stdnum.fr import siret as stdnum_siret


def normalise_siret(raw: str) -> str:
    """Return the 14-digit SIRET or raise ValueError with a French message."""
    try:
        return str(stdnum_siret.validate(raw))
    except stdnum_errors.InvalidLength:
        raise ValueError("SIRET invalide : il doit compter 14 chiffres") from None
    except stdnum_errors.InvalidFormat:
        raise ValueError("SIRET invalide : seuls des chiffres sont admis") from None
    except stdnum_errors.InvalidChecksum:
        raise ValueError("SIRET invalide : la clé de contrôle est fausse") from None
    except stdnum_errors.ValidationError:
        raise ValueError("SIRET invalide") from None
