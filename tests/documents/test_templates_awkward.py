"""Each Word template rendered with awkward values in every field, then reopened: what a jurist's edit must survive.

The values come from the context model itself (every string field, every list), so a field added later is
covered without touching this test.
"""

import zipfile
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from lxml import etree
from pydantic import BaseModel

from implantation.documents import contexts
from implantation.documents.render import render_docx, template_path
from implantation.enums import DocumentKind
from implantation.settings import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "document_templates"
MODELS: dict[DocumentKind, type[BaseModel]] = {
    DocumentKind.DUI: contexts.DuiContext,
    DocumentKind.CONVENTION: contexts.ConventionContext,
    DocumentKind.IMPLANTATION_CONTRACT: contexts.ImplantationContext,
    DocumentKind.CEP: contexts.CepContext,
    DocumentKind.CEP_ANNEX: contexts.CepAnnexContext,
}
AWKWARD = 'Œuvre « Ça & Cie » <b>gras</b> "{{ 7*7 }}" {% if x %}' + "é" * 3
LONG_NAME = "Marie-Françoise-Élisabeth " + "de Saint-Exupéry-Lagarde " * 12


def _fill(model: type[BaseModel], path: str = "") -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        annotation = field.annotation
        here = f"{path}{name}"
        if getattr(annotation, "__origin__", None) is list:
            (item,) = annotation.__args__  # type: ignore[union-attr]
            if isinstance(item, type) and issubclass(item, BaseModel):
                values[name] = [_fill(item, here + "[0]."), _fill(item, here + "[1].")]
            else:
                values[name] = [f"{AWKWARD} {here}[0]", LONG_NAME]
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            values[name] = _fill(annotation, here + ".")
        else:
            values[name] = LONG_NAME if name in ("last_name", "name", "head_name") else f"{AWKWARD} {here}"
    return values


def _text(path: Path) -> str:
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for row in t.rows for c in row.cells]
    parts += [p.text for s in doc.sections for p in s.header.paragraphs + s.footer.paragraphs]
    return "\n".join(parts)


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_template_renders_awkward_values_literally_and_reopens(kind: DocumentKind, tmp_path: Path) -> None:
    context = MODELS[kind].model_validate(_fill(MODELS[kind]))
    target = tmp_path / f"{kind.value}.docx"
    render_docx(template_path(TEMPLATES, kind), context, target)
    with zipfile.ZipFile(target) as archive:
        for name in archive.namelist():
            if name.endswith(".xml"):
                etree.fromstring(archive.read(name))  # well-formed XML in every part
    text = _text(target)
    assert f"{AWKWARD} title" in text  # title: escaped, not interpreted, accents kept
    assert "49" not in text  # no expression was evaluated
    assert LONG_NAME.strip() in text
    assert f"{AWKWARD} demonstration_banner" in text  # the header of every page
    # A banner (a demonstration document) prefixes the title the PDF carries.
    assert Document(str(target)).core_properties.title == f"{AWKWARD} demonstration_banner — {AWKWARD} title"
