"""Builds each document's context from the database, refusing while anything required is missing.

Every builder looks at all its inputs before failing, so the user gets one list of everything to fill
in, not one item per attempt. Computed figures (pay floor, trial period, aide au poste, durations) come
from :mod:`implantation.contract_rules`; a value outside a legal bound is refused with the rule named.
"""

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session

from implantation import contract_rules as rules
from implantation.config.schema import ProcessConfig
from implantation.db.models import (
    Establishment,
    ImplantationProject,
    Operateur,
    OperateurIdentity,
    Siae,
)
from implantation.documents import formatting as fmt
from implantation.documents.contexts import (
    BudgetLine,
    CepAnnexContext,
    CepContext,
    ConventionContext,
    DuiContext,
    EstablishmentParty,
    EstablishmentRef,
    FinancialAnnex,
    ImplantationContext,
    PayInfo,
    SiaeIdentity,
    SiaeParty,
    Worker,
    WorkerIdentity,
)
from implantation.documents.parties import Parties, load_parties, recipients, signature_blocks, visas
from implantation.eligibility import implantation_kind_problem
from implantation.enums import DocumentKind, OperateurStatus
from implantation.fact_sources import where_to_enter
from implantation.services.errors import DomainError

SHORT_LABEL = {
    DocumentKind.DUI: "DUI",
    DocumentKind.CONVENTION: "Convention IAE",
    DocumentKind.IMPLANTATION_CONTRACT: "Contrat d'implantation",
    DocumentKind.CEP: "CEP",
    DocumentKind.CEP_ANNEX: "Annexe au CEP",
}


class DocumentDataError(DomainError):
    """Missing or out-of-bounds data; ``problems`` lists every item in French."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Documents impossibles à produire :\n" + "\n".join(f"- {p}" for p in problems))


class Checker:
    """Collects the problems of one document instead of stopping at the first."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.problems: list[str] = []

    def need(self, value: Any, what: str) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            hint = where_to_enter(what)
            self.problems.append(f"{self.label} : il manque {what}" + (f" ({hint})" if hint else ""))
        return value

    def refuse(self, problem: str | None) -> None:
        if problem:
            self.problems.append(f"{self.label} : {problem}")

    def done(self) -> None:
        if self.problems:
            raise DocumentDataError(self.problems)


def _dec(value: float | int) -> Decimal:
    return Decimal(str(value))


class ProjectData:
    """The rows every project-level document reads, loaded once."""

    def __init__(self, session: Session, project_id: int, cfg: ProcessConfig) -> None:
        project = session.get(ImplantationProject, project_id)
        if project is None:
            raise DocumentDataError([f"projet introuvable : identifiant {project_id}"])
        self.project = project
        establishment = session.get(Establishment, project.establishment_id)
        assert establishment is not None
        self.establishment = establishment
        self.siae = session.get(Siae, project.siae_id) if project.siae_id is not None else None
        self.cfg = cfg

    def parties(self, check: Checker) -> Parties | None:
        if self.siae is None:
            check.need(None, "la SIAE retenue pour le projet")
            return None
        parties = load_parties(self.cfg, self.siae, self.establishment)
        if parties.departement is None:
            check.refuse(
                f"le département « {self.establishment.departement} » est absent de territoires.toml"
            )
        elif parties.disp_name is None:
            check.refuse(f"la DISP « {parties.departement.disp} » est absente de territoires.toml")
        return parties

    def check_party_names(self, check: Checker, kind: DocumentKind) -> None:
        from implantation.enums import Role

        signers = self.cfg.documents.document[kind].signers
        if self.siae is not None and Role.SIAE in signers:
            check.need(self.siae.legal_representative, "le représentant légal de la SIAE")
        if Role.EP in signers:
            check.need(self.establishment.head_name, "le nom du chef d'établissement")

    def common(self, kind: DocumentKind, parties: Parties) -> dict[str, Any]:
        spec = self.cfg.documents.document[kind]
        return {
            "title": spec.titre,
            "project_reference": self.project.reference,
            "visas": visas(spec, self.siae.kind if self.siae is not None else None),
            "place": self.establishment.city,
            "signatures": signature_blocks(spec, parties),
            "recipients": recipients(kind, self.cfg.documents, parties),
        }

    def siae_party(self) -> SiaeParty:
        siae = self.siae
        assert siae is not None
        return SiaeParty(
            name=siae.name,
            kind_label=f"{siae.kind.label} ({siae.kind.value})",
            siret=siae.siret,
            address=f"{siae.address}, {siae.postal_code} {siae.city}",
            representative=siae.legal_representative or "",
        )

    def establishment_ref(self) -> EstablishmentRef:
        est = self.establishment
        return EstablishmentRef(
            name=est.name,
            type_label=est.type.label,
            address=f"{est.address}, {est.city}" if est.address else est.city,
        )

    def establishment_party(self) -> EstablishmentParty:
        ref = self.establishment_ref()
        return EstablishmentParty(**ref.model_dump(), head_name=self.establishment.head_name or "")

    def pay_info(self, on: date) -> PayInfo:
        floor = rules.hourly_pay_floor(self.cfg.money, on)
        return PayInfo(
            on_date=fmt.fr_date(on),
            smic=fmt.fr_money(floor.smic.valeur),
            smic_source=floor.smic.source,
            share_percent=fmt.fr_percent(floor.share.valeur),
            share_source=floor.share.source,
            floor=fmt.fr_money(floor.floor),
            floor_words=fmt.money_words(floor.floor),
        )

    def aide_au_poste(self, check: Checker, on: date | None) -> rules.AidePoste | None:
        """Yearly aide au poste on ``on``; None (the gap already listed) while its inputs are missing."""
        p, siae = self.project, self.siae
        if siae is None or on is None or p.insertion_posts_etp is None:
            return None
        etp = _dec(p.insertion_posts_etp)
        modulated = _dec(p.modulated_share) if p.modulated_share is not None else None
        aid: rules.AidePoste | None = self.rule(
            check, lambda: rules.aide_au_poste(self.cfg.money, siae.kind, etp, on, modulated)
        )
        if aid is not None:
            check.refuse(rules.modulated_share_problem(aid.modulated_share, aid.cap))
        return aid

    def rule(self, check: Checker, compute: Callable[[], Any]) -> Any:
        """A computed value; a configuration gap becomes one more listed problem."""
        try:
            return compute()
        except rules.RuleError as exc:
            check.refuse(str(exc))
            return None


def _budget(
    check: Checker, raw: list[dict[str, str]] | None
) -> tuple[list[BudgetLine], list[BudgetLine], Decimal, Decimal]:
    charges: list[BudgetLine] = []
    resources: list[BudgetLine] = []
    totals = {"charge": Decimal(0), "ressource": Decimal(0)}
    if not raw:
        check.need(None, "le budget prévisionnel (au moins une ligne de charges)")
        return charges, resources, Decimal(0), Decimal(0)
    for number, line in enumerate(raw, start=1):
        if str(line.get("annee") or 1) != "1":
            continue  # year 2 is shown by implantation.budget.balance_lines, not summed with year 1
        nature, label = line.get("nature"), line.get("libelle")
        try:
            amount = Decimal(str(line.get("montant")))
        except InvalidOperation:
            amount = None
        if nature not in totals or not label or amount is None or not amount.is_finite() or amount < 0:
            check.refuse(
                f"la ligne {number} du budget prévisionnel est invalide (nature « charge » ou « ressource », "
                "libellé et montant positif attendus)"
            )
            continue
        totals[nature] += amount
        target = charges if nature == "charge" else resources
        target.append(BudgetLine(label=label, amount=fmt.fr_money(amount)))
    if not charges:
        check.need(None, "au moins une ligne de charges au budget prévisionnel")
    return charges, resources, totals["charge"], totals["ressource"]


def build_dui_context(session: Session, project_id: int, cfg: ProcessConfig) -> DuiContext:
    data = ProjectData(session, project_id, cfg)
    p, est = data.project, data.establishment
    check = Checker(SHORT_LABEL[DocumentKind.DUI])
    parties = data.parties(check)
    data.check_party_names(check, DocumentKind.DUI)
    siae = data.siae
    if siae is not None:
        check.need(siae.naf_code, "le code NAF de la SIAE")
        check.need(siae.idcc, "l'IDCC (convention collective) de la SIAE")
        check.need(siae.legal_form, "la forme juridique de la SIAE")
        check.need(siae.president, "le président de la SIAE")
        check.need(siae.director, "le directeur de la SIAE")
        check.refuse(implantation_kind_problem(siae.kind, cfg.eligibility))
    check.need(p.activity, "l'activité du projet")
    check.need(est.premises, "les locaux mis à disposition dans l'établissement")
    check.need(p.launch_date, "la date de démarrage de l'activité")
    check.need(p.insertion_posts_count, "le nombre de postes d'insertion")
    check.need(p.insertion_posts_etp, "le nombre de postes d'insertion (ETP)")
    check.need(p.staff_eti_etp, "l'effectif d'encadrants techniques d'insertion (ETP)")
    check.need(p.staff_cip_etp, "l'effectif de conseillers en insertion professionnelle (ETP)")
    check.need(p.accompaniment_plan, "le plan d'accompagnement socio-professionnel")
    check.need(p.insertion_targets, "les objectifs de retour à l'emploi")
    check.need(p.partners, "les partenaires du projet")
    charges, resources, charges_total, resources_total = _budget(check, p.budget_lines)
    aid = data.aide_au_poste(check, p.launch_date)
    startup = None
    if (launch := p.launch_date) is not None:
        startup = data.rule(
            check, lambda: rules.amount_on(cfg.money.aide_au_demarrage_atigip, launch, "aide au démarrage")
        )
    check.done()
    assert parties is not None and siae is not None and aid is not None and startup is not None
    resources = [
        BudgetLine(label="Aide au poste (DREETS), première année", amount=fmt.fr_money(aid.total)),
        BudgetLine(label="Aide au démarrage (ATIGIP)", amount=fmt.fr_money(startup.valeur)),
        *resources,
    ]
    resources_total += aid.total + startup.valeur
    gap = resources_total - charges_total
    balance = (
        "Budget équilibré."
        if gap == 0
        else f"{'Excédent' if gap > 0 else 'Besoin de financement'} de {fmt.fr_money(abs(gap))}."
    )
    return DuiContext(
        **data.common(DocumentKind.DUI, parties),
        siae=SiaeIdentity(
            name=siae.name,
            kind_label=f"{siae.kind.label} ({siae.kind.value})",
            siret=siae.siret,
            address=f"{siae.address}, {siae.postal_code} {siae.city}",
            naf_code=siae.naf_code or "",
            idcc=siae.idcc or "",
            legal_form=siae.legal_form or "",
            president=siae.president or "",
            director=siae.director or "",
        ),
        establishment=data.establishment_ref(),
        activity=p.activity or "",
        premises=est.premises or "",
        start_date=fmt.fr_date(p.launch_date),
        posts_count=fmt.fr_number(p.insertion_posts_count),  # type: ignore[arg-type]
        posts_etp=fmt.fr_number(p.insertion_posts_etp),  # type: ignore[arg-type]
        staff_eti_etp=fmt.fr_number(p.staff_eti_etp),  # type: ignore[arg-type]
        staff_cip_etp=fmt.fr_number(p.staff_cip_etp),  # type: ignore[arg-type]
        accompaniment_plan=p.accompaniment_plan or "",
        insertion_targets=p.insertion_targets or "",
        partners=p.partners or "",
        charges=charges,
        charges_total=fmt.fr_money(charges_total),
        resources=resources,
        resources_total=fmt.fr_money(resources_total),
        budget_balance=balance,
    )


def build_convention_context(session: Session, project_id: int, cfg: ProcessConfig) -> ConventionContext:
    data = ProjectData(session, project_id, cfg)
    p, est = data.project, data.establishment
    spec = cfg.documents.document[DocumentKind.CONVENTION]
    impl_spec = cfg.documents.document[DocumentKind.IMPLANTATION_CONTRACT]
    check = Checker(SHORT_LABEL[DocumentKind.CONVENTION])
    parties = data.parties(check)
    data.check_party_names(check, DocumentKind.CONVENTION)
    siae = data.siae
    if siae is not None:
        check.refuse(implantation_kind_problem(siae.kind, cfg.eligibility))
    check.need(p.activity, "l'activité du projet")
    check.need(p.workshops_count, "le nombre d'ateliers")
    check.need(p.accompaniment_plan, "l'accompagnement des personnes détenues sous CEP")
    check.need(p.partners, "les partenaires du projet")
    check.need(p.implantation_start, "la date de début du contrat d'implantation")
    check.need(p.implantation_end, "la date de fin du contrat d'implantation")
    check.need(p.staff_eti_etp, "l'effectif d'encadrants techniques d'insertion (ETP)")
    check.need(p.staff_cip_etp, "l'effectif de conseillers en insertion professionnelle (ETP)")
    check.need(est.premises, "les locaux mis à disposition dans l'établissement")
    check.need(p.insertion_posts_count, "le nombre de postes d'insertion")
    check.need(p.insertion_posts_etp, "le nombre de postes d'insertion (ETP)")
    check.need(p.insertion_targets, "les engagements et indicateurs d'insertion")
    check.need(p.convention_start, "la date de début de la convention")
    check.need(p.convention_end, "la date de fin de la convention")
    max_years = spec.duree_max_annees
    check.need(max_years, "la durée maximale de la convention dans documents.toml")
    if p.convention_start and p.convention_end and max_years:
        check.refuse(
            rules.duration_problem(
                p.convention_start, p.convention_end, max_years, "durée de la convention", spec.base_legale[0]
            )
        )
    aid = data.aide_au_poste(check, p.convention_start)
    check.done()
    assert parties is not None and siae is not None and aid is not None and parties.departement is not None
    start, end = p.convention_start, p.convention_end
    assert start is not None and end is not None and max_years is not None
    year_end = min(end, rules.add_years(start, 1) - timedelta(days=1))
    return ConventionContext(
        **data.common(DocumentKind.CONVENTION, parties),
        prefet=f"le préfet du département ({parties.departement.nom})",
        ddets=parties.departement.ddets,
        disp=parties.disp_name or "",
        siae=data.siae_party(),
        establishment=data.establishment_ref(),
        departement=f"{parties.departement.nom} ({est.departement})",
        activity=p.activity or "",
        workshops_count=fmt.fr_number(p.workshops_count),  # type: ignore[arg-type]
        accompaniment_plan=p.accompaniment_plan or "",
        partners=p.partners or "",
        implantation_contract=(
            f"{impl_spec.titre} conclu entre la SIAE et l'établissement {est.name} pour la période du "
            f"{fmt.fr_date(p.implantation_start)} au {fmt.fr_date(p.implantation_end)}"
        ),
        staff_eti_etp=fmt.fr_number(p.staff_eti_etp),  # type: ignore[arg-type]
        staff_cip_etp=fmt.fr_number(p.staff_cip_etp),  # type: ignore[arg-type]
        premises=est.premises or "",
        posts_count=fmt.fr_number(p.insertion_posts_count),  # type: ignore[arg-type]
        posts_etp=fmt.fr_number(p.insertion_posts_etp),  # type: ignore[arg-type]
        insertion_targets=p.insertion_targets or "",
        start_date=fmt.fr_date(start),
        end_date=fmt.fr_date(end),
        duration=rules.duration_text(start, end),
        max_years=fmt.fr_number(max_years),
        annex=FinancialAnnex(
            period=f"du {fmt.fr_date(start)} au {fmt.fr_date(year_end)}",
            siae_kind_label=f"{siae.kind.label} ({siae.kind.value})",
            socle_unit=fmt.fr_money(aid.socle.valeur),
            socle_source=aid.socle.source,
            etp=fmt.fr_number(aid.etp),
            socle_total=fmt.fr_money(aid.socle_total),
            modulated_percent=fmt.fr_percent(aid.modulated_share),
            cap_percent=fmt.fr_percent(aid.cap.valeur),
            cap_source=aid.cap.source,
            modulated_total=fmt.fr_money(aid.modulated_total),
            total=fmt.fr_money(aid.total),
            total_words=fmt.money_words(aid.total),
        ),
    )


def build_implantation_context(session: Session, project_id: int, cfg: ProcessConfig) -> ImplantationContext:
    data = ProjectData(session, project_id, cfg)
    p, est = data.project, data.establishment
    spec = cfg.documents.document[DocumentKind.IMPLANTATION_CONTRACT]
    check = Checker(SHORT_LABEL[DocumentKind.IMPLANTATION_CONTRACT])
    parties = data.parties(check)
    data.check_party_names(check, DocumentKind.IMPLANTATION_CONTRACT)
    check.need(p.activity, "la nature des activités")
    check.need(p.implantation_start, "la date de début du contrat d'implantation")
    check.need(p.implantation_end, "la date de fin du contrat d'implantation")
    check.need(est.premises, "les locaux mis à disposition dans l'établissement")
    check.need(est.security_rules, "les règles de sécurité de l'établissement")
    check.need(p.accompaniment_plan, "l'accompagnement individuel des opérateurs")
    check.need(p.work_schedule, "les horaires de travail des opérateurs")
    max_years = spec.duree_max_annees
    check.need(max_years, "la durée maximale du contrat d'implantation dans documents.toml")
    start, end = p.implantation_start, p.implantation_end
    if start and end and max_years:
        check.refuse(
            rules.duration_problem(
                start, end, max_years, "durée du contrat d'implantation", spec.base_legale[0]
            )
        )
    pay = startup = None
    if start is not None:
        pay = data.rule(check, lambda: data.pay_info(start))
        startup = data.rule(
            check, lambda: rules.amount_on(cfg.money.aide_au_demarrage_atigip, start, "aide au démarrage")
        )
    check.done()
    assert parties is not None and start and end and max_years and pay and startup
    renewal = (
        "À son échéance, le contrat est renouvelé par tacite reconduction pour une durée identique, dans la limite "
        f"de {max_years} ans par période, sauf dénonciation par l'une des parties."
        if p.implantation_tacit_renewal
        else "Le contrat n'est pas renouvelé tacitement : son renouvellement fait l'objet d'un nouveau contrat "
        "exprès signé des parties."
    )
    return ImplantationContext(
        **data.common(DocumentKind.IMPLANTATION_CONTRACT, parties),
        establishment=data.establishment_party(),
        siae=data.siae_party(),
        activity=p.activity or "",
        start_date=fmt.fr_date(start),
        end_date=fmt.fr_date(end),
        duration=rules.duration_text(start, end),
        max_years=fmt.fr_number(max_years),
        renewal_clause=renewal,
        premises=est.premises or "",
        security_rules=est.security_rules or "",
        accompaniment_plan=p.accompaniment_plan or "",
        work_schedule=p.work_schedule or "",
        pay=pay,
        startup_aid=fmt.fr_money(startup.valeur),
        startup_aid_words=fmt.money_words(startup.valeur),
        startup_aid_source=startup.source,
    )


class OperateurData:
    """An opérateur under CEP; the identity row is read here, at rendering, and nowhere else."""

    def __init__(self, session: Session, data: ProjectData, operateur_id: str, check: Checker) -> None:
        op = session.get(Operateur, operateur_id)
        if op is None or op.project_id != data.project.id:
            raise DocumentDataError([f"{check.label} : opérateur {operateur_id} inconnu pour ce projet"])
        self.op = op
        if op.status != OperateurStatus.ASSIGNED:
            check.refuse(
                f"l'opérateur {op.id} a le statut « {op.status.label} » : un CEP n'est établi qu'après "
                f"affectation (statut « {OperateurStatus.ASSIGNED.label} »)"
            )
        self.identity = session.get(OperateurIdentity, operateur_id)
        check.need(self.identity, f"l'identité de l'opérateur {op.id}")
        check.need(op.contract_start, "la date de début d'activité")
        check.need(op.weekly_hours, "la durée hebdomadaire de travail")
        check.need(op.post_title, "l'intitulé du poste")
        self.hourly_rate: Decimal | None = None
        self.floor = None
        if (start := op.contract_start) is not None:
            self.floor = data.rule(check, lambda: rules.hourly_pay_floor(data.cfg.money, start))
            if self.floor is not None:
                self.hourly_rate = _dec(op.hourly_rate) if op.hourly_rate is not None else self.floor.floor
                check.refuse(rules.hourly_rate_problem(self.hourly_rate, self.floor))

    def worker_name(self) -> str:
        assert self.identity is not None
        return f"{self.identity.first_name} {self.identity.last_name}"


def build_cep_context(session: Session, project_id: int, operateur_id: str, cfg: ProcessConfig) -> CepContext:
    data = ProjectData(session, project_id, cfg)
    p = data.project
    check = Checker(f"{SHORT_LABEL[DocumentKind.CEP]} {operateur_id}")
    parties = data.parties(check)
    data.check_party_names(check, DocumentKind.CEP)
    od = OperateurData(session, data, operateur_id, check)
    op = od.op
    check.need(op.missions, "la description du poste et des missions")
    check.need(op.rome_code, "le code ROME du poste")
    check.need(op.particular_risks, "les risques particuliers du poste (ou la mention qu'il n'y en a pas)")
    check.need(p.work_schedule, "les horaires de travail")
    check.need(p.accompaniment_plan, "l'accompagnement socio-professionnel assuré par la SIAE")
    trial_rules = cfg.contracts.periode_essai
    bound = trial_days = None
    if op.contract_start is not None:
        bound = rules.trial_period_bound(op.contract_start, op.planned_duration_months, trial_rules)
        trial_days = op.trial_days if op.trial_days is not None else bound.max_days
        check.refuse(rules.trial_days_problem(trial_days, bound))
    check.done()
    assert parties is not None and data.siae is not None and od.identity is not None
    assert op.contract_start and bound and trial_days is not None and od.hourly_rate is not None
    parties = Parties(
        parties.departement, parties.disp_name, parties.siae, parties.establishment, od.worker_name()
    )
    reimbursement = cfg.contracts.remboursement_remuneration.get(data.siae.kind)
    contributions = (
        "Les cotisations sociales afférentes à la rémunération sont calculées aux taux applicables au travail des "
        "personnes détenues ; l'établissement les précompte, les verse à l'URSSAF et en porte le montant sur chaque "
        "bulletin de paie."
    )
    if reimbursement is not None:
        contributions += " " + reimbursement.texte
    return CepContext(
        **data.common(DocumentKind.CEP, parties),
        operateur_id=op.id,
        siae=data.siae_party(),
        establishment=data.establishment_ref(),
        worker=WorkerIdentity(
            first_name=od.identity.first_name,
            last_name=od.identity.last_name,
            ecrou_number=od.identity.ecrou_number,
            birth_date=fmt.fr_date(od.identity.birth_date),
        ),
        start_date=fmt.fr_date(op.contract_start),
        trial_days=fmt.fr_number(trial_days),
        trial_end=fmt.fr_date(rules.trial_end(op.contract_start, trial_days)) if trial_days else "sans objet",
        trial_rule=bound.rule,
        trial_renewal=trial_rules.clause_renouvellement,
        notice_hours=fmt.fr_number(trial_rules.delai_prevenance_heures),
        post_title=op.post_title or "",
        missions=op.missions or "",
        rome_code=op.rome_code or "",
        particular_risks=op.particular_risks or "",
        weekly_hours=fmt.fr_number(op.weekly_hours),  # type: ignore[arg-type]
        work_schedule=p.work_schedule or "",
        hourly_rate=fmt.fr_money(od.hourly_rate),
        hourly_rate_words=fmt.money_words(od.hourly_rate),
        pay=data.pay_info(op.contract_start),
        contributions=contributions,
        accompaniment_plan=p.accompaniment_plan or "",
    )


def build_cep_annex_context(
    session: Session, project_id: int, operateur_id: str, cfg: ProcessConfig
) -> CepAnnexContext:
    data = ProjectData(session, project_id, cfg)
    p, est = data.project, data.establishment
    check = Checker(f"{SHORT_LABEL[DocumentKind.CEP_ANNEX]} {operateur_id}")
    parties = data.parties(check)
    data.check_party_names(check, DocumentKind.CEP_ANNEX)
    od = OperateurData(session, data, operateur_id, check)
    op = od.op
    check.need(p.reimbursement_terms, "les modalités de remboursement (périodicité et délai)")
    check.need(est.security_rules, "les règles de sécurité de l'établissement")
    check.need(est.premises, "les locaux mis à disposition dans l'établissement")
    reimbursement = None
    if data.siae is not None:
        reimbursement = cfg.contracts.remboursement_remuneration.get(data.siae.kind)
        if reimbursement is None:
            check.refuse(
                f"aucune règle de remboursement pour une SIAE de type {data.siae.kind.value} dans contrats.toml"
            )
    check.done()
    assert parties is not None and od.identity is not None and reimbursement is not None
    assert op.contract_start is not None and od.hourly_rate is not None
    parties = Parties(
        parties.departement, parties.disp_name, parties.siae, parties.establishment, od.worker_name()
    )
    return CepAnnexContext(
        **data.common(DocumentKind.CEP_ANNEX, parties),
        operateur_id=op.id,
        establishment=data.establishment_party(),
        siae=data.siae_party(),
        worker=Worker(
            first_name=od.identity.first_name,
            last_name=od.identity.last_name,
            ecrou_number=od.identity.ecrou_number,
        ),
        cep_start=fmt.fr_date(op.contract_start),
        post_title=op.post_title or "",
        weekly_hours=fmt.fr_number(op.weekly_hours),  # type: ignore[arg-type]
        hourly_rate=fmt.fr_money(od.hourly_rate),
        reimbursement_rule=reimbursement.texte,
        reimbursement_source=reimbursement.source,
        reimbursement_terms=p.reimbursement_terms or "",
        security_rules=est.security_rules or "",
        premises=est.premises or "",
    )
