"""Stable state values (stored in the database) with their French labels.

Values never change once shipped, because they are persisted; labels may be reworded freely.
"""

from enum import StrEnum


class LabelledEnum(StrEnum):
    """A StrEnum whose members carry a French label shown to users."""

    label: str

    def __new__(cls, value: str, label: str) -> "LabelledEnum":
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label
        return obj

    @classmethod
    def from_user(cls, raw: str) -> "LabelledEnum":
        """Accept either the stable value or the label, case-insensitively."""
        wanted = raw.strip().casefold()
        for member in cls:
            if wanted in (member.value.casefold(), member.label.casefold(), member.name.casefold()):
                return member
        raise ValueError(raw)


class Role(LabelledEnum):
    DISP = "disp", "Direction interrégionale des services pénitentiaires (DISP)"
    DREETS = "dreets", "DREETS"
    DDETS = "ddets", "DDETS"
    PREFET = "prefet", "Préfet"
    EP = "ep", "Établissement pénitentiaire (chef d'établissement)"
    SPIP = "spip", "SPIP"
    SIAE = "siae", "SIAE"
    ATIGIP = "atigip", "ATIGIP"
    DGEFP = "dgefp", "DGEFP"
    ULE = "ule", "Unité locale d'enseignement (ULE)"
    PSY_PEP = "psy_pep", "Psychologue PEP"
    FRANCE_TRAVAIL = "france_travail", "DT France Travail (ex-Pôle emploi)"
    MISSION_LOCALE = "mission_locale", "Mission locale"
    RESEAU_IAE = "reseau_iae", "Réseaux IAE"
    REGION = "region", "Région"
    JAP = "jap", "Juge de l'application des peines (JAP)"
    OPERATEUR = "operateur", "Opérateur (personne détenue)"


class EstablishmentType(LabelledEnum):
    MA = "MA", "Maison d'arrêt"
    CD = "CD", "Centre de détention"
    MC = "MC", "Maison centrale"
    CP = "CP", "Centre pénitentiaire"
    CSL = "CSL", "Centre de semi-liberté"
    QSL = "QSL", "Quartier de semi-liberté"
    EPM = "EPM", "Établissement pénitentiaire pour mineurs"
    SAS = "SAS", "Structure d'accompagnement vers la sortie"


class SiaeKind(LabelledEnum):
    ACI = "ACI", "Atelier et chantier d'insertion"
    EI = "EI", "Entreprise d'insertion"
    ETTI = "ETTI", "Entreprise de travail temporaire d'insertion"
    AI = "AI", "Association intermédiaire"
    EITI = "EITI", "Entreprise d'insertion par le travail indépendant"


class ProjectStatus(LabelledEnum):
    IN_PROGRESS = "en_cours", "En cours"
    LAUNCHED = "lance", "Activité lancée"
    ABANDONED = "abandonne", "Abandonné"


class StageStatus(LabelledEnum):
    PENDING = "a_venir", "À venir"
    OPEN = "en_cours", "En cours"
    VALIDATED = "validee", "Validée"
    SUSPENDED = "suspendue", "Suspendue (en attente de l'autre partie)"
    CANCELLED = "annulee", "Annulée (projet abandonné)"


class Decision(LabelledEnum):
    """What an approver can decide at a stage gate."""

    APPROVE = "approuver", "Approuver"
    REJECT = "rejeter", "Rejeter (motif obligatoire)"
    SEND_BACK = "renvoyer", "Renvoyer à une étape précédente (motif obligatoire)"
    SUSPEND = "suspendre", "Suspendre : l'étape attend l'autre partie (motif : quoi, de qui)"
    RESUME = "reprendre", "Reprendre : l'attente est levée, l'horloge repart"


class LegalStatus(LabelledEnum):
    CONVICTED = "condamne", "Condamné"
    REMAND = "prevenu", "Prévenu"


class OperateurStatus(LabelledEnum):
    IDENTIFIED = "identifie", "Identifié par le SPIP"
    CLASSIFIED = "classe", "Classé au travail (CPU)"
    ASSIGNED = "affecte", "Affecté"
    LEFT = "sorti", "Sorti"


class OperateurEndReason(LabelledEnum):
    """Why a CEP ended (L412-16: an SIAE CEP ends with detention, or earlier by resignation)."""

    RELEASE = "liberation", "Libération (fin de détention)"
    RESIGNATION = "demission", "Démission"


class DocumentKind(LabelledEnum):
    DUI = "dui", "Dossier unique d'instruction (DUI IAE)"
    CONVENTION = "convention", "Convention IAE"
    IMPLANTATION_CONTRACT = "contrat_implantation", "Contrat d'implantation"
    CEP = "cep", "Contrat d'emploi pénitentiaire (CEP)"
    CEP_ANNEX = "annexe_cep", "Annexe au CEP (convention tripartite)"


# One of each per project, and one of each per opérateur under CEP.
PROJECT_DOCUMENT_KINDS = (DocumentKind.DUI, DocumentKind.CONVENTION, DocumentKind.IMPLANTATION_CONTRACT)
OPERATEUR_DOCUMENT_KINDS = (DocumentKind.CEP, DocumentKind.CEP_ANNEX)


class DocumentStatus(LabelledEnum):
    DRAFT = "brouillon", "Brouillon"
    PARTIALLY_SIGNED = "signature_partielle", "Signature partielle"
    SIGNED = "signe", "Signé"


class PartyAction(LabelledEnum):
    FILLS_IN = "complete", "Complète le document"
    SIGNS = "signe", "Signe"
    RECEIVES = "destinataire", "Destinataire"
