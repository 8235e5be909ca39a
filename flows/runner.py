"""The runner: registers the three deployments and executes their runs until stopped.

``python -m flows.runner`` is started by ``python -m flows.serve`` (and by the demo and tests); run it
alone to add a runner to an existing server.
"""

from prefect import serve
from prefect.schedules import Cron

from flows.implantation_flow import demarrer_implantation
from flows.stage_flow import etape
from flows.sweeper import echeances
from implantation.cli.common import FrenchArgumentParser

SWEEP_CRON = "0 7 * * 1-5"
SWEEP_TIMEZONE = "Europe/Paris"


def deployments(schedules: bool = True) -> list:
    return [
        demarrer_implantation.to_deployment(
            name="demarrer-implantation",
            description="Démarrer une implantation : création du projet et ouverture de l'étape 1.",
            tags=["siae"],
        ),
        etape.to_deployment(
            name="etape",
            description="Une étape du projet, jusqu'à la décision (lancée par le processus, pas à la main).",
            tags=["siae"],
        ),
        echeances.to_deployment(
            name="echeances",
            description="Rappels avant échéance et relances hebdomadaires après.",
            tags=["siae"],
            schedules=[Cron(SWEEP_CRON, timezone=SWEEP_TIMEZONE)] if schedules else [],
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = FrenchArgumentParser(description="Exécute les déploiements SIAE jusqu'à l'arrêt.")
    parser.add_argument(
        "--sans-planification",
        action="store_true",
        help="Ne pas planifier le balayage quotidien des échéances",
    )
    args = parser.parse_args(argv)
    serve(*deployments(schedules=not args.sans_planification), print_starting_message=False)


if __name__ == "__main__":
    main()
