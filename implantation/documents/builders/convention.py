"""Convention IAE and its first annexe financière."""

from datetime import timedelta

from sqlmodel import Session

from implantation import contract_rules as rules
from implantation.config.schema import ProcessConfig
from implantation.documents import formatting as fmt
from implantation.documents.builders.common import SHORT_LABEL, Checker, ProjectData, budget_items
from implantation.documents.contexts import ConventionContext, FinancialAnnex, MeansRow
from implantation.eligibility import implantation_kind_problem
from implantation.enums import DocumentKind, Role, SiaeKind


def build_convention_context(session: Session, project_id: int, cfg: ProcessConfig) -> ConventionContext:
    data = ProjectData(session, project_id, cfg)
    project, establishment = data.project, data.establishment
    spec = cfg.documents.document[DocumentKind.CONVENTION]
    impl_spec = cfg.documents.document[DocumentKind.IMPLANTATION_CONTRACT]
    check = Checker(SHORT_LABEL[DocumentKind.CONVENTION])
    parties = data.parties(check)
    data.check_party_names(check, DocumentKind.CONVENTION)
    siae = data.siae
    if siae is not None:
        check.refuse(implantation_kind_problem(siae.kind, cfg.eligibility))
    check.need(project.activity, "l'activité du projet")
    check.need(project.workshops_count, "le nombre d'ateliers")
    check.need(project.accompaniment_plan, "l'accompagnement des personnes détenues sous CEP")
    check.need(project.partners, "les partenaires du projet")
    check.need(project.implantation_start, "la date de début du contrat d'implantation")
    check.need(project.implantation_end, "la date de fin du contrat d'implantation")
    check.need(project.staff_eti_etp, "l'effectif d'encadrants techniques d'insertion (ETP)")
    check.need(project.staff_cip_etp, "l'effectif de conseillers en insertion professionnelle (ETP)")
    check.need(establishment.premises, "les locaux mis à disposition dans l'établissement")
    check.need(project.insertion_posts_count, "le nombre de postes d'insertion")
    check.need(project.insertion_posts_etp, "le nombre de postes d'insertion (ETP)")
    check.need(project.insertion_targets, "les engagements et indicateurs d'insertion")
    check.need(project.convention_start, "la date de début de la convention")
    check.need(project.convention_end, "la date de fin de la convention")
    max_years = spec.duree_max_annees
    check.need(max_years, "la durée maximale de la convention dans documents.toml")
    if project.convention_start and project.convention_end and max_years:
        check.refuse(
            rules.duration_problem(
                project.convention_start,
                project.convention_end,
                max_years,
                "durée de la convention",
                spec.base_legale[0],
            )
        )
    # The first year's aid: the amount in force, printed as a hypothesis while it may still be revalued.
    aid = data.aide_au_poste(check, project.convention_start)
    _, own_resources = budget_items(check, project.budget_lines)
    startup = None
    if (first_day := project.convention_start) is not None:
        startup = data.rule(check, lambda: data.book.figure("aide_au_demarrage_atigip", first_day))
    check.done()
    assert startup is not None
    assert parties is not None and siae is not None and aid is not None and parties.departement is not None
    start, end = project.convention_start, project.convention_end
    assert start is not None and end is not None and max_years is not None
    year_end = min(end, rules.add_years(start, 1) - timedelta(days=1))
    clauses = cfg.contracts.contrat_implantation
    eti, cip = project.staff_eti_etp, project.staff_cip_etp
    assert eti is not None and cip is not None
    ep_means = clauses.moyens_etablissement + (
        " " + clauses.moyens_etablissement_aci if siae.kind == SiaeKind.ACI else ""
    )
    means = [
        MeansRow(label="Encadrants techniques d'insertion (ETP)", detail=fmt.fr_number(eti)),
        MeansRow(label="Conseillers en insertion professionnelle (ETP)", detail=fmt.fr_number(cip)),
        MeansRow(label="Locaux mis à disposition par l'établissement", detail=establishment.premises or ""),
        MeansRow(label="Apports de l'établissement", detail=f"{ep_means} ({clauses.source_moyens})"),
        MeansRow(
            label="Aide au poste (DREETS), sollicitée",
            detail=f"{fmt.fr_money(aid.total)} par an, voir l'annexe financière",
        ),
        MeansRow(
            label="Aide au démarrage (ATIGIP), sollicitée",
            detail=f"{fmt.fr_money(startup.value)}, versée après la signature du contrat d'implantation "
            f"({startup.note})",
        ),
        *[
            MeansRow(label=r.label, detail=f"{fmt.fr_money(r.amount)} (budget prévisionnel)")
            for r in own_resources
        ],
    ]
    state = parties.signers[Role.PREFET]
    principal = next((s for s in state.accepted if not s.act), None)
    delegate = state.printed if state.printed is not None and state.printed.act else None
    representative = f"{principal.name}, {principal.office}" if principal else ""
    if delegate is not None:
        representative += f", et par délégation {delegate.name}, {delegate.office} ({delegate.delegation})"
    disp_signer = parties.printed(Role.DISP)
    assert disp_signer is not None
    context = ConventionContext(
        **data.common(DocumentKind.CONVENTION, parties),
        state_representative=representative.lstrip(", "),
        means=means,
        disp=parties.disp_name or "",
        disp_representative=disp_signer.printed,
        siae=data.siae_party(),
        establishment=data.establishment_ref(),
        departement=f"{parties.departement.nom} ({establishment.departement})",
        activity=project.activity or "",
        workshops_count=fmt.fr_number(project.workshops_count),  # type: ignore[arg-type]
        accompaniment_plan=project.accompaniment_plan or "",
        partners=project.partners or "",
        implantation_contract=(
            f"{impl_spec.titre} conclu entre la SIAE et l'établissement {establishment.name} pour la période du "
            f"{fmt.fr_date(project.implantation_start)} au {fmt.fr_date(project.implantation_end)}"
        ),
        posts_count=fmt.fr_number(project.insertion_posts_count),  # type: ignore[arg-type]
        posts_etp=fmt.fr_number(project.insertion_posts_etp),  # type: ignore[arg-type]
        insertion_targets=project.insertion_targets or "",
        start_date=fmt.fr_date(start),
        end_date=fmt.fr_date(end),
        duration=rules.duration_text(start, end),
        max_years=fmt.fr_number(max_years),
        annex=FinancialAnnex(
            period=f"du {fmt.fr_date(start)} au {fmt.fr_date(year_end)}",
            siae_kind_label=f"{siae.kind.label} ({siae.kind.value})",
            socle_unit=fmt.fr_money(aid.socle.value),
            socle_source=aid.socle.note,
            etp=fmt.fr_number(aid.etp),
            socle_total=fmt.fr_money(aid.socle_total),
            modulated_percent=fmt.fr_percent(aid.modulated_share),
            cap_percent=fmt.fr_percent(aid.cap.value),
            cap_source=aid.cap.note,
            modulated_total=fmt.fr_money(aid.modulated_total),
            total=fmt.fr_money(aid.total),
            total_words=fmt.money_words(aid.total),
        ),
    )
    return data.finish(context)
