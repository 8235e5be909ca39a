"""Work that every flow run would repeat, done once in the runner's forkserver (see
:data:`flows.runtime.warm_start.PRELOAD`): the forked runs find it done.

Measured in each run before: SQLAlchemy configures the application's mappers at the first query of a
process (0.04 s in the decision of a resumed run, while the person who clicked waits), and Babel loads
the French locale data at the first date written in an e-mail (0.03 s). Both depend on the code only,
not on data a person could change while the runner is up.

The TLS context that all Prefect clients of a run share (:mod:`flows.runtime.client`) was built in each
run, by its first client: 0.05 s of CPU (py-spy, under load) as the run starts, twice per decision (the
resumed run, then the next stage's). Built here from the forkserver's settings, it is inherited by every
forked run; a run whose TLS settings differ builds its own, as before.

Found by py-spy in the runs of the national benchmark (share of the flow processes' samples): importing
``icalendar`` for the stage-opening e-mail's ``.ics`` (2 %), compiling the e-mail templates (2 %), reading
and validating ``config/`` (1.8 %). Each is now done here once. The configuration is read from the
forkserver's settings, without caching them; a run whose settings name another folder reads that one, and
each run first forgets a configuration whose files changed since (see ``warm_start``), as each run saw the
files of its start before.
"""

import contextlib
from datetime import date

import icalendar  # noqa: F401  (the stage-opening e-mail's calendar)
from babel.dates import format_date
from pydantic import ValidationError
from sqlalchemy.orm import configure_mappers

import implantation.db.models  # noqa: F401  (declares the mappers configured below)
from flows.runtime import heap, tuning
from flows.runtime.client import current_context
from implantation.config.loader import ConfigError, get_process_config
from implantation.dates import LOCALE
from implantation.notifications.mailer import compile_templates
from implantation.settings import Settings

configure_mappers()
format_date(date(2026, 1, 1), "d MMMM y", locale=LOCALE)
current_context()
compile_templates()
settings: Settings | None = None
with contextlib.suppress(ConfigError, ValidationError, OSError):  # each run reports it, as before
    settings = Settings()
    get_process_config(settings.config_dir)

# Last: what is loaded now is what the runs inherit. The runner refused unknown patch names before it
# started this process; settings that do not validate leave the heap as it is (each run reports them).
if settings is not None and tuning.GC_HEAP in tuning.active(settings):
    heap.freeze_forkserver()
