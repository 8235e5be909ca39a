"""What every task shares: the options that make a resumed flow replay safely, and the domain runtime.

After ``suspend_flow_run`` the flow function runs again from the top. Each task therefore persists its
result and is cached by its inputs and the flow run id only: the default policy also hashes the task's
source code, so deploying a fix while a gate waits for weeks would replay every finished task. The
task's name is added to the key (see :class:`TaskName`). Task
results are persisted on disk by Prefect, so tasks return ids, counts and French messages, never the
data of a person detained.
"""

from dataclasses import dataclass
from typing import Any

from prefect.cache_policies import INPUTS, RUN_ID, CachePolicy
from prefect.context import TaskRunContext
from sqlalchemy.engine import Engine

from implantation.config.loader import get_process_config
from implantation.config.schema import ProcessConfig
from implantation.db.session import get_engine
from implantation.settings import Settings, get_settings


@dataclass
class TaskName(CachePolicy):
    """The task's declared name: without it, two tasks called with the same inputs in the same run share
    one cache key (Prefect's key is only the hash of its policies), and the second returns the first's result.
    """

    def compute_key(
        self, task_ctx: TaskRunContext, inputs: dict[str, Any], flow_parameters: dict[str, Any], **kwargs: Any
    ) -> str | None:
        return task_ctx.task.name if task_ctx else None


TASK_OPTIONS: dict[str, Any] = {
    "persist_result": True,
    "cache_policy": INPUTS + RUN_ID + TaskName(),
}


def runtime() -> tuple[Settings, ProcessConfig, Engine]:
    settings = get_settings()
    return settings, get_process_config(settings.config_dir), get_engine(settings.effective_database_url)
