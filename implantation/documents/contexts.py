"""One context model per document: exactly the values its template uses, already formatted in French.

Tests compare each template's variables with these models both ways, so a field nobody prints or a tag
nothing fills is caught before a user sees an empty space in a contract.
"""

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SignatureBlock(Model):
    party: str
    signatory: str


class SiaeParty(Model):
    name: str
    kind_label: str
    siret: str
    address: str
    representative: str


class SiaeIdentity(Model):
    name: str
    kind_label: str
    siret: str
    address: str
    naf_code: str
    idcc: str
    legal_form: str
    president: str
    director: str


class EstablishmentRef(Model):
    name: str
    type_label: str
    address: str


class EstablishmentParty(Model):
    name: str
    type_label: str
    address: str
    head_name: str


class BudgetLine(Model):
    label: str
    amount: str


class YearLine(Model):
    """One line of the two-year balance (``implantation.budget``), as the stage-3 gate computes it."""

    year: str
    nature: str
    label: str
    amount: str


class PayInfo(Model):
    on_date: str
    smic: str
    smic_source: str
    share_percent: str
    share_source: str
    floor: str
    floor_words: str
    # « revalorisée de plein droit » with every new SMIC (contrats.toml, revalorisation)
    revaluation: str


class Worker(Model):
    first_name: str
    last_name: str
    ecrou_number: str


class WorkerIdentity(Worker):
    birth_date: str


class Common(Model):
    title: str
    subject: str
    # The issuing administration: printed in the footer, and the author in the DOCX and PDF properties.
    author: str
    project_reference: str
    visas: list[str]
    place: str
    signatures: list[SignatureBlock]
    recipients: list[str]
    # On every page (header) of a document made with a demonstration amount; empty otherwise.
    demonstration_banner: str = ""


class DuiContext(Common):
    siae: SiaeIdentity
    establishment: EstablishmentRef
    activity: str
    premises: str
    start_date: str
    posts_count: str
    posts_etp: str
    staff_eti_etp: str
    staff_cip_etp: str
    accompaniment_plan: str
    insertion_targets: str
    partners: str
    charges: list[BudgetLine]
    charges_total: str
    resources: list[BudgetLine]
    resources_total: str
    budget_balance: str
    # The two-year balance shown at the stage-3 gate: every line of years 1 and 2, then its French lines.
    two_year_lines: list[YearLine]
    two_year_balance: list[str]


class FinancialAnnex(Model):
    period: str
    siae_kind_label: str
    socle_unit: str
    socle_source: str
    etp: str
    socle_total: str
    modulated_percent: str
    cap_percent: str
    cap_source: str
    modulated_total: str
    total: str
    total_words: str


class MeansRow(Model):
    label: str
    detail: str


class ConventionContext(Common):
    # « Claude Exemple, préfet de l'Isère, et par délégation Dominique Exemple, … (arrêté … du …) »
    state_representative: str
    means: list[MeansRow]
    disp: str
    disp_representative: str
    siae: SiaeParty
    establishment: EstablishmentRef
    departement: str
    activity: str
    workshops_count: str
    accompaniment_plan: str
    partners: str
    implantation_contract: str
    posts_count: str
    posts_etp: str
    insertion_targets: str
    start_date: str
    end_date: str
    duration: str
    max_years: str
    annex: FinancialAnnex


class ImplantationContext(Common):
    establishment: EstablishmentParty
    siae: SiaeParty
    activity: str
    start_date: str
    end_date: str
    duration: str
    max_years: str
    renewal_clause: str
    renewal_source: str
    invoicing: str
    invoicing_source: str
    premises: str
    security_rules: str
    accompaniment_plan: str
    work_schedule: str
    workshop_hours: str
    operators: str
    operators_source: str
    authorisation: str
    authorisation_source: str
    security_suspension: str
    security_suspension_source: str
    termination: str
    termination_source: str
    public_interest: str
    public_interest_source: str
    insurance: str
    insurance_source: str
    pay: PayInfo
    startup_aid: str
    startup_aid_words: str
    startup_aid_source: str


class ScheduleInfo(Model):
    days: str
    start: str
    end: str
    break_clause: str
    daily_hours: str
    weekly_hours: str
    monthly_hours: str
    rest_days: str


class HolidayLine(Model):
    date: str
    name: str


class ContributionRow(Model):
    label: str
    part: str
    rate: str
    base: str
    amount: str
    source: str


class Clause(Model):
    text: str
    source: str


class Termination(Model):
    party: str
    terms: str
    source: str


class CepContext(Common):
    operateur_id: str
    siae: SiaeParty
    establishment: EstablishmentRef
    worker: WorkerIdentity
    start_date: str
    duration_clause: str
    classification: str
    joint_agreements: list[str]
    trial_sentence: str
    trial_rule: str
    trial_clause: str
    trial_renewal: str
    notice_hours: str
    post_title: str
    missions: str
    rome_code: str
    particular_risks: str
    schedule: ScheduleInfo
    workshop_hours: str
    hours_bounds: str
    rest_clause: str
    holidays: list[HolidayLine]
    holidays_period: str
    holiday_clause: str
    on_call_clause: str
    hourly_rate: str
    hourly_rate_words: str
    pay: PayInfo
    monthly_gross: str
    old_age_floor: str
    contributions: list[ContributionRow]
    employee_contributions: str
    employer_contributions: str
    contributions_total: str
    contributions_total_words: str
    monthly_net: str
    contributions_clause: str
    contributions_source: str
    reimbursement: str
    suspension_cases: list[Clause]
    terminations: list[Termination]
    accompaniment_plan: str


class CepAnnexContext(Common):
    operateur_id: str
    establishment: EstablishmentParty
    siae: SiaeParty
    worker: Worker
    cep_start: str
    post_title: str
    weekly_hours: str
    hourly_rate: str
    reimbursement_rule: str
    reimbursement_source: str
    reimbursement_terms: str
    non_payment: str
    non_payment_source: str
    health_safety: str
    health_safety_source: str
    security_rules: str
    premises: str


DocumentContext = DuiContext | ConventionContext | ImplantationContext | CepContext | CepAnnexContext
