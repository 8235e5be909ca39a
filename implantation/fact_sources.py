"""Where each fact a document needs is entered, so that « il manque X » also says where to enter X.

The documents name a missing value in words (``implantation/documents/builders.py``); this table maps
those words to the dossier key (``siae projet completer``, same name as the gate-form field), the
referential column or the opérateur column. A test renders the documents of an empty project and checks
that every missing value gets a hint, so a reworded message cannot lose its hint unnoticed.
"""

from implantation.dossier import stages_of

_DOSSIER: dict[str, str] = {
    "la SIAE retenue pour le projet": "siae_retenue",
    "le nom du chef d'établissement": "chef_etablissement",
    "l'activité du projet": "activite",
    "la nature des activités": "activite",
    "les locaux mis à disposition dans l'établissement": "locaux",
    "la date de démarrage de l'activité": "date_demarrage_prevue",
    "le nombre de postes d'insertion": "postes_insertion",
    "le nombre de postes d'insertion (ETP)": "postes_etp",
    "l'effectif d'encadrants techniques d'insertion (ETP)": "eti_etp",
    "l'effectif de conseillers en insertion professionnelle (ETP)": "cip_etp",
    "le plan d'accompagnement socio-professionnel": "plan_accompagnement",
    "l'accompagnement des personnes détenues sous CEP": "plan_accompagnement",
    "l'accompagnement individuel des opérateurs": "plan_accompagnement",
    "l'accompagnement socio-professionnel assuré par la SIAE": "plan_accompagnement",
    "les objectifs de retour à l'emploi": "objectifs_insertion",
    "les engagements et indicateurs d'insertion": "objectifs_insertion",
    "les partenaires du projet": "partenaires",
    "le budget prévisionnel (au moins une ligne de charges)": "budget",
    "au moins une ligne de charges au budget prévisionnel": "budget",
    "le nombre d'ateliers": "ateliers",
    "la date de début du contrat d'implantation": "implantation_debut",
    "la date de fin du contrat d'implantation": "implantation_fin",
    "la date de début de la convention": "convention_debut",
    "la date de fin de la convention": "convention_fin",
    "les règles de sécurité de l'établissement": "regles_securite",
    "les horaires de travail des opérateurs": "horaires",
    "les horaires de travail": "horaires",
    "les modalités de remboursement (périodicité et délai)": "modalites_remboursement",
    "la description du poste et des missions": "postes[].missions",
    "le code ROME du poste": "postes[].code_rome",
    "les risques particuliers du poste (ou la mention qu'il n'y en a pas)": "postes[].risques",
    "les horaires d'ouverture de l'atelier": "atelier_jours, atelier_debut et atelier_fin",
}

_SIAE_COLUMNS: dict[str, str] = {
    "le représentant légal de la SIAE": "representant_legal",
    "le code NAF de la SIAE": "code_naf",
    "l'IDCC (convention collective) de la SIAE": "idcc",
    "la forme juridique de la SIAE": "forme_juridique",
    "le président de la SIAE": "president",
    "le directeur de la SIAE": "directeur",
}

_OPERATEUR_COLUMNS: dict[str, str] = {
    "la date de début d'activité": "debut_contrat",
    "la durée hebdomadaire de travail": "heures_hebdomadaires",
    "l'intitulé du poste": "poste",
    "la date de classement au travail de l'opérateur": "date_classement",
    "la date d'affectation de l'opérateur sur le poste": "date_affectation",
}

_SIGNATORIES: dict[str, str] = {
    "le préfet signataire (nom et qualité)": (
        "« siae ajouter personne --role prefet --territoire DEPARTEMENT --qualite … --signataire oui » ; "
        "qui signe pour lui par délégation : --role ddets … --delegation-acte … --delegation-date …"
    ),
    "le signataire de la DISP (nom et qualité)": (
        "« siae ajouter personne --role disp --territoire DISP --qualite … --signataire oui »"
    ),
}


def _stages(key: str) -> str:
    first = key.split("[", 1)[0].split(",")[0]
    numbers = stages_of(first)
    if not numbers:
        return ""
    listed = " ou ".join(str(n) for n in numbers)
    fields = key.split("[", 1)[0]
    return f", ou champ{'s' if ',' in fields else ''} « {fields} » du formulaire de l'étape {listed}"


def where_to_enter(what: str) -> str | None:
    """« (à saisir : clé « activite » de « siae projet completer », ou champ … de l'étape 2 ou 3) »."""
    if what in _DOSSIER:
        key = _DOSSIER[what]
        keys = "clés" if "," in key else "clé"
        return f"à saisir : {keys} « {key} » de « siae projet completer »{_stages(key)}"
    if what in _SIAE_COLUMNS:
        return (
            f"à saisir : colonne « {_SIAE_COLUMNS[what]} » du référentiel des SIAE (« siae importer siae »)"
        )
    if what in _OPERATEUR_COLUMNS:
        return f"à saisir : colonne « {_OPERATEUR_COLUMNS[what]} » de « siae operateurs importer »"
    if what in _SIGNATORIES:
        return (
            f"à saisir : {_SIGNATORIES[what]}, ou colonnes « qualite », « signataire », « delegation_acte » "
            "et « delegation_date » de « siae importer personnes »"
        )
    return None
