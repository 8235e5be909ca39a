"""Builds the five stage-5 .docx templates with python-docx.

Run ``python document_templates/build_templates.py`` after changing a clause here; the .docx files are
committed too, so that a jurist can also edit them directly in Word or LibreOffice. Each Jinja tag is
written inside a single run, which docxtpl needs; the fixed wording is ordinary editable text.
"""

from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

HERE = Path(__file__).resolve().parent


class Builder:
    def __init__(self, title_tag: str = "{{ title }}") -> None:
        self.doc = Document()
        style = self.doc.styles["Normal"]
        style.font.name = "Liberation Serif"
        style.font.size = Pt(11)
        for section in self.doc.sections:
            section.left_margin = section.right_margin = Cm(2.2)
            footer = section.footer.paragraphs[0]
            footer.text = "Projet {{ project_reference }} — {{ title }} — émis par : {{ author }}"
            footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self.article_number = 0
        heading = self.doc.add_heading(title_tag, level=0)
        heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self.para("Référence du projet : ", ("{{ project_reference }}", True), align="center")
        self.para("{{ subject }}", align="center")

    def para(
        self, *parts: str | tuple[str, bool], align: str | None = None, style: str | None = None
    ) -> None:
        paragraph = self.doc.add_paragraph(style=style)
        for part in parts:
            text, bold = (part, False) if isinstance(part, str) else part
            paragraph.add_run(text).bold = bold
        if align == "center":
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif align is None:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY

    def field(self, label: str, tag: str) -> None:
        self.para((f"{label} : ", True), tag)

    def heading(self, text: str, level: int = 1) -> None:
        self.doc.add_heading(text, level=level)

    def article(self, title: str) -> None:
        self.article_number += 1
        number = "premier" if self.article_number == 1 else str(self.article_number)
        self.doc.add_heading(f"Article {number} – {title}", level=2)

    def loop(self, item: str, iterable: str, body: str, style: str = "List Bullet") -> None:
        self.para(f"{{%p for {item} in {iterable} %}}")
        self.para(body, style=style)
        self.para("{%p endfor %}")

    def visas(self) -> None:
        self.loop("visa", "visas", "{{ visa }}", style="Normal")

    def table(self, headers: list[str], rows: list[list[str]]) -> None:
        table = self.doc.add_table(rows=0, cols=len(headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        cells = table.add_row().cells
        for cell, text in zip(cells, headers, strict=True):
            cell.paragraphs[0].add_run(text).bold = True
        for row in rows:
            cells = table.add_row().cells
            for cell, text in zip(cells, row, strict=True):
                bold = text.startswith("**")
                cell.paragraphs[0].add_run(text.removeprefix("**")).bold = bold
        self.doc.add_paragraph()

    def loop_table(
        self, headers: list[str], item: str, iterable: str, cells: list[str], total: list[str]
    ) -> None:
        """A table whose middle rows repeat (docxtpl ``{%tr %}``), with a bold total row."""
        self.table(
            headers,
            [
                [f"{{%tr for {item} in {iterable} %}}"] + [""] * (len(headers) - 1),
                cells,
                ["{%tr endfor %}"] + [""] * (len(headers) - 1),
                ["**" + t for t in total],
            ],
        )

    def signatures(self) -> None:
        self.heading("Signatures", level=1)
        self.para(
            "Fait à ",
            "{{ place }}",
            ", en autant d'exemplaires originaux que de signataires, le ………………………………",
        )
        table = self.doc.add_table(rows=0, cols=2)
        table.style = "Table Grid"
        table.add_row().cells[0].paragraphs[0].add_run("{%tr for s in signatures %}")
        cells = table.add_row().cells
        cells[0].paragraphs[0].add_run("{{ s.party }}").bold = True
        cells[0].add_paragraph("{{ s.signatory }}")
        cells[1].paragraphs[0].add_run("Date, signature et cachet :")
        cells[1].add_paragraph("")
        cells[1].add_paragraph("")
        table.add_row().cells[0].paragraphs[0].add_run("{%tr endfor %}")
        self.doc.add_paragraph()

    def recipients(self) -> None:
        self.heading("Destinataires", level=1)
        self.loop("r", "recipients", "{{ r }}")

    def save(self, name: str) -> None:
        self.doc.save(HERE / name)


def siae_party_lines(b: Builder, intro: str) -> None:
    b.para(
        intro,
        ("{{ siae.name }}", True),
        ", ",
        "{{ siae.kind_label }}",
        ", SIRET ",
        "{{ siae.siret }}",
        ", dont le siège est situé ",
        "{{ siae.address }}",
        ", représentée par ",
        "{{ siae.representative }}",
        ", ci-après « la SIAE » ;",
    )


def build_dui() -> None:
    b = Builder()
    b.para("Dossier unique d'instruction adressé à la DDETS / DREETS et à la DISP", align="center")
    b.visas()
    b.heading("1. Identité de la structure")
    b.table(
        ["Rubrique", "Renseignement"],
        [
            ["Dénomination", "{{ siae.name }}"],
            ["Type de SIAE", "{{ siae.kind_label }}"],
            ["Adresse du siège", "{{ siae.address }}"],
            ["SIRET", "{{ siae.siret }}"],
            ["Code NAF", "{{ siae.naf_code }}"],
            ["IDCC (convention collective)", "{{ siae.idcc }}"],
            ["Forme juridique", "{{ siae.legal_form }}"],
            ["Président(e)", "{{ siae.president }}"],
            ["Directeur ou directrice", "{{ siae.director }}"],
        ],
    )
    b.heading("2. Le projet")
    b.field("Activité", "{{ activity }}")
    b.para(
        ("Lieu d'implantation : ", True),
        "{{ establishment.name }}",
        " (",
        "{{ establishment.type_label }}",
        "), ",
        "{{ establishment.address }}",
    )
    b.field("Locaux dans l'établissement", "{{ premises }}")
    b.field("Date prévisionnelle de démarrage", "{{ start_date }}")
    b.heading("3. Postes d'insertion demandés")
    b.table(
        ["Nombre de postes", "Équivalents temps plein (ETP)"],
        [["{{ posts_count }}", "{{ posts_etp }}"]],
    )
    b.heading("4. Personnel d'encadrement")
    b.table(
        ["Fonction", "ETP"],
        [
            ["Encadrants techniques d'insertion (ETI)", "{{ staff_eti_etp }}"],
            ["Conseillers en insertion professionnelle (CIP)", "{{ staff_cip_etp }}"],
        ],
    )
    b.heading("5. Plan d'accompagnement socio-professionnel")
    b.para("{{ accompaniment_plan }}")
    b.heading("6. Objectifs de retour à l'emploi")
    b.para("{{ insertion_targets }}")
    b.heading("7. Partenaires")
    b.para("{{ partners }}")
    b.heading("8. Budget prévisionnel et plan de financement")
    b.heading("Charges", level=2)
    b.loop_table(
        ["Poste de charges", "Montant"],
        "c",
        "charges",
        ["{{ c.label }}", "{{ c.amount }}"],
        ["Total des charges", "{{ charges_total }}"],
    )
    b.heading("Ressources", level=2)
    b.loop_table(
        ["Financeur", "Montant"],
        "r",
        "resources",
        ["{{ r.label }}", "{{ r.amount }}"],
        ["Total des ressources", "{{ resources_total }}"],
    )
    b.field("Équilibre du plan de financement", "{{ budget_balance }}")
    b.para(
        "La structure certifie l'exactitude des renseignements ci-dessus et s'engage à informer la DDETS et la DISP "
        "de toute modification."
    )
    b.signatures()
    b.recipients()
    b.save("dui.docx")


def build_convention() -> None:
    b = Builder()
    b.para("Conclue en application de l'article L5132-2 du code du travail", align="center")
    b.heading("Entre les soussignés")
    b.para("L'État, représenté par ", "{{ prefet }}", ", et par délégation par la ", "{{ ddets }}", " ;")
    b.para("La direction interrégionale des services pénitentiaires : ", "{{ disp }}", " ;")
    siae_party_lines(b, "Et la structure d'insertion par l'activité économique ")
    b.visas()
    b.para("Il est convenu ce qui suit.")
    b.article("Objet")
    b.para(
        "La présente convention porte sur l'implantation de la SIAE au sein de l'établissement pénitentiaire ",
        "{{ establishment.name }}",
        " (",
        "{{ establishment.type_label }}",
        "), ",
        "{{ establishment.address }}",
        ", département ",
        "{{ departement }}",
        ".",
    )
    b.article("Projet d'insertion")
    b.field("Statut et type de structure", "{{ siae.kind_label }}")
    b.field("Activité et objet des ateliers", "{{ activity }}")
    b.field("Nombre d'ateliers", "{{ workshops_count }}")
    b.field("Territoire d'intervention", "{{ departement }}")
    b.field(
        "Accompagnement des personnes détenues sous contrat d'emploi pénitentiaire",
        "{{ accompaniment_plan }}",
    )
    b.field("Partenaires", "{{ partners }}")
    b.field("Contrat d'implantation", "{{ implantation_contract }}")
    b.article("Moyens humains, matériels et financiers")
    b.table(
        ["Moyen", "Détail"],
        [
            ["{%tr for m in means %}", ""],
            ["{{ m.label }}", "{{ m.detail }}"],
            ["{%tr endfor %}", ""],
        ],
    )
    b.article("Postes d'insertion")
    b.para(
        "Le nombre de postes d'insertion ouvrant droit à l'aide au poste est fixé à ",
        ("{{ posts_etp }}", True),
        " équivalents temps plein (ETP), répartis sur ",
        "{{ posts_count }}",
        " postes.",
    )
    b.article("Engagements et indicateurs d'insertion")
    b.para("{{ insertion_targets }}")
    b.para(
        "La SIAE transmet chaque année un rapport d'activité et ses comptes à la DDETS et à la DISP ; ils servent "
        "au dialogue de gestion et à l'examen de l'annexe financière de l'année suivante."
    )
    b.article("Durée")
    b.para(
        "La présente convention est conclue pour une durée de ",
        "{{ duration }}",
        ", du ",
        ("{{ start_date }}", True),
        " au ",
        ("{{ end_date }}", True),
        ". Sa durée ne peut excéder ",
        "{{ max_years }}",
        " ans. Elle peut être renouvelée par une nouvelle convention ; une annexe financière est établie chaque année.",
    )
    b.article("Modification")
    b.para("Toute modification de la présente convention fait l'objet d'un avenant signé des parties.")
    b.signatures()
    b.recipients()
    b.doc.add_page_break()
    b.heading("Annexe financière")
    b.field("Période", "{{ annex.period }}")
    b.field("Type de structure", "{{ annex.siae_kind_label }}")
    b.table(
        ["Élément", "Montant"],
        [
            ["Montant socle annuel par poste à temps plein", "{{ annex.socle_unit }}"],
            ["Nombre de postes (ETP)", "{{ annex.etp }}"],
            ["Montant socle total", "{{ annex.socle_total }}"],
            [
                "Part modulée ({{ annex.modulated_percent }}, plafond en détention : {{ annex.cap_percent }})",
                "{{ annex.modulated_total }}",
            ],
            ["**Aide au poste annuelle totale", "**{{ annex.total }}"],
        ],
    )
    b.para("Soit, en toutes lettres : ", ("{{ annex.total_words }}", True), ".")
    b.field("Source du montant socle", "{{ annex.socle_source }}")
    b.field("Source du plafond de la part modulée", "{{ annex.cap_source }}")
    b.save("convention.docx")


def build_implantation() -> None:
    b = Builder()
    b.heading("Entre les soussignés")
    b.para(
        "L'établissement pénitentiaire ",
        ("{{ establishment.name }}", True),
        " (",
        "{{ establishment.type_label }}",
        "), ",
        "{{ establishment.address }}",
        ", représenté par ",
        "{{ establishment.head_name }}",
        ", chef d'établissement, ci-après « l'établissement » ;",
    )
    siae_party_lines(b, "Et la structure d'insertion par l'activité économique ")
    b.visas()
    b.para("Il est convenu ce qui suit.")
    b.article("Objet et nature des activités")
    b.para(
        "Le présent contrat autorise la SIAE à exercer au sein de l'établissement l'activité de production suivante : ",
        ("{{ activity }}", True),
        ".",
    )
    b.article("Durée et renouvellement")
    b.para(
        "Le contrat prend effet le ",
        ("{{ start_date }}", True),
        " et prend fin le ",
        ("{{ end_date }}", True),
        ", soit une durée de ",
        "{{ duration }}",
        ", dans la limite de ",
        "{{ max_years }}",
        " ans.",
    )
    b.para("{{ renewal_clause }}")
    b.field("Fondement", "{{ renewal_source }}")
    b.article("Locaux et moyens mis à disposition")
    b.para("{{ premises }}")
    b.para(
        "L'établissement assure la fourniture des fluides et l'accès à internet nécessaires à l'activité ; les "
        "travaux d'aménagement sont réalisés selon le calendrier arrêté par les parties."
    )
    b.article("Règles de sécurité")
    b.para("{{ security_rules }}")
    b.para(
        "Le personnel de la SIAE est formé aux règles de la détention et respecte le règlement intérieur de "
        "l'établissement ; les outils et produits font l'objet d'une gestion particulière."
    )
    b.article("Organisation du travail et rémunération des opérateurs")
    b.field("Horaires de travail", "{{ work_schedule }}")
    b.para(
        "Les opérateurs sont employés sous contrat d'emploi pénitentiaire. Leur rémunération horaire ne peut être "
        "inférieure à ",
        "{{ pay.share_percent }}",
        " du SMIC horaire brut, soit, au ",
        "{{ pay.on_date }}",
        ", ",
        ("{{ pay.floor }}", True),
        " (",
        "{{ pay.floor_words }}",
        ") pour un SMIC horaire brut de ",
        "{{ pay.smic }}",
        ". Sources : ",
        "{{ pay.share_source }}",
        " ; ",
        "{{ pay.smic_source }}",
        ".",
    )
    b.para(
        "L'établissement édite les bulletins de paie, verse les rémunérations sur le compte nominatif des opérateurs "
        "et les cotisations sociales à l'URSSAF. ",
        "{{ invoicing }}",
        " Les modalités de ce remboursement sont précisées par l'annexe de chaque contrat d'emploi pénitentiaire "
        "(",
        "{{ invoicing_source }}",
        ").",
    )
    b.article("Accompagnement individuel")
    b.para("{{ accompaniment_plan }}")
    b.article("Aide au démarrage")
    b.para(
        "Après la signature du présent contrat, la SIAE peut percevoir de l'ATIGIP, par l'intermédiaire de la DISP, "
        "une aide au démarrage de ",
        ("{{ startup_aid }}", True),
        " (",
        "{{ startup_aid_words }}",
        ") ; source : ",
        "{{ startup_aid_source }}",
        ".",
    )
    b.article("Modification et résiliation")
    b.para(
        "Toute modification du présent contrat fait l'objet d'un avenant écrit signé des parties. Chaque partie peut "
        "le résilier en cas de manquement grave de l'autre partie, après mise en demeure restée sans effet."
    )
    b.signatures()
    b.recipients()
    b.save("contrat_implantation.docx")


def build_cep() -> None:
    b = Builder()
    b.para("Opérateur : ", ("{{ operateur_id }}", True), align="center")
    b.heading("Entre les soussignés")
    siae_party_lines(b, "La structure d'insertion par l'activité économique ")
    b.para(
        "Et ",
        ("{{ worker.first_name }} {{ worker.last_name }}", True),
        ", né(e) le ",
        "{{ worker.birth_date }}",
        ", numéro d'écrou ",
        "{{ worker.ecrou_number }}",
        ", détenu(e) à l'établissement ",
        "{{ establishment.name }}",
        " (",
        "{{ establishment.type_label }}",
        "), ",
        "{{ establishment.address }}",
        ", ci-après « l'opérateur », classé(e) au travail et affecté(e) sur le poste ci-dessous ;",
    )
    b.visas()
    b.para("Il est convenu ce qui suit.")
    b.article("Régime de travail")
    b.para(
        "L'opérateur exerce une activité de production pour le compte de la SIAE, donneur d'ordre implanté dans "
        "l'établissement, dans le cadre de l'insertion par l'activité économique. Le contrat est régi par le code "
        "pénitentiaire ; une convention tripartite signée avec le chef d'établissement lui est annexée."
    )
    b.article("Durée du contrat")
    b.para(
        "Le présent contrat est conclu pour une durée indéterminée. Il prend fin de plein droit à la fin de la "
        "détention de l'opérateur (article L412-16 du code pénitentiaire)."
    )
    b.article("Clause de renouvellement")
    b.para("Le contrat étant à durée indéterminée, il ne comporte pas de clause de renouvellement.")
    b.article("Date de début d'activité")
    b.para("La date effective du début d'activité est fixée au ", ("{{ start_date }}", True), ".")
    b.article("Période d'essai")
    b.para("{{ trial_clause }}")
    b.para(
        "Le contrat comporte une période d'essai de ",
        ("{{ trial_days }} jours", True),
        " calendaires, qui s'achève le ",
        "{{ trial_end }}",
        ". Règle appliquée : ",
        "{{ trial_rule }}",
        ".",
    )
    b.para("{{ trial_renewal }}")
    b.para(
        "Lorsqu'il est mis fin à la période d'essai, la partie qui y met fin respecte un délai de prévenance d'au "
        "moins ",
        "{{ notice_hours }}",
        " heures.",
    )
    b.article("Poste de travail et missions")
    b.field("Intitulé du poste", "{{ post_title }}")
    b.field("Code ROME", "{{ rome_code }}")
    b.field("Missions", "{{ missions }}")
    b.article("Risques particuliers liés au poste")
    b.para("{{ particular_risks }}")
    b.article("Durée du travail et horaires")
    b.para(
        "La durée hebdomadaire de travail est de ",
        ("{{ schedule.weekly_hours }}", True),
        ", soit en moyenne ",
        "{{ schedule.monthly_hours }}",
        " par mois. L'opérateur travaille ",
        ("{{ schedule.days }}", True),
        ", de ",
        "{{ schedule.start }}",
        " à ",
        "{{ schedule.end }}",
        ", soit ",
        "{{ schedule.daily_hours }}",
        " de travail effectif par jour.",
    )
    b.article("Temps de pause, repos hebdomadaire et jours fériés")
    b.para(
        "Chaque jour travaillé comporte une pause de ",
        "{{ schedule.break_minutes }}",
        " minutes, non comprise dans le temps de travail. Jours de repos hebdomadaire : ",
        ("{{ schedule.rest_days }}", True),
        ". ",
        "{{ rest_clause }}",
    )
    b.para("{{ holiday_clause }}")
    b.para(
        "Jours fériés tombant un jour travaillé de l'opérateur ",
        "{{ holidays_period }}",
        " :",
    )
    b.loop("h", "holidays", "{{ h.date }} : {{ h.name }}")
    b.article("Astreintes")
    b.para("{{ on_call_clause }}")
    b.article("Rémunération et primes")
    b.para(
        "L'opérateur perçoit une rémunération horaire brute de ",
        ("{{ hourly_rate }}", True),
        " (",
        "{{ hourly_rate_words }}",
        "), soit ",
        ("{{ monthly_gross }}", True),
        " brut pour un mois moyen. Elle ne peut être inférieure à ",
        "{{ pay.share_percent }}",
        " du SMIC horaire brut en vigueur, soit ",
        "{{ pay.floor }}",
        " (",
        "{{ pay.floor_words }}",
        ") au ",
        "{{ pay.on_date }}",
        " pour un SMIC horaire brut de ",
        "{{ pay.smic }}",
        " (",
        "{{ pay.share_source }}",
        " ; ",
        "{{ pay.smic_source }}",
        ").",
    )
    b.para("Aucune prime n'est prévue ; toute prime ultérieure fera l'objet d'un avenant.")
    b.article("Cotisations sociales")
    b.para(
        "Sur la rémunération mensuelle brute de ",
        "{{ monthly_gross }}",
        ", les cotisations sociales s'élèvent à ",
        ("{{ contributions_total }}", True),
        " (",
        "{{ contributions_total_words }}",
        ") par mois : ",
        "{{ employee_contributions }}",
        " de cotisations salariales et ",
        "{{ employer_contributions }}",
        " de cotisations patronales. La rémunération nette mensuelle est de ",
        ("{{ monthly_net }}", True),
        ".",
    )
    b.loop_table(
        ["Cotisation", "Part", "Taux", "Montant mensuel", "Source du taux"],
        "c",
        "contributions",
        ["{{ c.label }}", "{{ c.part }}", "{{ c.rate }}", "{{ c.amount }}", "{{ c.source }}"],
        ["Total", "", "", "{{ contributions_total }}", ""],
    )
    b.para("{{ contributions_clause }} ", "{{ reimbursement }}")
    b.field("Fondement", "{{ contributions_source }}")
    b.article("Accompagnement socio-professionnel")
    b.para("{{ accompaniment_plan }}")
    b.article("Modification du contrat")
    b.para("Toute modification du présent contrat fait l'objet d'un avenant écrit signé des parties.")
    b.article("Suspension du contrat")
    b.para("L'exécution du contrat est suspendue dans les cas suivants :")
    b.loop("case", "suspension_cases", "{{ case }}")
    b.para("La suspension ne rompt pas le contrat ; l'opérateur reprend son poste à son terme.")
    b.article("Fin du contrat")
    b.loop("t", "terminations", "{{ t.party }} : {{ t.terms }} ({{ t.source }})")
    b.signatures()
    b.recipients()
    b.save("cep.docx")


def build_cep_annex() -> None:
    b = Builder()
    b.para("Opérateur : ", ("{{ operateur_id }}", True), align="center")
    b.heading("Entre les soussignés")
    b.para(
        "L'établissement pénitentiaire ",
        ("{{ establishment.name }}", True),
        " (",
        "{{ establishment.type_label }}",
        "), ",
        "{{ establishment.address }}",
        ", représenté par ",
        "{{ establishment.head_name }}",
        ", chef d'établissement ;",
    )
    siae_party_lines(b, "La structure d'insertion par l'activité économique ")
    b.para(
        "Et ",
        ("{{ worker.first_name }} {{ worker.last_name }}", True),
        ", numéro d'écrou ",
        "{{ worker.ecrou_number }}",
        ", ci-après « l'opérateur » ;",
    )
    b.visas()
    b.article("Objet")
    b.para(
        "La présente convention est annexée au contrat d'emploi pénitentiaire conclu entre la SIAE et l'opérateur "
        "pour le poste « ",
        "{{ post_title }}",
        " », à compter du ",
        ("{{ cep_start }}", True),
        ", pour une durée hebdomadaire de ",
        "{{ weekly_hours }}",
        " heures et une rémunération horaire brute de ",
        "{{ hourly_rate }}",
        ". Elle fixe les obligations respectives des parties.",
    )
    b.article("Obligations de l'établissement")
    b.para("L'établissement met à disposition les locaux suivants : ", "{{ premises }}", ".")
    b.para(
        "Il édite les bulletins de paie, avance et verse la rémunération sur le compte nominatif de l'opérateur, "
        "précompte et verse les cotisations sociales, et assure la sécurité des lieux de travail."
    )
    b.article("Obligations de la SIAE")
    b.para(
        "La SIAE organise la production, encadre l'opérateur, assure son accompagnement socio-professionnel et "
        "rembourse à l'établissement les sommes avancées dans les conditions de l'article suivant."
    )
    b.article("Obligations de l'opérateur")
    b.para(
        "L'opérateur exécute les missions prévues au contrat, respecte les horaires, les consignes de sécurité et "
        "le règlement intérieur de l'établissement."
    )
    b.article("Remboursement des rémunérations et cotisations avancées")
    b.para("{{ reimbursement_rule }}")
    b.field("Modalités", "{{ reimbursement_terms }}")
    b.field("Fondement", "{{ reimbursement_source }}")
    b.article("Défaut de paiement")
    b.para("{{ non_payment }}")
    b.field("Fondement", "{{ non_payment_source }}")
    b.article("Hygiène et sécurité dans l'atelier")
    b.para("{{ health_safety }}")
    b.field("Fondement", "{{ health_safety_source }}")
    b.article("Règles de sécurité de l'établissement")
    b.para("{{ security_rules }}")
    b.article("Durée")
    b.para("La présente convention suit le sort du contrat d'emploi pénitentiaire auquel elle est annexée.")
    b.signatures()
    b.recipients()
    b.save("annexe_cep.docx")


def main() -> None:
    build_dui()
    build_convention()
    build_implantation()
    build_cep()
    build_cep_annex()


if __name__ == "__main__":
    main()
