"""French titles for the parameters of the deployments' run forms.

Prefect builds each parameter's schema with ``title=<parameter name>``, which overrides a ``title``
given in ``Annotated[..., Field(title=...)]``; the run form would then show ``etablissement_id``.
A title passed through ``json_schema_extra`` is written last into the generated schema, so it is the
one the form shows. The test of the deployments' schemas fails if a Prefect or pydantic release
changes that.
"""

from typing import Any

from pydantic import Field


def titled(title: str, **constraints: Any) -> Any:
    """A parameter's field with its French title in the run form (and its usual constraints)."""
    return Field(json_schema_extra={"title": title}, **constraints)
