"""``siae journal …``: check the hash chain of decisions, documents and signatures, and print its head."""

import typer

from implantation.cli.common import database, fail, handled, out
from implantation.db.journal import Verification, legacy_digests, verify

journal_app = typer.Typer(
    name="journal",
    help="Journal infalsifiable : décisions, documents et signatures chaînés par SHA-256.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _verified() -> Verification:
    with database() as session:
        return verify(session.connection())


def _before_reseal(digest: str) -> bool:
    """A digest published before revision 0008 re-sealed the chain with more fields."""
    with database() as session:
        return digest in legacy_digests(session.connection())


def head_line(result: Verification) -> str:
    when = f"{result.head_at:%d/%m/%Y %H:%M:%S} UTC" if result.head_at else "journal vide"
    return f"Empreinte du journal ({result.links} maillon(s), {when}) : {result.head_digest}"


@journal_app.command("verifier")
def verifier(
    empreinte: str | None = typer.Option(
        None,
        "--empreinte",
        help="Empreinte publiée auparavant (artefact « empreinte-journal ») : elle doit figurer dans la chaîne",
    ),
) -> None:
    """Recalcule toute la chaîne ; échoue en nommant la première ligne modifiée, insérée ou supprimée."""
    with handled():
        result = _verified()
        if not result.ok:
            fail(f"journal altéré : {result.problem}.")
        published = (empreinte or "").strip().lower()
        if empreinte is not None and published not in result.digests and not _before_reseal(published):
            fail(
                f"l'empreinte « {empreinte.strip()[:64]} » ne figure plus dans la chaîne : "
                "le journal a été réécrit depuis sa publication."
            )
        out.print(f"Journal intègre : {result.links} maillon(s) vérifié(s).")
        if empreinte is not None:
            out.print("L'empreinte publiée figure dans la chaîne : le passé n'a pas été réécrit.")
        out.print(head_line(result))


@journal_app.command("empreinte")
def empreinte() -> None:
    """Affiche l'empreinte de tête du journal et sa date, après avoir vérifié la chaîne."""
    with handled():
        result = _verified()
        if not result.ok:
            fail(f"journal altéré : {result.problem} ; aucune empreinte à publier.")
        out.print(head_line(result))
