"""Who the parties are, as printed: names come from the database and territoires.toml, roles from the matrix."""

from dataclasses import dataclass, replace

from implantation.config.schema import (
    Departement,
    DocumentsFile,
    DocumentSpec,
    PrefectSignature,
    ProcessConfig,
)
from implantation.db.models import Establishment, Siae
from implantation.documents.contexts import SignatureBlock
from implantation.enums import DocumentKind, Role, SiaeKind


@dataclass(frozen=True)
class Parties:
    """Printed names of everyone a stage-5 document may name; None when the data is absent."""

    departement: Departement | None
    disp_name: str | None
    siae: Siae
    establishment: Establishment
    worker_name: str | None = None
    prefect_signature: PrefectSignature | None = None

    def with_worker(self, worker_name: str) -> "Parties":
        return replace(self, worker_name=worker_name)

    def signatory(self, role: Role) -> SignatureBlock:
        dep = self.departement
        if role == Role.PREFET:
            # The DDETS signs for the préfet (guide's matrix): one block for the State, the DDETS named once.
            dep_name = dep.nom if dep else self.establishment.departement
            ddets = dep.ddets if dep else "DDETS"
            sig = self.prefect_signature
            if sig is None:
                return SignatureBlock(party="Pour l'État", signatory=f"Le préfet du département ({dep_name})")
            return SignatureBlock(
                party=sig.partie.format(departement=dep_name, ddets=ddets),
                signatory=sig.signataire.format(departement=dep_name, ddets=ddets),
            )
        if role == Role.DDETS:
            return SignatureBlock(party="Pour la DDETS", signatory=dep.ddets if dep else "DDETS")
        if role == Role.DISP:
            return SignatureBlock(party="Pour la DISP", signatory=self.disp_name or "DISP")
        if role == Role.SIAE:
            return SignatureBlock(
                party=f"Pour la SIAE {self.siae.name}",
                signatory=self.siae.legal_representative or "",
            )
        if role == Role.EP:
            return SignatureBlock(
                party=f"Pour l'établissement pénitentiaire {self.establishment.name}",
                signatory=f"{self.establishment.head_name}, chef d'établissement",
            )
        if role == Role.OPERATEUR:
            return SignatureBlock(party="L'opérateur", signatory=self.worker_name or "")
        return SignatureBlock(party=role.label, signatory=role.label)

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


def load_parties(cfg: ProcessConfig, siae: Siae, establishment: Establishment) -> Parties:
    dep = cfg.territory.departement.get(establishment.departement)
    disp = cfg.territory.disp.get(dep.disp) if dep else None
    return Parties(
        departement=dep,
        disp_name=disp,
        siae=siae,
        establishment=establishment,
        prefect_signature=cfg.contracts.signature_prefet,
    )


def signature_blocks(spec: DocumentSpec, parties: Parties) -> list[SignatureBlock]:
    """One block per signature: a delegate (the DDETS for the préfet) signs in its principal's block."""
    return [parties.signatory(role) for role in spec.signers]


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
