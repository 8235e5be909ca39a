"""Templates against their context models, and the content of every rendered document."""

import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from lxml import etree
from sqlmodel import Session, col, select

from implantation.config.schema import ProcessConfig
from implantation.db.models import DocumentRecord, ImplantationProject, Operateur, Person, Siae
from implantation.documents import contexts, render
from implantation.documents.builders import (
    DocumentDataError,
    build_cep_context,
    build_convention_context,
)
from implantation.documents.render import (
    TEMPLATE_FILES,
    LibreOfficeError,
    model_paths,
    template_path,
    template_paths,
    warm_templates,
)
from implantation.documents.service import generate_pack, generate_pack_with_pdf, project_dir
from implantation.enums import DocumentKind, OperateurStatus, SiaeKind
from implantation.settings import PROJECT_ROOT, Settings

NBSP = "\u00a0"
TEMPLATES = PROJECT_ROOT / "document_templates"
MODELS = {
    DocumentKind.DUI: contexts.DuiContext,
    DocumentKind.CONVENTION: contexts.ConventionContext,
    DocumentKind.IMPLANTATION_CONTRACT: contexts.ImplantationContext,
    DocumentKind.CEP: contexts.CepContext,
    DocumentKind.CEP_ANNEX: contexts.CepAnnexContext,
}


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_template_uses_exactly_what_its_context_provides(kind: DocumentKind) -> None:
    used = template_paths(template_path(TEMPLATES, kind))
    provided = model_paths(MODELS[kind])
    assert used - provided == set(), "variables non définies par le modèle"
    assert provided - used == set(), "champs du modèle jamais utilisés par le gabarit"


def test_template_analysis_sees_nested_and_loop_paths() -> None:
    used = template_paths(TEMPLATES / TEMPLATE_FILES[DocumentKind.DUI])
    assert {"charges[].label", "visas[]", "signatures[].party", "siae.naf_code"} <= used
    assert "charges" not in used


def _pack(session: Session, project_id: int, cfg: ProcessConfig, settings: Settings, new_operateur) -> dict:  # type: ignore[no-untyped-def]
    op_id = new_operateur(session, project_id)
    records = generate_pack(session, project_id, cfg, settings)
    folder = project_dir(settings, "IMP-2026-0001")
    return {
        "op": op_id,
        "records": records,
        "folder": folder,
        "by_kind": {r.kind: folder / r.filename for r in records},
    }


def test_every_document_states_its_mandatory_content(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings, new_operateur, read_docx
) -> None:
    pack = _pack(session, project_id, cfg, settings, new_operateur)
    assert [r.kind for r in pack["records"]] == [
        DocumentKind.DUI,
        DocumentKind.CONVENTION,
        DocumentKind.IMPLANTATION_CONTRACT,
        DocumentKind.CEP,
        DocumentKind.CEP_ANNEX,
    ]
    text = {kind: read_docx(path) for kind, path in pack["by_kind"].items()}

    cep = text[DocumentKind.CEP]
    for mention in [
        "Régime de travail",
        "durée indéterminée",
        "fin de la détention",
        "L412-16",
        "L412-15, 2°",
        "insuffisance professionnelle",
        "classé au travail le 1er février 2026",
        "revalorisée de plein droit",
        "L382-39",
        "R382-132",
        "Clause de renouvellement",
        "1er mars 2026",
        "période d'essai de 31 jours calendaires",
        "s'achève le 31 mars 2026",
        "La période d'essai n'est pas renouvelable.",
        "Agent de reconditionnement informatique",
        "Code ROME : I1401",
        "Diagnostic, nettoyage",
        "Manipulation de composants électriques",
        "La durée hebdomadaire de travail est de 24 h",
        "pause de 30 minutes",
        "jours fériés",
        "astreinte",
        f"rémunération horaire brute de 5,41{NBSP}€ (cinq euros et quarante et un centimes)",
        f"45{NBSP}% du SMIC",
        f"12,02{NBSP}€",
        "Cotisations sociales",
        "Accompagnement socio-professionnel",
        "Entretien individuel mensuel avec la CIP",
        "avenant",
        "suspendu",
        "Karim Durand",
        "45872",
        "Hélène Roussel, présidente",
        "Vu le code pénitentiaire, notamment son article R412-25",
        "Destinataires",
    ]:
        assert mention in cep, mention

    annex = text[DocumentKind.CEP_ANNEX]
    for mention in [
        "Obligations de l'établissement",
        "Obligations de la SIAE",
        "Obligations de l'opérateur",
        "rembourse à l'établissement les rémunérations nettes",
        "Facture mensuelle",
        "L412-11",
        "Claire Martin, chef d'établissement",
        "Karim Durand",
    ]:
        assert mention in annex, mention
    assert annex.count("Date, signature et cachet") == 3

    convention = text[DocumentKind.CONVENTION]
    for mention in [
        "L'État, représenté par Étienne Guyot, préfet de la Gironde, et par délégation Nadia Lemoine, directrice "
        "départementale de l'emploi, du travail et des solidarités de la Gironde (arrêté préfectoral n° "
        "33-2026-0104 du 4 janvier 2026) ;",
        "Direction interrégionale des services pénitentiaires de Bordeaux, représentée par Paul Renaud, "
        "directeur interrégional des services pénitentiaires de Bordeaux ;",
        "Vu le code pénitentiaire, notamment ses articles L412-2 et suivants, D211-34 et R412-1 et suivants ;",
        "Direction interrégionale des services pénitentiaires de Bordeaux",
        "Reconditionnement de matériel informatique",
        "10 équivalents temps plein (ETP)",
        "12 postes",
        "Contrat d'implantation conclu entre la SIAE",
        "60 % de sorties dynamiques",
        "durée de 3 ans, du 1er mars 2026 au 28 février 2029",
        "ne peut excéder 3 ans",
        "Annexe financière",
        f"23{NBSP}921,00{NBSP}€",
        f"239{NBSP}210,00{NBSP}€",
        f"11{NBSP}960,50{NBSP}€",
        f"251{NBSP}170,50{NBSP}€",
        "deux cent cinquante et un mille cent soixante-dix euros et cinquante centimes",
        "rapport d'activité",
        "ATIGIP",
        "DGEFP",
    ]:
        assert mention in convention, mention
    assert convention.count("Date, signature et cachet") == 3

    implantation = text[DocumentKind.IMPLANTATION_CONTRACT]
    for mention in [
        "Claire Martin",
        "Reconditionnement de matériel informatique",
        "prend effet le 1er mars 2026",
        "28 février 2033",
        "7 ans",
        "tacite reconduction",
        "Atelier de 400 m²",
        "Outils inventoriés",
        "avenant",
        f"3{NBSP}000,00{NBSP}€ (trois mille euros)",
        f"5,41{NBSP}€",
        "DDETS de la Gironde",
        "D412-22",
        "12 postes d'insertion, soit 10 équivalents temps plein",
        "du lundi au vendredi, de 8 h 00 à 15 h 00",
        "motif d'intérêt général",
        "assurance couvrant sa responsabilité civile",
        "R412-82",
        "revalorisée de plein droit",
    ]:
        assert mention in implantation, mention

    dui = text[DocumentKind.DUI]
    for mention in [
        "73282932000074",
        "8899B",
        "3016",
        "Association loi 1901",
        "Marc Olivier",
        "Hélène Roussel",
        "Reconditionnement de matériel informatique",
        "Encadrants techniques d'insertion (ETI)",
        "0,5",
        "France Travail, Mission locale",
        # Charges: net pay of 10 ETP × 1 350 h × 5,41 € (73 035,00 € less the worker's old-age contributions:
        # 67 703,44 €) + 180 000 + 30 000. Resources: the aids requested, then the council.
        f"67{NBSP}703,44{NBSP}€",
        f"277{NBSP}703,44{NBSP}€",
        "Aide au poste (DREETS), sollicitée (hypothèse : montant en vigueur au 06/12/2026",
        f"274{NBSP}170,50{NBSP}€",
        f"Besoin de financement de 3{NBSP}532,94{NBSP}€ la première année, aides sollicitées comprises",
    ]:
        assert mention in dui, mention
    for document in text.values():  # the city once (the address does not repeat it), no demonstration
        assert "Gradignan, Gradignan" not in document
        assert "DÉMONSTRATION" not in document


def test_cep_refuses_out_of_bound_values_with_the_rule(
    session: Session, project_id: int, cfg: ProcessConfig, new_operateur
) -> None:
    op = new_operateur(session, project_id, trial_days=40, hourly_rate=Decimal("5.40"))
    with pytest.raises(DocumentDataError) as caught:
        build_cep_context(session, project_id, op, cfg)
    text = str(caught.value)
    assert "période d'essai de 40 jours dépasse le maximum de 31 jours" in text and "R412-28" in text
    assert "inférieur au plancher de 5.41 €" in text and "D412-64" in text


def test_convention_and_contract_durations_are_bounded(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings
) -> None:
    from datetime import date

    project = session.get(ImplantationProject, project_id)
    assert project is not None
    project.convention_end = date(2029, 3, 1)
    project.implantation_end = date(2033, 3, 1)
    project.modulated_share = Decimal("0.08")
    session.add(project)
    with pytest.raises(DocumentDataError) as caught:
        generate_pack(session, project_id, cfg, settings)
    problems = caught.value.problems
    assert (
        "Convention IAE : durée de la convention : la durée dépasse le maximum de 3 ans (Code du travail, article L5132-2)"
        in problems
    )
    assert any(
        p.startswith("Contrat d'implantation : durée du contrat d'implantation") and "7 ans" in p
        for p in problems
    )
    assert any("part modulée de 8 % dépasse le plafond de 5 %" in p for p in problems)


def test_missing_values_are_all_listed_and_nothing_is_written(
    session: Session, cfg: ProcessConfig, settings: Settings, new_project, new_operateur
) -> None:
    project_id = new_project(session, complete=False)
    new_operateur(session, project_id, rome_code=None, weekly_hours=None)
    with pytest.raises(DocumentDataError) as caught:
        generate_pack(session, project_id, cfg, settings)
    problems = caught.value.problems
    op_id = session.exec(select(Operateur.id)).one()
    for expected in [
        "Convention IAE : il manque le nombre de postes d'insertion (ETP)",
        "Convention IAE : il manque la date de fin de la convention",
        "DUI : il manque le nombre de postes d'insertion (ETP)",
        "DUI : il manque le code NAF de la SIAE",
        f"CEP {op_id} : il manque le code ROME du poste",
        f"CEP {op_id} : il manque la durée hebdomadaire de travail",
        f"Annexe au CEP {op_id} : il manque la durée hebdomadaire de travail",
    ]:
        assert any(p.startswith(expected + " (à saisir : ") for p in problems), expected
    # Each missing value says where to enter it (dossier key and gate-form field, or CSV column).
    assert (
        "Convention IAE : il manque la date de fin de la convention (à saisir : clé « convention_fin » de "
        "« siae projet completer », ou champ « convention_fin » du formulaire de l'étape 4)"
    ) in problems
    assert (
        f"CEP {op_id} : il manque la durée hebdomadaire de travail (à saisir : colonne « heures_hebdomadaires » de « siae operateurs importer »)"
        in problems
    )
    assert all("à saisir" in p for p in problems if " : il manque " in p)
    assert str(caught.value).startswith("Documents impossibles à produire :\n- ")
    assert session.exec(select(DocumentRecord)).all() == []
    assert not settings.documents_dir.exists()


def test_hostile_input_renders_literally_in_valid_xml(
    session: Session, cfg: ProcessConfig, settings: Settings, new_project, new_operateur, read_docx
) -> None:
    hostile = 'Dupont & Fils <Atelier> "{{ 7*7 }}"'
    project_id = new_project(session, siae_name=hostile)
    new_operateur(session, project_id, missions="Tri & <colisage> {% if true %}x{% endif %}\x07\x0c fin")
    records = generate_pack(session, project_id, cfg, settings)
    folder = project_dir(settings, "IMP-2026-0001")
    for record in records:
        path = folder / record.filename
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.endswith(".xml"):
                    etree.fromstring(archive.read(name))  # raises on invalid XML
        Document(str(path))
        text = read_docx(path)
        assert hostile in text
        # Checked where the expression stands: ids, dates and SIRETs may hold "49" elsewhere.
        assert '<Atelier> "49"' not in text
    cep = read_docx(folder / records[3].filename)
    assert "Tri & <colisage> {% if true %}x{% endif %} fin" in cep


def test_cep_only_for_assigned_operateurs_and_files_use_the_opaque_id(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings, new_operateur
) -> None:
    assigned = new_operateur(session, project_id, last_name="Lefebvre", first_name="Yanis")
    new_operateur(session, project_id, status=OperateurStatus.CLASSIFIED, last_name="Moreau")
    records = generate_pack(session, project_id, cfg, settings)
    per_operateur = [r for r in records if r.operateur_id is not None]
    assert {r.operateur_id for r in per_operateur} == {assigned}
    assert sorted(r.filename for r in per_operateur) == [
        f"annexe_cep_IMP-2026-0001_{assigned}_v1.docx",
        f"cep_IMP-2026-0001_{assigned}_v1.docx",
    ]
    for r in records:
        row = " ".join(str(v) for v in r.model_dump().values())
        assert "Lefebvre" not in row and "Moreau" not in row
    assert len(records[0].sha256) == 64


def test_cep_for_an_operateur_not_assigned_is_refused(
    session: Session, project_id: int, cfg: ProcessConfig, new_operateur
) -> None:
    op = new_operateur(session, project_id, status=OperateurStatus.CLASSIFIED)
    with pytest.raises(DocumentDataError, match="un CEP n'est établi qu'après affectation"):
        build_cep_context(session, project_id, op, cfg)


def test_pdf_requested_without_libreoffice_is_a_clear_french_refusal(
    session: Session, project_id: int, cfg: ProcessConfig, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "d", soffice_path=str(tmp_path / "absent" / "soffice"))
    session.commit()
    with pytest.raises(LibreOfficeError, match="LibreOffice \\(soffice\\) est introuvable"):
        generate_pack_with_pdf(session.get_bind(), project_id, cfg, settings)  # type: ignore[arg-type]
    assert session.exec(select(DocumentRecord)).all() == []


def test_convention_context_is_built_from_the_database(
    session: Session, project_id: int, cfg: ProcessConfig
) -> None:
    context = build_convention_context(session, project_id, cfg)
    assert context.annex.total == f"251{NBSP}170,50{NBSP}€"
    # The guide's matrix: the préfet signs, or the DDETS for him: one block for the State, each person named,
    # the delegate with the act that gives the delegation.
    assert [(s.party, s.signatory) for s in context.signatures] == [
        (
            "Pour l'État : Étienne Guyot, préfet de la Gironde",
            "Par délégation : Nadia Lemoine, directrice départementale de l'emploi, du travail et des "
            "solidarités de la Gironde (arrêté préfectoral n° 33-2026-0104 du 4 janvier 2026)",
        ),
        ("Pour la SIAE Atelier Solidaire Garonne", "Hélène Roussel, présidente"),
        (
            "Pour la Direction interrégionale des services pénitentiaires de Bordeaux",
            "Paul Renaud, directeur interrégional des services pénitentiaires de Bordeaux",
        ),
    ]
    assert context.recipients[-2:] == ["ATIGIP", "DGEFP"]


def test_the_convention_is_refused_until_the_prefet_and_the_disp_signatory_are_named(
    session: Session, cfg: ProcessConfig, new_project
) -> None:
    project_id = new_project(session)
    for person in session.exec(select(Person).where(col(Person.signatory).is_(True))):
        person.signatory = False
        session.add(person)
    session.flush()
    with pytest.raises(DocumentDataError) as refused:
        build_convention_context(session, project_id, cfg)
    problems = refused.value.problems
    assert any(
        "il manque le préfet signataire (nom et qualité) (à saisir : « siae ajouter personne --role prefet"
        in p
        for p in problems
    )
    assert any("il manque le signataire de la DISP (nom et qualité)" in p for p in problems)


def test_convention_cites_the_article_of_its_siae_kind_only(
    session: Session, project_id: int, cfg: ProcessConfig
) -> None:
    aci = build_convention_context(session, project_id, cfg).visas
    assert any("R5132-28" in v for v in aci) and not any("R5132-2 " in v for v in aci)
    siae = session.get(Siae, session.get(ImplantationProject, project_id).siae_id)  # type: ignore[union-attr]
    siae.kind = SiaeKind.EI  # type: ignore[union-attr]
    session.add(siae)
    session.flush()
    ei = build_convention_context(session, project_id, cfg).visas
    assert "Vu le code du travail, notamment son article R5132-2 ;" in ei
    assert not any("R5132-28" in v for v in ei)


def test_prepared_templates_leave_nothing_to_prepare_when_a_pack_renders(
    session: Session, project_id: int, cfg: ProcessConfig, settings: Settings, new_operateur
) -> None:
    """What the runner's forkserver prepares is exactly what a rendering asks for: after it, a whole pack
    (the five kinds) cleans up and compiles no part of a template again."""
    new_operateur(session, project_id)
    render._Template.patched.clear()
    render._ENV._compiled.cache_clear()
    assert warm_templates(TEMPLATES) == len(TEMPLATE_FILES)
    cleaned, compiled = dict(render._Template.patched), render._ENV._compiled.cache_info().misses
    records = generate_pack(session, project_id, cfg, settings)
    assert {r.kind for r in records} == set(DocumentKind)
    assert render._Template.patched == cleaned
    assert render._ENV._compiled.cache_info().misses == compiled


def test_a_template_that_cannot_be_prepared_is_left_to_its_rendering(tmp_path: Path) -> None:
    """A damaged template (not a .docx, invalid Jinja, invalid XML) does not stop the others, nor the
    forkserver that prepares them: the rendering that needs it reports it, as before."""
    for name in TEMPLATE_FILES.values():
        (tmp_path / name).write_bytes((TEMPLATES / name).read_bytes())
    (tmp_path / TEMPLATE_FILES[DocumentKind.DUI]).write_bytes(b"pas un document Word")
    broken = Document(str(TEMPLATES / TEMPLATE_FILES[DocumentKind.CEP]))
    broken.add_paragraph("{{ operateur.missions ")
    broken.save(str(tmp_path / TEMPLATE_FILES[DocumentKind.CEP]))
    source = TEMPLATES / TEMPLATE_FILES[DocumentKind.CEP_ANNEX]
    with zipfile.ZipFile(source) as good, zipfile.ZipFile(tmp_path / source.name, "w") as bad:
        for item in good.infolist():
            content = good.read(item)
            bad.writestr(item, b"<w:document" if item.filename == "word/document.xml" else content)
    assert warm_templates(tmp_path) == len(TEMPLATE_FILES) - 3
    assert warm_templates(tmp_path / "absent") == 0
