"""Annex to the CEP: the tripartite convention SIAE, établissement, opérateur (L412-11)."""

from sqlmodel import Session

from implantation.config.schema import ProcessConfig
from implantation.documents import formatting as fmt
from implantation.documents.builders.common import open_operateur_document
from implantation.documents.contexts import CepAnnexContext, Worker
from implantation.enums import DocumentKind


def build_cep_annex_context(
    session: Session, project_id: int, operateur_id: str, cfg: ProcessConfig
) -> CepAnnexContext:
    start_doc = open_operateur_document(session, project_id, operateur_id, cfg, DocumentKind.CEP_ANNEX)
    data, check, parties, operateur = start_doc.data, start_doc.check, start_doc.parties, start_doc.operateur
    project, establishment, op = data.project, data.establishment, operateur.op
    check.need(project.reimbursement_terms, "les modalités de remboursement (périodicité et délai)")
    check.need(establishment.security_rules, "les règles de sécurité de l'établissement")
    check.need(establishment.premises, "les locaux mis à disposition dans l'établissement")
    reimbursement = data.reimbursement(check)
    check.done()
    assert parties is not None and operateur.identity is not None and reimbursement is not None
    assert op.contract_start is not None and operateur.hourly_rate is not None
    parties = parties.with_worker(operateur.worker_name())
    context = CepAnnexContext(
        **data.common(DocumentKind.CEP_ANNEX, parties),
        operateur_id=op.id,
        establishment=data.establishment_party(),
        siae=data.siae_party(),
        worker=Worker(
            first_name=operateur.identity.first_name,
            last_name=operateur.identity.last_name,
            ecrou_number=operateur.identity.ecrou_number,
        ),
        cep_start=fmt.fr_date(op.contract_start),
        post_title=op.post_title or "",
        weekly_hours=fmt.fr_number(op.weekly_hours),  # type: ignore[arg-type]
        hourly_rate=fmt.fr_money(operateur.hourly_rate),
        reimbursement_rule=reimbursement.texte,
        reimbursement_source=reimbursement.source,
        reimbursement_terms=project.reimbursement_terms or "",
        non_payment=cfg.contracts.annexe_cep.defaut_paiement,
        non_payment_source=cfg.contracts.annexe_cep.source_defaut_paiement,
        health_safety=cfg.contracts.annexe_cep.hygiene_securite,
        health_safety_source=cfg.contracts.annexe_cep.source_hygiene_securite,
        security_rules=establishment.security_rules or "",
        premises=establishment.premises or "",
    )
    return data.finish(context)
