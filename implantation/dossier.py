"""The project facts that stages 1 to 4 produce, as pydantic models whose field names are the French keys.

The same models validate ``siae projet completer --fichier DOSSIER.toml`` and are meant for the gate forms
of stages 1, 3 and 4 (one model per stage, :class:`Dossier` is their union): a key means the same thing
and obeys the same rules wherever it is entered. Every field is optional: absent means « unchanged », so
a form pre-filled with the recorded values and a file holding three keys are validated alike. Money and
ETP are :class:`~decimal.Decimal` (no binary rounding in a budget). Only non-personal facts live here:
opérateurs are entered elsewhere (:mod:`implantation.services.operateurs`) and never reach Prefect.
"""

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from implantation.siae_rules import normalise_siret
from implantation.work_schedule import check_clock, parse_days

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAK = re.compile(r"[\r\n\t]")


def _decimal(raw: Any) -> Any:
    """Accept 1.5, "1,5" and "95 000" as typed by a French user; a float goes through its text form."""
    if isinstance(raw, bool):
        raise ValueError("nombre attendu")
    if isinstance(raw, float):
        return Decimal(str(raw))
    if isinstance(raw, str):
        text = raw.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
        text = text.removesuffix("€")
        try:
            return Decimal(text)
        except InvalidOperation:
            raise ValueError(f"nombre attendu, lu « {raw[:40]} »") from None
    return raw


def _one_line(raw: Any) -> Any:
    if isinstance(raw, str) and (_CONTROL.search(raw) or _LINE_BREAK.search(raw.strip())):
        raise ValueError("caractère de contrôle ou saut de ligne interdit")
    return raw


def _multiline(raw: Any) -> Any:
    if isinstance(raw, str) and _CONTROL.search(raw):
        raise ValueError("caractère de contrôle interdit")
    return raw


def _siret(raw: Any) -> Any:
    if isinstance(raw, int):
        raw = str(raw).zfill(14)
    if isinstance(raw, str):
        return normalise_siret(raw.replace(" ", ""))
    return raw


def _days(raw: Any) -> Any:
    """« lundi,mardi » or « lundi, mardi » stored as « lundi,mardi », in week order."""
    return ",".join(parse_days(raw)) if isinstance(raw, str) else raw


def _clock(raw: Any) -> Any:
    return check_clock(raw.strip()) if isinstance(raw, str) else raw


Line = Annotated[str, BeforeValidator(_one_line), Field(min_length=1)]
Days = Annotated[str, BeforeValidator(_days)]
Clock = Annotated[str, BeforeValidator(_clock)]
Text = Annotated[str, BeforeValidator(_multiline), Field(min_length=1, max_length=5000)]
Money = Annotated[Decimal, BeforeValidator(_decimal), Field(ge=0, max_digits=12, decimal_places=2)]
Etp = Annotated[Decimal, BeforeValidator(_decimal), Field(ge=0, max_digits=7, decimal_places=2)]
Siret = Annotated[str, BeforeValidator(_siret)]

WEEKLY_HOURS_MAX = Decimal(48)
"""Code du travail L3121-20, also the bound of ``Operateur.weekly_hours``."""


class Facts(BaseModel):
    """Unknown keys are refused (a typo must not be silently ignored); text is stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class LigneBudget(Facts):
    """One line of the budget prévisionnel, for year 1 or year 2 of the activity."""

    nature: Literal["charge", "ressource"] = Field(title="Nature (charge ou ressource)")
    libelle: Annotated[Line, Field(max_length=200)] = Field(title="Libellé")
    montant: Money = Field(title="Montant annuel (euros)")
    annee: Literal[1, 2] = Field(1, title="Année (1 ou 2)")


class Poste(Facts):
    """A post held by opérateurs: what their CEP describes (R412-25) and the hours it is worked."""

    intitule: Annotated[Line, Field(max_length=200)] = Field(title="Intitulé du poste")
    code_rome: Annotated[str, Field(pattern=r"^[A-N]\d{4}$")] = Field(title="Code ROME (ex. H3302)")
    heures_hebdomadaires: Annotated[
        Decimal, BeforeValidator(_decimal), Field(gt=0, le=WEEKLY_HOURS_MAX, decimal_places=2)
    ] = Field(title="Durée hebdomadaire (heures)")
    horaires: Annotated[Line, Field(max_length=500)] | None = Field(None, title="Horaires du poste")
    missions: Text = Field(title="Missions")
    risques: Text = Field(title="Risques particuliers (ou « aucun »)")


class Etape1(Facts):
    """Stage 1: the premises, the joint SPIP/EP project lead, the establishment's head and rules."""

    locaux: Annotated[Line, Field(max_length=1000)] | None = Field(
        None, title="Locaux mis à disposition (atelier, bureaux)"
    )
    chef_projet_commun: Annotated[Line, Field(max_length=200)] | None = Field(
        None, title="Chef de projet commun SPIP / établissement"
    )
    chef_etablissement: Annotated[Line, Field(max_length=200)] | None = Field(
        None, title="Chef d'établissement (nom)"
    )
    regles_securite: Text | None = Field(None, title="Règles de sécurité de l'établissement")


class Etape2(Facts):
    """Stage 2: the SIAE retained (by SIRET) and its activity."""

    siae_retenue: Siret | None = Field(None, title="SIAE retenue (SIRET)")
    activite: Annotated[Line, Field(max_length=300)] | None = Field(None, title="Activité retenue")


class Etape3(Facts):
    """Stage 3 (feasibility): activity, workshops, posts and staff, planned start, budget prévisionnel."""

    activite: Annotated[Line, Field(max_length=300)] | None = Field(None, title="Activité retenue")
    ateliers: Annotated[int, Field(ge=0, le=1000)] | None = Field(None, title="Nombre d'ateliers")
    postes_insertion: Annotated[int, Field(ge=0, le=10000)] | None = Field(
        None, title="Nombre de postes d'insertion"
    )
    postes_etp: Etp | None = Field(None, title="Postes d'insertion (ETP)")
    eti_etp: Etp | None = Field(None, title="Encadrants techniques d'insertion (ETP)")
    cip_etp: Etp | None = Field(None, title="Conseillers en insertion professionnelle (ETP)")
    part_modulee_pourcent: (
        Annotated[Decimal, BeforeValidator(_decimal), Field(ge=0, le=100, decimal_places=2)] | None
    ) = Field(None, title="Part modulée de l'aide au poste (%)")
    date_demarrage_prevue: date | None = Field(None, title="Date de démarrage prévue")
    budget: list[LigneBudget] | None = Field(None, title="Budget prévisionnel (années 1 et 2)")

    @model_validator(mode="after")
    def _etp_within_posts(self) -> "Etape3":
        if self.postes_etp is not None and self.postes_insertion is not None:
            check_etp_within_posts(self.postes_etp, self.postes_insertion)
        return self


class Etape4(Facts):
    """Stage 4 (co-construction): accompaniment, targets, partners, posts, periods, reimbursement."""

    plan_accompagnement: Text | None = Field(None, title="Plan d'accompagnement socio-professionnel")
    objectifs_insertion: Text | None = Field(None, title="Objectifs et indicateurs d'insertion")
    partenaires: Text | None = Field(None, title="Partenaires")
    horaires: Annotated[Line, Field(max_length=500)] | None = Field(
        None, title="Horaires de travail des opérateurs"
    )
    atelier_jours: Days | None = Field(
        None, title="Jours d'ouverture de l'atelier (ex. lundi,mardi,mercredi)"
    )
    atelier_debut: Clock | None = Field(None, title="Ouverture de l'atelier (HH:MM)")
    atelier_fin: Clock | None = Field(None, title="Fermeture de l'atelier (HH:MM)")
    postes: list[Poste] | None = Field(None, title="Postes de travail")
    convention_debut: date | None = Field(None, title="Début de la convention IAE")
    convention_fin: date | None = Field(None, title="Fin de la convention IAE")
    implantation_debut: date | None = Field(None, title="Début du contrat d'implantation")
    implantation_fin: date | None = Field(None, title="Fin du contrat d'implantation")
    reconduction_tacite: bool | None = Field(None, title="Contrat d'implantation reconduit tacitement")
    modalites_remboursement: Annotated[Line, Field(max_length=500)] | None = Field(
        None, title="Modalités de remboursement des rémunérations (périodicité, délai)"
    )
    autorisation_travail: Annotated[Line, Field(max_length=300)] | None = Field(
        None, title="Autorisation préalable du directeur interrégional (référence de la décision)"
    )
    autorisation_travail_date: date | None = Field(None, title="Date de cette autorisation")

    @model_validator(mode="after")
    def _unique_posts(self) -> "Etape4":
        names = [p.intitule.casefold() for p in self.postes or []]
        doubles = sorted({n for n in names if names.count(n) > 1})
        if doubles:
            raise ValueError(f"postes : intitulé en double « {doubles[0]} »")
        if self.atelier_debut and self.atelier_fin and self.atelier_fin <= self.atelier_debut:
            raise ValueError("atelier_fin : la fermeture de l'atelier doit suivre son ouverture")
        return self


class Dossier(Etape1, Etape2, Etape3, Etape4):
    """Every fact of stages 1 to 4: the keys of ``siae projet completer --fichier``."""


STAGE_MODELS: dict[int, type[Facts]] = {1: Etape1, 2: Etape2, 3: Etape3, 4: Etape4}


def stages_of(key: str) -> list[int]:
    """The gate forms that hold a key (``activite`` is asked at stages 2 and 3)."""
    return [n for n, model in STAGE_MODELS.items() if key in model.model_fields]


def check_etp_within_posts(etp: Decimal, posts: int) -> None:
    """A post is at most one full-time equivalent."""
    if etp > posts:
        raise ValueError(f"postes_etp ({etp}) dépasse le nombre de postes d'insertion ({posts})")


# --- French messages -------------------------------------------------------------------------------

_MESSAGES = {
    "missing": "valeur obligatoire manquante",
    "extra_forbidden": "clé inconnue",
    "int_parsing": "nombre entier attendu",
    "int_type": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "decimal_parsing": "nombre attendu",
    "decimal_type": "nombre attendu",
    "bool_parsing": "true ou false attendu",
    "bool_type": "true ou false attendu",
    "date_parsing": "date attendue (AAAA-MM-JJ)",
    "date_from_datetime_parsing": "date attendue (AAAA-MM-JJ)",
    "date_from_datetime_inexact": "date sans heure attendue (AAAA-MM-JJ)",
    "date_type": "date attendue (AAAA-MM-JJ)",
    "string_type": "texte attendu",
    "list_type": "liste attendue",
    "model_type": "table attendue",
    "model_attributes_type": "table attendue",
    "string_too_short": "valeur vide",
    "literal_error": "valeur non admise",
    "string_pattern_mismatch": "format invalide",
    "decimal_max_places": "deux décimales au plus",
    "decimal_max_digits": "nombre trop grand",
    "decimal_whole_digits": "nombre trop grand",
}


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += ("." if text else "") + part
    return text


def _message(error: Any) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        sign = {"greater_than_equal": "≥", "greater_than": ">", "less_than_equal": "≤", "less_than": "<"}
        bound = next(iter(ctx.values()), "")
        return f"valeur {sign[kind]} {bound} attendue, lu « {error.get('input')} »"
    if kind == "string_too_long":
        return f"{ctx.get('max_length')} caractères au maximum"
    if kind == "literal_error":
        return f"valeur non admise « {error.get('input')} » (attendu : {ctx.get('expected', '')})"
    if kind == "string_pattern_mismatch" and error["loc"][-1] == "code_rome":
        return f"code ROME attendu sous la forme H3302, lu « {error.get('input')} »"
    return _MESSAGES.get(kind, error["msg"])


def french_problems(exc: ValidationError) -> list[str]:
    """One French line per refused value, naming the key (``budget[2].montant``) like the file does."""
    problems = []
    for error in exc.errors(include_url=False):
        where = _where(error["loc"])
        prefix = f"clé « {where} » : " if where else ""
        problems.append(prefix + _message(error))
    return problems
