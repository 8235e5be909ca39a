"""The shipped configuration loads; a broken file stops with one French message naming file, key and problem."""

import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from implantation.config.loader import ConfigError, get_process_config, load_process_config
from implantation.config.schema import ProcessConfig
from implantation.enums import DocumentKind, Role

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


def test_the_shipped_config_loads() -> None:
    cfg = load_process_config(CONFIG_DIR)
    assert [stage.numero for stage in cfg.stages.etape] == [1, 2, 3, 4, 5, 6]
    assert cfg.stage(1).id == "identification_etablissement"
    assert cfg.stage(1).pilotes == [Role.DISP]
    assert cfg.stage(6).id == "conditions_travail_ensemble"
    assert set(cfg.documents.document) == set(DocumentKind)
    convention = cfg.documents.document[DocumentKind.CONVENTION]
    # The DDETS signs for the préfet (guide, stage 5): one signature for the State, not two.
    assert convention.signers == [Role.PREFET, Role.SIAE, Role.DISP]
    assert convention.signs_for(Role.DDETS) == Role.PREFET
    assert convention.signs_for(Role.EP) is None
    assert cfg.documents.document[DocumentKind.IMPLANTATION_CONTRACT].duree_max_annees == 7
    assert cfg.money.montant["aide_au_poste_socle_aci"].valeurs[-1].valeur == Decimal("23921")
    assert cfg.money.montant["aide_au_demarrage_atigip"].valeurs[0].valeur == Decimal("3000")
    assert cfg.calendar.rappel_jours_ouvres_avant_echeance == 10
    assert cfg.territory.departement["57"].disp == "STRASBOURG"


def test_get_process_config_caches_per_directory() -> None:
    first = get_process_config(CONFIG_DIR)
    assert isinstance(first, ProcessConfig)
    assert get_process_config(CONFIG_DIR) is first


@pytest.fixture
def broken(tmp_path: Path) -> Callable[[str, Callable[[str], str]], Path]:
    """Copy the shipped config, rewrite one file, and return the copy's directory."""

    def make(filename: str, edit: Callable[[str], str]) -> Path:
        target = tmp_path / "config"
        shutil.copytree(CONFIG_DIR, target)
        path = target / filename
        original = path.read_text(encoding="utf-8")
        edited = edit(original)
        assert edited != original, "the edit did not change the file"
        path.write_text(edited, encoding="utf-8")
        return target

    return make


def _error(config_dir: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_process_config(config_dir)
    return str(caught.value)


def test_toml_syntax_error(broken: Callable[[str, Callable[[str], str]], Path]) -> None:
    directory = broken(
        "eligibilite.toml", lambda t: t.replace("quantum_min_mois = 4", "quantum_min_mois = = 4")
    )
    message = _error(directory)
    assert message.startswith("Configuration : « eligibilite.toml » n'est pas un TOML valide (")
    assert "erreur de syntaxe ligne 2, colonne 20" in message


def test_missing_key(broken: Callable[[str, Callable[[str], str]], Path]) -> None:
    directory = broken("eligibilite.toml", lambda t: t.replace("quantum_max_mois = 36\n", ""))
    assert _error(directory) == (
        "Configuration : fichier « eligibilite.toml », clé « quantum_max_mois » : valeur obligatoire manquante."
    )


def test_inverted_range(broken: Callable[[str, Callable[[str], str]], Path]) -> None:
    directory = broken(
        "etapes.toml",
        lambda t: t.replace("duree_mois = { min = 2, max = 3 }", "duree_mois = { min = 4, max = 3 }"),
    )
    assert _error(directory) == (
        "Configuration : fichier « etapes.toml », clé « etape[0].duree_mois » : le minimum (4) dépasse le maximum (3)."
    )


def test_inverted_minimum_project_duration(broken: Callable[[str, Callable[[str], str]], Path]) -> None:
    directory = broken("etapes.toml", lambda t: t.replace("min = 6\nmax = 8", "min = 9\nmax = 8"))
    message = _error(directory)
    assert "« etapes.toml »" in message
    assert "clé « duree_minimale_projet_mois »" in message
    assert "le minimum (9) dépasse le maximum (8)" in message


def test_unknown_role(broken: Callable[[str, Callable[[str], str]], Path]) -> None:
    directory = broken("etapes.toml", lambda t: t.replace('pilotes = ["disp"]', 'pilotes = ["directeur"]'))
    message = _error(directory)
    assert message.startswith(
        "Configuration : fichier « etapes.toml », clé « etape[0].pilotes[0] » : valeur non reconnue « directeur » "
        "(valeurs possibles : 'disp', 'dreets',"
    )
    assert "'jap' ou 'operateur')" in message
    assert " or " not in message


def test_unknown_role_as_a_table_key(broken: Callable[[str, Callable[[str], str]], Path]) -> None:
    directory = broken(
        "documents.toml",
        lambda t: t.replace(
            'parties = { siae = ["signe"], operateur', 'parties = { siae = ["signe"], detenu'
        ),
    )
    message = _error(directory)
    assert message.startswith(
        "Configuration : fichier « documents.toml », clé « document.cep.parties.detenu » : valeur non reconnue « detenu »"
    )


def test_unknown_siae_kind(broken: Callable[[str, Callable[[str], str]], Path]) -> None:
    directory = broken("eligibilite.toml", lambda t: t.replace('["ACI", "EI"]', '["ACI", "EI", "ESAT"]'))
    assert _error(directory) == (
        "Configuration : fichier « eligibilite.toml », clé « types_siae_implantables[2] » : valeur non reconnue "
        "« ESAT » (valeurs possibles : 'ACI', 'EI', 'ETTI', 'AI' ou 'EITI')."
    )


def _drop_last_stage(text: str) -> str:
    return text[: text.index("[[etape]]\nnumero = 6")]


def _add_seventh_stage(text: str) -> str:
    last = text[text.index("[[etape]]\nnumero = 6") :]
    return text + "\n" + last.replace("numero = 6", "numero = 7")


def test_five_stages_lose_the_launch_decision(broken: Callable[[str, Callable[[str], str]], Path]) -> None:
    assert _error(broken("etapes.toml", _drop_last_stage)) == (
        "Configuration : fichier « etapes.toml », clé « (racine) » : la décision « lancement » doit figurer "
        "dans exactement une étape (lue dans : [])."
    )


def test_a_seventh_stage_copying_the_sixth_repeats_its_decision(
    broken: Callable[[str, Callable[[str], str]], Path],
) -> None:
    assert _error(broken("etapes.toml", _add_seventh_stage)) == (
        "Configuration : fichier « etapes.toml », clé « (racine) » : la décision « lancement » doit figurer "
        "dans exactement une étape (lue dans : [6, 7])."
    )


def test_launch_decided_before_the_last_stage(broken: Callable[[str, Callable[[str], str]], Path]) -> None:
    def move_launch(text: str) -> str:
        return text.replace('id = "lancement"', 'id = "lancement_x"').replace(
            'id = "validation_co_construction"', 'id = "lancement"'
        )

    assert _error(broken("etapes.toml", move_launch)) == (
        "Configuration : fichier « etapes.toml », clé « (racine) » : la décision « lancement » doit figurer "
        "dans la dernière étape."
    )


def test_checklist_ids_are_field_names(broken: Callable[[str, Callable[[str], str]], Path]) -> None:
    directory = broken(
        "etapes.toml", lambda t: t.replace('{ id = "locaux_amenages"', '{ id = "Locaux aménagés"')
    )
    assert _error(directory) == (
        "Configuration : fichier « etapes.toml », clé « etape[5].decisions[0] » : identifiant de vérification "
        "invalide (minuscules, chiffres, _) : Locaux aménagés."
    )


def test_stages_out_of_order(broken: Callable[[str, Callable[[str], str]], Path]) -> None:
    directory = broken(
        "etapes.toml",
        lambda t: t.replace("numero = 2\n", "numero = 3\n").replace(
            'numero = 3\nid = "etude', 'numero = 2\nid = "etude'
        ),
    )
    assert _error(directory) == (
        "Configuration : fichier « etapes.toml », clé « (racine) » : les étapes doivent être numérotées de 1 à 6 "
        "dans l'ordre (lu : [1, 3, 2, 4, 5, 6])."
    )


def test_unknown_key(broken: Callable[[str, Callable[[str], str]], Path]) -> None:
    directory = broken("eligibilite.toml", lambda t: "quantum_maxi_mois = 40\n" + t)
    assert (
        _error(directory)
        == "Configuration : fichier « eligibilite.toml », clé « quantum_maxi_mois » : clé inconnue."
    )


def test_wrong_type_and_count_of_other_errors(broken: Callable[[str, Callable[[str], str]], Path]) -> None:
    directory = broken(
        "eligibilite.toml",
        lambda t: t.replace("quantum_min_mois = 4", 'quantum_min_mois = "quatre"').replace(
            "quantum_max_mois = 36\n", ""
        ),
    )
    assert _error(directory) == (
        "Configuration : fichier « eligibilite.toml », clé « quantum_min_mois » : nombre entier attendu "
        "(et 1 autre(s) erreur(s))."
    )


def test_negative_value(broken: Callable[[str, Callable[[str], str]], Path]) -> None:
    directory = broken(
        "calendrier.toml",
        lambda t: t.replace(
            "rappel_jours_ouvres_avant_echeance = 10", "rappel_jours_ouvres_avant_echeance = -1"
        ),
    )
    assert _error(directory) == (
        "Configuration : fichier « calendrier.toml », clé « rappel_jours_ouvres_avant_echeance » : "
        "valeur trop petite (limite : 0)."
    )


def test_bad_date_in_amounts(broken: Callable[[str, Callable[[str], str]], Path]) -> None:
    directory = broken("montants.toml", lambda t: t.replace("du = 2024-11-01", 'du = "novembre"', 1))
    assert _error(directory).startswith(
        "Configuration : fichier « montants.toml », clé « montant.smic_horaire_brut.valeurs[0].du » : date "
        "attendue (AAAA-MM-JJ)"
    )


def test_missing_document_kind(broken: Callable[[str, Callable[[str], str]], Path]) -> None:
    def drop_cep_annex(text: str) -> str:
        return text[: text.index("[document.annexe_cep]")]

    message = _error(broken("documents.toml", drop_cep_annex))
    assert (
        message
        == "Configuration : fichier « documents.toml », clé « (racine) » : documents manquants : annexe_cep."
    )


def test_missing_file(tmp_path: Path) -> None:
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    (target / "calendrier.toml").unlink()
    assert _error(target) == f"Configuration : fichier introuvable « {target / 'calendrier.toml'} »."


def test_not_utf8(tmp_path: Path) -> None:
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    path = target / "eligibilite.toml"
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    assert _error(target) == "Configuration : « eligibilite.toml » n'est pas encodé en UTF-8."


def test_a_facts_group_is_collected_by_one_gate(broken: Callable[[str, Callable[[str], str]], Path]) -> None:
    directory = broken("etapes.toml", lambda t: t.replace('faits = "etape4"', 'faits = "etape3"'))
    assert "faits « etape3 » collectés par plusieurs décisions" in _error(directory)


def test_an_unknown_facts_group_is_refused(broken: Callable[[str, Callable[[str], str]], Path]) -> None:
    directory = broken("etapes.toml", lambda t: t.replace('faits = "etape4"', 'faits = "etape2"'))
    assert "clé « etape[3].decisions[0].faits »" in _error(directory)


def test_the_facts_follow_the_decision_that_names_them(
    broken: Callable[[str, Callable[[str], str]], Path],
) -> None:
    """Which gate asks for which facts is configuration: moved, the stage-4 facts are asked at stage 5."""
    from implantation.dossier import Etape4
    from implantation.services.gate_facts import facts_model

    def move(text: str) -> str:
        text = text.replace('faits = "etape4"', "")
        return text.replace(
            'id = "approbation_convention"', 'id = "approbation_convention"\nfaits = "etape4"'
        )

    cfg = load_process_config(broken("etapes.toml", move))
    assert facts_model(cfg, 4) is None and facts_model(cfg, 5) is Etape4
    shipped = load_process_config(CONFIG_DIR)
    assert [facts_model(shipped, n) for n in range(1, 7)].count(None) == 3
