"""``siae montants …``: the legal amounts an administrator keeps, without touching the code or the files.

Each value is added with its text (name, number, date, article) and journaled in the application's database,
on top of ``config/montants.toml``; it applies from its date until the next text replaces it.
"""

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from implantation.cli.common import database, fmt, handled, out, parse_id, process_config
from implantation.cli.hooks import CLI_ACTOR

if TYPE_CHECKING:  # the database and amounts stacks load only when a command runs
    from sqlmodel import Session

    from implantation.config.schema import Amount
    from implantation.services.amounts import Avenant

montants_app = typer.Typer(
    name="montants",
    help="Montants réglementaires (SMIC, aide au poste, cotisations, taux AT/MP) : consulter, ajouter, vérifier.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _value(amount: "Amount | None", unit: str) -> str:
    from implantation.documents.formatting import fr_money, fr_number, fr_percent

    if amount is None:
        return "—"
    if unit == "euro":
        return fr_money(amount.valeur)
    if unit == "taux":
        return fr_percent(amount.valeur)
    return fr_number(amount.valeur)


def _actor(session: "Session", par: str | None) -> str:
    from implantation.services.projects import actor_for

    return actor_for(session, parse_id(par, "par") if par else None, CLI_ACTOR).label


@montants_app.command("lister")
def lister(
    cle: str | None = typer.Argument(
        None, help="Une clé : toutes ses valeurs, établissement par établissement"
    ),
) -> None:
    """Montants en vigueur aujourd'hui, ou toutes les valeurs d'une clé, chacune avec son texte."""
    from implantation import dates
    from implantation.services.amounts import amount_book, statuses, values_of

    with handled():
        cfg = process_config()
        today = dates.today()
        with database() as session:
            book = amount_book(session, cfg)
            if cle is None:
                rows = statuses(session, book, today)
            else:
                series = book.series(cle)
                values = values_of(session, book, cle)
        if cle is None:
            table = Table(title=f"Montants en vigueur au {today:%d/%m/%Y}")
            for column in ("Clé", "Montant", "En vigueur", "Depuis", "Texte", "Vérifié le"):
                table.add_column(column)
            for s in rows:
                series_s = book.series(s.key)
                if series_s.par_etablissement:
                    shown_value, since = f"{s.per_establishment} valeur(s) saisie(s)", "par établissement"
                else:
                    shown_value, since = (
                        _value(s.in_force, series_s.unite),
                        fmt(s.in_force.du if s.in_force else None),
                    )
                table.add_row(
                    s.key,
                    escape(s.label),
                    shown_value,
                    since,
                    escape(s.in_force.citation if s.in_force else ""),
                    fmt(s.checked_on),
                )
            out.print(table)
            return
        table = Table(title=escape(f"{cle} : {series.libelle}"))
        for column in ("Établissement", "Valeur", "Du", "Au", "Texte"):
            table.add_column(column)
        for code, amount in values:
            table.add_row(
                code or "national",
                _value(amount, series.unite),
                fmt(amount.du),
                fmt(amount.au) if amount.au else "remplacement",
                escape(amount.citation),
            )
        out.print(table)


@montants_app.command("ajouter")
def ajouter(
    cle: str = typer.Argument(..., help="Clé du montant (voir « siae montants lister »)"),
    valeur: str = typer.Argument(..., help="Valeur : euros (12.50) ou taux en fraction (0.042 pour 4,20 %)"),
    du: str = typer.Option(..., "--du", help="Entrée en vigueur (AAAA-MM-JJ)"),
    source: str = typer.Option(..., "--source", help="Texte qui la fixe : nom, numéro, date, article"),
    date_source: str | None = typer.Option(None, "--date-source", help="Date du texte (AAAA-MM-JJ)"),
    au: str | None = typer.Option(None, "--au", help="Fin, seulement si le texte en fixe une"),
    etablissement: str | None = typer.Option(
        None, "--etablissement", help="Code de l'établissement, pour un taux propre à l'établissement (AT/MP)"
    ),
    par: str | None = typer.Option(None, "--par", help="Identifiant de la personne qui saisit"),
) -> None:
    """Ajoute une valeur avec son texte (journalisée) ; un nouveau SMIC liste les CEP sous le nouveau plancher."""
    from implantation import dates
    from implantation.services.amounts import NewAmount, add_amount, amount_book, avenants_due, book_without
    from implantation.services.projects import parse_date

    with handled():
        cfg = process_config()
        today = dates.today()
        new = NewAmount(
            key=cle.strip(),
            value=valeur,
            starts_on=parse_date(du, "du"),
            source=source,
            source_date=parse_date(date_source, "date-source") if date_source else None,
            establishment=etablissement,
            ends_on=parse_date(au, "au") if au else None,
        )
        with database() as session:
            record = add_amount(session, cfg, new, _actor(session, par), today)
            record_id = record.id
            after = amount_book(session, cfg)
            due = avenants_due(session, book_without(after, record), after, record)
            series = cfg.money.montant[record.key]
        where = f" pour l'établissement {etablissement}" if etablissement else ""
        out.print(
            escape(
                f"Montant enregistré (n° {record_id}) : {cle} = {valeur}{where} à compter du {new.starts_on:%d/%m/%Y} "
                f"({series.libelle})."
            )
        )
        _avenants(record_id, due)


def _avenants(record_id: int | None, due: "list[Avenant]") -> None:
    from implantation.services.amounts import notify_avenants, smic_record
    from implantation.settings import get_settings

    if not due:
        return
    out.print(f"{len(due)} CEP en vigueur ont une rémunération inférieure au nouveau plancher :")
    table = Table()
    for column in ("Projet", "Opérateur", "Début du CEP", "Taux horaire", "Nouveau plancher"):
        table.add_column(column)
    from implantation.documents.formatting import fr_money

    for a in due:
        table.add_row(
            a.reference, a.operateur_id, fmt(a.contract_start), fr_money(a.rate), fr_money(a.new_floor)
        )
    out.print(table)
    cfg = process_config()
    with database() as session:
        assert record_id is not None
        record = smic_record(session, record_id)
        lines = notify_avenants(session, get_settings(), cfg, record, due)
    for line in lines:
        out.print(escape(f"  • {line}"))


@montants_app.command("avenants")
def avenants() -> None:
    """Liste de nouveau les CEP sous le plancher du dernier SMIC saisi et envoie les courriels manquants."""
    from implantation.services.amounts import amount_book, avenants_due, book_without, latest_smic

    with handled():
        cfg = process_config()
        found = []
        with database() as session:
            book = amount_book(session, cfg)
            for record in latest_smic(session):
                found.append((record.id, avenants_due(session, book_without(book, record), book, record)))
        if not any(due for _, due in found):
            out.print("Aucun CEP en vigueur n'est sous le plancher d'un SMIC saisi.")
        for record_id, due in found:
            _avenants(record_id, due)


@montants_app.command("importer")
def importer(
    fichier: str = typer.Argument(..., help="CSV : cle;valeur;du;au;source;date_source;etablissement"),
    par: str | None = typer.Option(None, "--par", help="Identifiant de la personne qui saisit"),
) -> None:
    """Importe des valeurs (taux AT/MP de chaque établissement, montants de l'année) : tout ou rien."""
    from implantation import dates
    from implantation.services.amounts import import_amounts

    with handled():
        cfg = process_config()
        with database() as session:
            rows = import_amounts(session, cfg, Path(fichier), _actor(session, par), dates.today())
            count = len(rows)
        out.print(f"{count} montant(s) enregistré(s).")


@montants_app.command("verifier")
def verifier(
    confirmer: list[str] | None = typer.Option(  # noqa: B008 - typer's way to declare a repeatable option
        None,
        "--confirmer",
        help="Clé vérifiée aujourd'hui sans texte nouveau (répétable) : enregistré au journal",
    ),
    par: str | None = typer.Option(None, "--par", help="Identifiant de la personne qui vérifie"),
) -> None:
    """Ce qui est en vigueur aujourd'hui, le texte le plus récent de chaque montant, ceux à revoir."""
    from implantation import dates
    from implantation.services.amounts import amount_book, confirm, statuses

    with handled():
        cfg = process_config()
        today = dates.today()
        with database() as session:
            confirmer = [c.strip() for c in confirmer or []]
            if confirmer:
                confirm(session, cfg, confirmer, _actor(session, par), today)
            book = amount_book(session, cfg)
            rows = statuses(session, book, today)
        table = Table(title=f"Vérification des montants au {today:%d/%m/%Y}")
        for column in (
            "Clé",
            "En vigueur",
            "Texte le plus récent",
            "Date du texte",
            "Vérifié le",
            "À revoir",
        ):
            table.add_column(column)
        overdue = 0
        for s in rows:
            series = book.series(s.key)
            latest = s.latest
            text_date = (latest.date_source or latest.du) if latest else None
            late = (
                f"revalorisation habituelle du {s.overdue_since:%d/%m/%Y} passée : chercher le nouveau texte"
                if s.overdue_since
                else ""
            )
            if series.par_etablissement:
                late = late or f"saisi par établissement ({s.per_establishment} valeur(s))"
            overdue += bool(s.overdue_since)
            table.add_row(
                s.key,
                _value(s.in_force, series.unite),
                escape(latest.citation if latest else "aucune valeur nationale"),
                fmt(text_date),
                fmt(s.checked_on),
                escape(late),
            )
        out.print(table)
        for key, reason in cfg.money.absent.items():
            out.print(escape(f"Non livré ({key}) : {reason}"))
        if confirmer:
            out.print(f"Vérification enregistrée au journal : {', '.join(confirmer)}.")
        out.print(
            f"{overdue} montant(s) à revoir : ajouter le nouveau texte (« siae montants ajouter ») ou confirmer "
            "qu'il n'y en a pas (« siae montants verifier --confirmer CLE »)."
            if overdue
            else "Aucun montant n'a dépassé sa date habituelle de revalorisation."
        )
