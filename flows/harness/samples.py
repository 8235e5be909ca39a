"""Referential of the demo, the flow tests and the benchmark: a pilot site of the guide, nothing more.

CP de Grenoble-Varces (Isère, DISP de Lyon, région Auvergne-Rhône-Alpes) with the SIAE La Remise (ACI,
tri de textiles). People, addresses and the SIRET are fictitious (the SIRET is the one of
``config/echantillons/siae.csv``, which ``config/echantillons/dossier.toml`` retains). The facts of the
project itself (premises, posts, budget…) and the opérateurs are not seeded here: the demo enters them
the way a person does, with ``siae projet completer`` and ``siae operateurs importer``.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from implantation.db.models import Establishment, Person, Siae
from implantation.enums import EstablishmentType, Role, SiaeKind

DOMAIN = "exemple.gouv.test"


@dataclass
class SampleIds:
    establishment_id: int
    lead_id: int
    siae_id: int
    other_siae_id: int
    emails: dict[str, str] = field(default_factory=dict)
    person_ids: dict[str, int] = field(default_factory=dict)


def _person(
    session: Session, key: str, name: str, role: Role, territory: str, org: str, **extra: object
) -> Person:
    person = Person(
        full_name=name,
        email=f"{key}@{DOMAIN}",
        organisation=org,
        role=role,
        territory=territory,
        **extra,  # type: ignore[arg-type]
    )
    session.add(person)
    session.flush()
    return person


def seed(session: Session, suffix: str = "") -> SampleIds:
    """Reference rows: the establishment, two SIAE (one not implantable) and the people of each role.

    ``suffix`` lets the benchmark create several establishments (codes and SIRET stay unique).
    """
    establishment = Establishment(
        code=f"CP-GRENOBLE-VARCES{suffix}",
        name="Centre pénitentiaire de Grenoble-Varces",
        type=EstablishmentType.CP,
        departement="38",
        city="Varces-Allières-et-Risset",
        address="Avenue de la République, 38760 Varces-Allières-et-Risset",
        capacity=270,
    )
    session.add(establishment)
    siret_base = "00000001800010" if not suffix else None
    remise = Siae(
        siret=siret_base or _siret(suffix, 1),
        name="La Remise",
        kind=SiaeKind.ACI,
        address="4 rue des Ateliers",
        postal_code="38000",
        city="Grenoble",
        network="Chantier école",
        naf_code="3832Z",
        idcc="3016",
        legal_form="Association loi 1901",
        president="Bernard Aubry",
        director="Nadia Ferrand",
        email=f"contact.laremise@{DOMAIN}",
        legal_representative="Bernard Aubry, président",
    )
    interim = Siae(
        siret="79812345600019" if not suffix else _siret(suffix, 2),
        name="Alpes Intérim Insertion",
        kind=SiaeKind.ETTI,
        address="12 cours Berriat",
        postal_code="38000",
        city="Grenoble",
        email=f"contact.alpes-interim@{DOMAIN}",
    )
    session.add_all([remise, interim])
    session.flush()
    ids = SampleIds(establishment.id, 0, remise.id, interim.id)  # type: ignore[arg-type]
    dreets_head = _person(
        session, f"directeur.dreets{suffix}", "Paul Lemaire", Role.DREETS, "84", "DREETS Auvergne-Rhône-Alpes"
    )
    people = [
        _person(
            session,
            f"cheffe.projet.disp{suffix}",
            "Claire Duval",
            Role.DISP,
            "LYON",
            "DISP de Lyon",
            office="cheffe du département des politiques d'insertion, DISP de Lyon",
            signatory=True,
            delegation_act="décision du directeur interrégional n° 2026-DI-003 portant délégation de signature (fictive)",
            delegation_date=date(2026, 1, 2),
        ),
        _person(
            session,
            f"referent.dreets{suffix}",
            "Julien Roche",
            Role.DREETS,
            "84",
            "DREETS Auvergne-Rhône-Alpes",
            manager_id=dreets_head.id,
        ),
        dreets_head,
        _person(
            session,
            f"ddets38{suffix}",
            "Sarah Meunier",
            Role.DDETS,
            "38",
            "DDETS de l'Isère",
            office="directrice départementale de l'emploi, du travail et des solidarités de l'Isère",
            signatory=True,
            delegation_act="arrêté préfectoral n° 38-2026-01-05-00001 portant délégation de signature (fictif)",
            delegation_date=date(2026, 1, 5),
        ),
        _person(
            session, f"direction.cp-varces{suffix}", "Hélène Garnier", Role.EP, "38", "CP de Grenoble-Varces"
        ),
        _person(session, f"spip38{suffix}", "Marc Giraud", Role.SPIP, "38", "SPIP de l'Isère"),
        _person(session, f"ule.varces{suffix}", "Inès Caron", Role.ULE, "38", "ULE du CP de Grenoble-Varces"),
        _person(
            session, f"psy-pep.varces{suffix}", "Louis Perrin", Role.PSY_PEP, "38", "CP de Grenoble-Varces"
        ),
        _person(
            session,
            f"france-travail38{suffix}",
            "Amélie Noël",
            Role.FRANCE_TRAVAIL,
            "38",
            "France Travail Isère",
        ),
        _person(
            session,
            f"mission-locale{suffix}",
            "Hugo Blanc",
            Role.MISSION_LOCALE,
            "38",
            "Mission locale de Grenoble",
        ),
        _person(
            session,
            f"direction.laremise{suffix}",
            "Nadia Ferrand",
            Role.SIAE,
            "38",
            "La Remise",
            siae_id=remise.id,
        ),
        _person(
            session, f"disp.marseille{suffix}", "Yves Fabre", Role.DISP, "MARSEILLE", "DISP de Marseille"
        ),
        # Signs the convention for the State (préfet is in no stage: he receives no mail of the process).
        _person(
            session,
            f"prefet38{suffix}",
            "Laurent Prévost",
            Role.PREFET,
            "38",
            "Préfecture de l'Isère",
            office="préfet de l'Isère",
            signatory=True,
        ),
    ]
    for person in people:
        key = person.email.split("@")[0].removesuffix(suffix)
        ids.emails[key] = person.email
        ids.person_ids[key] = person.id  # type: ignore[assignment]
    ids.lead_id = ids.person_ids["cheffe.projet.disp"]
    return ids


def _siret(suffix: str, n: int) -> str:
    """A Luhn-valid SIRET derived from the suffix (benchmark data only)."""
    from stdnum.fr import siret

    digits = "".join(c for c in suffix if c.isdigit()).zfill(4)[-4:]
    for last in range(100):
        candidate = f"7{n}{digits}123{last:02d}0001"[:13]
        for check in range(10):
            if siret.is_valid(candidate + str(check)):
                return candidate + str(check)
    raise ValueError("aucun SIRET valide")
