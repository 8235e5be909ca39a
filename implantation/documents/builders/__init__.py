"""One builder per stage-5 document, each turning database rows into its template's context.

The shared parts (problem list, project rows, parties, opérateur) live in :mod:`.common`.
"""

from implantation.documents.builders.cep import build_cep_context
from implantation.documents.builders.cep_annex import build_cep_annex_context
from implantation.documents.builders.common import SHORT_LABEL, Checker, DocumentDataError, shared_reads
from implantation.documents.builders.convention import build_convention_context
from implantation.documents.builders.dui import build_dui_context
from implantation.documents.builders.implantation_contract import build_implantation_context

__all__ = [
    "SHORT_LABEL",
    "Checker",
    "DocumentDataError",
    "build_cep_annex_context",
    "build_cep_context",
    "build_convention_context",
    "build_dui_context",
    "build_implantation_context",
    "shared_reads",
]
