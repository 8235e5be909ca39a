"""Sample data of the demo, the flow tests and the benchmark: a pilot site of the guide.

CP de Grenoble-Varces (Isère, DISP de Lyon, région Auvergne-Rhône-Alpes) with the SIAE La Remise (ACI,
tri de textiles). People and addresses are fictitious. Opérateurs get an identity in the database only:
the flow tests search Prefect's API output for these very names to prove they never leave it.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session

from implantation.calendar import add_months
from implantation.config.schema import ProcessConfig
from implantation.db.models import (
    Establishment,
    ImplantationProject,
    Operateur,
    OperateurIdentity,
    Person,
    Siae,
)
from implantation.enums import EstablishmentType, LegalStatus, OperateurStatus, Role, SiaeKind
from implantation.services.projects import record_copil, record_deliverable

DOMAIN = "exemple.gouv.test"

# Detainees: fictitious, distinctive, searched for in every Prefect output by the tests.
OPERATEUR_IDENTITIES = (
    ("Zébulon", "Quintavalle", "VARCES-2026-00417", date(1991, 3, 14)),
    ("Anatole", "Brisefer", "VARCES-2026-00522", date(1987, 11, 2)),
)


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
        premises="Atelier de 300 m² au rez-de-chaussée du quartier hommes, deux bureaux d'entretien",
        head_name="Hélène Garnier",
        security_rules="Outils inventoriés chaque soir ; fouille des ballots entrants ; pas d'objet coupant en cellule",
    )
    session.add(establishment)
    siret_base = "81234567800012" if not suffix else None
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
        _person(session, f"cheffe.projet.disp{suffix}", "Claire Duval", Role.DISP, "LYON", "DISP de Lyon"),
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
        _person(session, f"ddets38{suffix}", "Sarah Meunier", Role.DDETS, "38", "DDETS de l'Isère"),
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


def record_stage_work(session: Session, cfg: ProcessConfig, project_id: int, stage: int, day: date) -> None:
    """What the pilots do during a stage: its COPIL(s) and its deliverables, as the guide lists them."""
    spec = cfg.stage(stage)
    for n in range(spec.copil.min if spec.copil else 0):
        record_copil(
            session,
            cfg,
            project_id,
            stage,
            day,
            attendees="DISP, CP de Grenoble-Varces, SPIP de l'Isère, DREETS",
            decisions=f"COPIL {n + 1} de l'étape {stage} : avancement validé",
        )
    for deliverable in spec.livrables:
        record_deliverable(
            session, cfg, project_id, stage, deliverable.id, day, reference=f"{deliverable.id}.pdf"
        )


def _identities(count: int) -> list[tuple[str, str, str, date]]:
    """The two searchable identities first, then numbered ones (the document benchmark needs 12)."""
    extra = [
        (f"Prénom{n}", f"Opérateur{n}", f"VARCES-2026-{n:05d}", date(1990, 1, 1))
        for n in range(len(OPERATEUR_IDENTITIES), count)
    ]
    return [*OPERATEUR_IDENTITIES[:count], *extra]


def complete_for_documents(
    session: Session, project_id: int, launch_on: date, operateurs: int = len(OPERATEUR_IDENTITIES)
) -> list[str]:
    """Data the SIAE supplies before stage 5 (DUI, convention, contract) and the opérateurs « affectés »."""
    project = session.get(ImplantationProject, project_id)
    assert project is not None
    project.insertion_posts_etp = Decimal("8")
    project.insertion_posts_count = 10
    project.workshops_count = 1
    project.staff_eti_etp = Decimal("1.5")
    project.staff_cip_etp = Decimal("0.5")
    project.accompaniment_plan = "Entretien mensuel avec la CIP ; préparation à la sortie avec le SPIP"
    project.insertion_targets = (
        "60 % de sorties dynamiques ; attestation de compétences pour chaque opérateur"
    )
    project.partners = "France Travail Isère, Mission locale de Grenoble, SPIP de l'Isère"
    project.budget_lines = [
        {"nature": "charge", "libelle": "Salaires de l'encadrement", "montant": "95000"},
        {"nature": "charge", "libelle": "Équipement de l'atelier de tri", "montant": "18000"},
        {"nature": "ressource", "libelle": "Vente de textiles triés", "montant": "40000"},
    ]
    project.launch_date = launch_on  # planned; the stage-6 gate confirms it
    project.convention_start = launch_on
    project.convention_end = add_months(launch_on, 36) - timedelta(days=1)
    project.implantation_start = launch_on
    project.implantation_end = add_months(launch_on, 84) - timedelta(days=1)
    project.work_schedule = "Du lundi au vendredi, de 8 h 00 à 14 h 00 (journée continue)"
    project.reimbursement_terms = "Facture mensuelle de l'établissement, payable à trente jours"
    session.add(project)
    ids = []
    for first, last, ecrou, born in _identities(operateurs):
        op = Operateur(
            project_id=project_id,
            status=OperateurStatus.ASSIGNED,
            legal_status=LegalStatus.CONVICTED,
            quantum_months=20,
            assigned_on=launch_on,
            contract_start=launch_on,
            planned_duration_months=12,
            weekly_hours=Decimal("24"),
            # 4 days of 6 h worked (8 h-14 h 30 with a 30-minute break): the 24 h of the contract.
            schedule={
                "jours": ["lundi", "mardi", "mercredi", "jeudi"],
                "debut": "08:00",
                "fin": "14:30",
                "pause_minutes": 30,
            },
            post_title="Agent de tri de textiles",
            rome_code="H3302",
            missions="Tri, pesée et conditionnement des textiles collectés",
            particular_risks="Port de charges ; poussières textiles",
        )
        session.add(op)
        session.flush()
        session.add(
            OperateurIdentity(
                operateur_id=op.id, last_name=last, first_name=first, ecrou_number=ecrou, birth_date=born
            )
        )
        ids.append(op.id)
    session.flush()
    return ids
