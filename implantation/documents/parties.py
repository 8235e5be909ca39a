"""Who the parties are, as printed, and who may sign for each: people by name, office and delegation act.

Names come from the database (the referential's signatories, the SIAE's legal representative, the head of
the establishment entered with the dossier, the opérateur's identity) and territoires.toml. For each
signature of a document there is one person the block names; the signature register accepts that person,
or another one only when a delegation (act and date) is recorded for them.
"""

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from sqlmodel import Session, col, select

from implantation.config.schema import Departement, DocumentsFile, DocumentSpec, ProcessConfig
from implantation.dates import fr_date
from implantation.db.models import Establishment, Person, Siae
from implantation.documents.contexts import SignatureBlock
from implantation.enums import DocumentKind, Role, SiaeKind


@dataclass(frozen=True)
class Signatory:
    name: str
    office: str
    act: str | None = None  # the delegation: « arrêté préfectoral n° … »
    act_date: date | None = None
    role: Role | None = None  # the role the person holds (a DDETS director signing for the préfet)
    organisation: str = ""  # as a signing certificate names it (its « O »)

    @property
    def delegation(self) -> str:
        if not self.act:
            return ""
        return f"{self.act} du {fr_date(self.act_date)}" if self.act_date else self.act

    @property
    def printed(self) -> str:
        text = f"{self.name}, {self.office}" if self.office else self.name
        return f"{text}, par délégation ({self.delegation})" if self.act else text


@dataclass(frozen=True)
class Signers:
    """Who signs for one party: the person the block names, and everyone the register accepts."""

    printed: Signatory | None
    accepted: list[Signatory] = field(default_factory=list)


def _split(representative: str) -> tuple[str, str]:
    """« Alix Exemple, présidente » → (« Alix Exemple », « présidente »)."""
    name, _, office = representative.partition(",")
    return name.strip(), office.strip()


def _person(p: Person) -> Signatory:
    return Signatory(
        p.full_name, p.office or p.organisation, p.delegation_act, p.delegation_date, p.role, p.organisation
    )


def normalised(name: str) -> str:
    """A name as compared by the register: no accents, case, hyphens or double spaces."""
    text = unicodedata.normalize("NFKD", name.split(",")[0])
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold().replace("-", " ")
    return " ".join(text.split())


@dataclass(frozen=True)
class Parties:
    """Printed names of everyone a stage-5 document may name; None when the data is absent."""

    departement: Departement | None
    disp_name: str | None
    siae: Siae
    establishment: Establishment
    signers: dict[Role, Signers] = field(default_factory=dict)
    worker_name: str | None = None

    def with_worker(self, worker_name: str) -> "Parties":
        signers = dict(self.signers)
        signers[Role.OPERATEUR] = Signers(Signatory(worker_name, ""), [Signatory(worker_name, "")])
        return replace(self, worker_name=worker_name, signers=signers)

    def printed(self, role: Role) -> Signatory | None:
        found = self.signers.get(role)
        return found.printed if found else None

    def signatory(self, role: Role) -> SignatureBlock:
        who = self.printed(role)
        if role == Role.PREFET:
            principal = next((s for s in self.signers[role].accepted if not s.act), None)
            head = f"{principal.name}, {principal.office}" if principal else "le préfet"
            if who is not None and who.act:
                return SignatureBlock(
                    party=f"Pour l'État : {head}",
                    signatory=f"Par délégation : {who.name}, {who.office} ({who.delegation})",
                )
            return SignatureBlock(party="Pour l'État", signatory=who.printed if who else head)
        if role == Role.DISP:
            return SignatureBlock(
                party=f"Pour la {self.disp_name or 'DISP'}", signatory=who.printed if who else ""
            )
        if role == Role.SIAE:
            return SignatureBlock(
                party=f"Pour la SIAE {self.siae.name}", signatory=who.printed if who else ""
            )
        if role == Role.EP:
            return SignatureBlock(
                party=f"Pour l'établissement pénitentiaire {self.establishment.name}",
                signatory=who.printed if who else "",
            )
        if role == Role.OPERATEUR:
            return SignatureBlock(party="L'opérateur", signatory=self.worker_name or "")
        return SignatureBlock(party=role.label, signatory=who.printed if who else role.label)

    def recipient(self, role: Role) -> str:
        dep = self.departement
        if role == Role.DDETS and dep:
            return dep.ddets
        if role == Role.DISP and self.disp_name:
            return self.disp_name
        if role == Role.EP:
            return f"{self.establishment.name} (chef d'établissement)"
        if role == Role.SIAE:
            return f"SIAE {self.siae.name}"
        return role.label


def _signatory_people(session: Session, roles: Sequence[Role], territory: str | None) -> list[Person]:
    query = select(Person).where(col(Person.role).in_(roles), col(Person.signatory).is_(True))
    if territory is not None:
        query = query.where(Person.territory == territory)
    return list(session.exec(query.order_by(col(Person.id))))


def signers_of(
    session: Session, siae: Siae, establishment: Establishment, disp_code: str | None
) -> dict[Role, Signers]:
    """Who signs for each party of a project, and who else may (a recorded delegation)."""
    dep = establishment.departement
    out: dict[Role, Signers] = {}
    prefects = [_person(p) for p in _signatory_people(session, [Role.PREFET, Role.DDETS], dep)]
    principal = next((s for s in prefects if s.role == Role.PREFET and not s.act), None)
    delegates = [s for s in prefects if s.act]
    ddets = next((s for s in delegates if s.role == Role.DDETS), None)
    # The matrix has the DDETS sign for the préfet: a recorded DDETS delegate is the one the block names.
    out[Role.PREFET] = Signers(ddets or principal, [*([principal] if principal else []), *delegates])
    disp = [_person(p) for p in _signatory_people(session, [Role.DISP], disp_code)] if disp_code else []
    disp_principal = next((s for s in disp if not s.act), None)
    out[Role.DISP] = Signers(disp_principal or (disp[0] if disp else None), disp)
    siae_signers: list[Signatory] = []
    if siae.legal_representative:
        name, office = _split(siae.legal_representative)
        siae_signers.append(Signatory(name, office or "représentant légal", organisation=siae.name))
    staff = session.exec(
        select(Person).where(
            Person.siae_id == siae.id,
            col(Person.signatory).is_(True),
            col(Person.delegation_act).is_not(None),
        )
    )
    siae_signers += [_person(p) for p in staff]
    out[Role.SIAE] = Signers(siae_signers[0] if siae_signers else None, siae_signers)
    ep_signers: list[Signatory] = []
    if establishment.head_name:
        ep_signers.append(
            Signatory(establishment.head_name, "chef d'établissement", organisation=establishment.name)
        )
    ep_signers += [
        _person(p) for p in _signatory_people(session, [Role.EP], dep) if p.delegation_act is not None
    ]
    out[Role.EP] = Signers(ep_signers[0] if ep_signers else None, ep_signers)
    return out


def load_parties(session: Session, cfg: ProcessConfig, siae: Siae, establishment: Establishment) -> Parties:
    dep = cfg.territory.departement.get(establishment.departement)
    disp = cfg.territory.disp.get(dep.disp) if dep else None
    return Parties(
        departement=dep,
        disp_name=disp,
        siae=siae,
        establishment=establishment,
        signers=signers_of(session, siae, establishment, dep.disp if dep else None),
    )


def signature_blocks(spec: DocumentSpec, parties: Parties) -> list[SignatureBlock]:
    """One block per signature: a delegate (the DDETS for the préfet) signs in its principal's block."""
    return [parties.signatory(role) for role in spec.signers]


MISSING_SIGNER = {
    Role.PREFET: "le préfet signataire (nom et qualité)",
    Role.DISP: "le signataire de la DISP (nom et qualité)",
    Role.SIAE: "le représentant légal de la SIAE",
    Role.EP: "le nom du chef d'établissement",
}
"""What a signature block needs when nobody is named; :mod:`implantation.fact_sources` says where to enter it."""


def author(spec: DocumentSpec, parties: Parties) -> str:
    """The issuing administration, as printed in the document's properties."""
    if spec.emetteur == Role.EP:
        return f"{parties.establishment.name} (chef d'établissement)"
    return parties.recipient(spec.emetteur)


def recipients(kind: DocumentKind, documents: DocumentsFile, parties: Parties) -> list[str]:
    """Each signer keeps an original; receivers of the matrix and, when flagged, the informed bodies get a copy."""
    spec = documents.document[kind]
    out = ["Chacun des signataires (un exemplaire original)"]
    roles = list(spec.recipients)
    if spec.copie_aux_informes:
        roles += [r for r in documents.destinataires_documents_signes if r not in roles]
    out += [parties.recipient(role) for role in roles]
    return out


def visas(spec: DocumentSpec, siae_kind: SiaeKind | None = None) -> list[str]:
    """« Code du travail, article L5132-2 » → « Vu le code du travail, notamment son article L5132-2 ; ».

    Articles proper to one kind of SIAE (R5132-28 for an ACI, R5132-2 for an EI) are cited only for it.
    """
    out = []
    refs = spec.base_legale + (spec.base_legale_par_type.get(siae_kind, []) if siae_kind else [])
    for ref in refs:
        code, _, articles = ref.partition(", ")
        text = f"Vu le {code[0].lower()}{code[1:]}"
        if articles.startswith("articles "):
            text += ", notamment ses " + articles
        elif articles.startswith("article "):
            text += ", notamment son " + articles
        elif articles:
            text += ", " + articles
        out.append(text + " ;")
    return out


def signers_for_document(
    session: Session, cfg: ProcessConfig, project_id: int, operateur_id: str | None
) -> dict[Role, Signers]:
    """Who each signature of a project's document is given by: the printed person and the accepted ones."""
    from implantation.db.models import ImplantationProject, OperateurIdentity

    project = session.get(ImplantationProject, project_id)
    assert project is not None
    establishment = session.get(Establishment, project.establishment_id)
    siae = session.get(Siae, project.siae_id) if project.siae_id is not None else None
    assert establishment is not None
    if siae is None:
        return {}
    parties = load_parties(session, cfg, siae, establishment)
    if operateur_id is not None:
        identity = session.get(OperateurIdentity, operateur_id)
        if identity is not None:
            parties = parties.with_worker(f"{identity.first_name} {identity.last_name}")
    return parties.signers


def signer_problem(signers: Signers | None, role: Role, principal: Role, label: str) -> str | None:
    """Why ``label`` may not give ``principal``'s signature (signing as ``role``), or None.

    The person the document names may sign; another one only with a recorded delegation; a delegate role
    (the DDETS for the préfet) only through a recorded delegation.
    """
    if signers is None or signers.printed is None:
        return f"le document ne nomme aucun signataire pour « {principal.label} » : produisez-en une nouvelle version"
    accepted = signers.accepted
    if role != principal:
        accepted = [s for s in accepted if s.act]
    wanted = normalised(label)
    if any(normalised(s.name) == wanted for s in accepted):
        return None
    named = ", ".join(f"{s.name} ({s.office})" if s.office else s.name for s in accepted) or "personne"
    return (
        f"« {label.split(',')[0].strip()} » ne peut pas signer pour « {principal.label} » : le document nomme "
        f"{signers.printed.name} ; peuvent signer : {named}. Une autre personne ne signe qu'avec une délégation "
        "enregistrée (siae ajouter personne … --signataire oui --delegation-acte … --delegation-date …), puis une "
        "nouvelle version du document"
    )


def printed_signer(
    session: Session,
    cfg: ProcessConfig,
    project_id: int,
    operateur_id: str | None,
    kind: DocumentKind,
    slot: Role,
) -> tuple[Role, str] | None:
    """The role to sign as and the name of the person a document names for ``slot``: a delegate printed in
    the préfet's block signs as the DDETS (the matrix's delegation)."""
    signers = signers_for_document(session, cfg, project_id, operateur_id).get(slot)
    if signers is None or signers.printed is None:
        return None
    who = signers.printed
    label = f"{who.name}, {who.office}" if who.office else who.name
    spec = cfg.documents.document[kind]
    if who.act and who.role is not None and who.role != slot and spec.signs_for(who.role) == slot:
        return who.role, label
    return slot, label
