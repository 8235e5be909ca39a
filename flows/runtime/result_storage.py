"""Every runner of one server keeps its task results on the same storage, checked when it starts.

A stage run replayed after its process died (:mod:`flows.runtime.recovery`) returns the stored results of
the tasks it had finished (``cache_policy`` of ``tasks/common.py``) instead of doing them again. When the
replay happens on another machine, that machine must read the same results: ``PREFECT_LOCAL_STORAGE_PATH``
names a folder shared by every runner (deploy/README.md). A runner whose folder is not that one would
replay from nothing; it refuses to start instead.

How a runner knows that its folder is the others': the first runner of a server writes a random token into
a file of its folder and into a Prefect variable; each later runner finds the same token in its own folder,
or refuses with the path it was given.
"""

import contextlib
import uuid
from pathlib import Path

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import VariableCreate
from prefect.exceptions import ObjectAlreadyExists
from prefect.logging import get_logger
from prefect.settings import get_current_settings

VARIABLE = "siae_stockage_resultats"
MARKER = ".siae-stockage"
logger = get_logger("runner.siae")


def storage_path() -> Path:
    return Path(get_current_settings().results.local_storage_path)


async def check(client: PrefectClient, folder: Path | None = None) -> str | None:
    """None when the results storage is usable and shared with the server's other runners; otherwise
    why not, in French."""
    folder = folder or storage_path()
    marker = folder / MARKER
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".ecriture-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return (
            f"Refus de démarrer : le stockage des résultats PREFECT_LOCAL_STORAGE_PATH={folder} n'est pas "
            f"accessible en écriture ({exc.strerror or exc})."
        )
    variable = await client.read_variable_by_name(VARIABLE)
    if variable is None:
        if not marker.exists():
            marker.write_text(uuid.uuid4().hex, encoding="utf-8")
        with contextlib.suppress(ObjectAlreadyExists):  # another runner started at the same moment
            await client.create_variable(
                VariableCreate(name=VARIABLE, value=marker.read_text(encoding="utf-8").strip())
            )
        variable = await client.read_variable_by_name(VARIABLE)
        assert variable is not None
    found = marker.read_text(encoding="utf-8").strip() if marker.exists() else None
    if found == variable.value:
        logger.info("Résultats des tâches : %s (partagés par les runners de ce serveur)", folder)
        return None
    return (
        f"Refus de démarrer : le stockage des résultats PREFECT_LOCAL_STORAGE_PATH={folder} n'est pas celui "
        "des autres runners de ce serveur (marque absente ou différente). Une reprise sur cette machine ne "
        "retrouverait pas les résultats des tâches déjà faites. Indiquer le dossier partagé par tous les "
        "runners (deploy/README.md, section 1). Si ce dossier est bien le nouveau dossier commun, sans exécution "
        f"en cours : supprimer la variable Prefect « {VARIABLE} » (prefect variable unset {VARIABLE}), puis "
        "redémarrer les runners."
    )
