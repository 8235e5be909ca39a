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
"""

from datetime import date

from babel.dates import format_date
from sqlalchemy.orm import configure_mappers

import implantation.db.models  # noqa: F401  (declares the mappers configured below)
from flows.runtime.client import current_context
from implantation.dates import LOCALE

configure_mappers()
format_date(date(2026, 1, 1), "d MMMM y", locale=LOCALE)
current_context()
