"""Fills a .docx template with a context model, and converts a pack to PDF/A-2b with one LibreOffice run.

Autoescape is on and undefined names fail, so « & < > » and « {{ … }} » typed by a user come out literally
and a tag that the context does not fill stops the rendering instead of leaving a blank.
"""

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import zipfile
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, cast

import jinja2
from docx.opc.exceptions import PackageNotFoundError
from docxtpl import DocxTemplate
from jinja2 import nodes
from lxml import etree
from pydantic import BaseModel

from implantation.enums import DocumentKind

TEMPLATE_FILES = {
    DocumentKind.DUI: "dui.docx",
    DocumentKind.CONVENTION: "convention.docx",
    DocumentKind.IMPLANTATION_CONTRACT: "contrat_implantation.docx",
    DocumentKind.CEP: "cep.docx",
    DocumentKind.CEP_ANNEX: "annexe_cep.docx",
}


# LibreOffice's PDF export with « PDF/A-2b » selected (SelectPdfVersion 2); its XMP says pdfaid:part 2.
PDFA_FILTER = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'


class LibreOfficeError(RuntimeError):
    """PDF conversion impossible; the message is French and says what to do."""


class _CachingEnvironment(jinja2.Environment):
    """Compiles each distinct XML source once: the 12 CEPs of a pack share one template, and compiling
    dominated the rendering time (docxtpl calls ``from_string`` for every part of every document)."""

    def from_string(self, source: Any, globals: Any = None, template_class: Any = None) -> jinja2.Template:
        if globals is not None or template_class is not None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        return self._compiled(source)

    @lru_cache(maxsize=64)  # noqa: B019 - one module-level instance, never collected
    def _compiled(self, source: str) -> jinja2.Template:
        return super().from_string(source)


_ENV = _CachingEnvironment(autoescape=True, undefined=jinja2.StrictUndefined)


def jinja_env() -> jinja2.Environment:
    return _ENV


_KEPT = 64  # cleaned XML sources kept: five templates, a few parts each


class _Template(DocxTemplate):
    """docxtpl's template, whose XML clean-up before compiling is done once per distinct XML.

    ``patch_xml`` runs some twenty regular expressions over each part (1.9 % of the runs' CPU in the
    national benchmark, as much as compiling it); its result depends on the XML alone. The cleaned XML
    is kept per source, at most :data:`_KEPT` of them.
    """

    patched: ClassVar[dict[str, str]] = {}

    def patch_xml(self, src_xml: str) -> str:
        if (cleaned := self.patched.get(src_xml)) is None:
            if len(self.patched) >= _KEPT:
                self.patched.clear()
            cleaned = self.patched[src_xml] = super().patch_xml(src_xml)
        return cleaned


# What a template that is not a readable .docx, or not valid Jinja, raises while it is prepared.
_UNREADABLE = (
    OSError,
    ValueError,
    KeyError,
    zipfile.BadZipFile,
    PackageNotFoundError,
    etree.LxmlError,
    jinja2.TemplateError,
)


class _Unrendered:
    def __init__(self, source: str) -> None:
        self.source = source

    def render(self, *_args: Any, **_kwargs: Any) -> str:
        return self.source


class _CompileOnly:
    """Stands for the environment while warming: compiles each part into the shared cache, renders nothing."""

    def from_string(self, source: str) -> _Unrendered:
        _ENV.from_string(source)
        return _Unrendered(source)


def warm_templates(templates_dir: Path) -> int:
    """Prepare every template as a rendering would (clean-up and compilation of each part); returns how many.

    Called where processes are forked from (the runner's forkserver: every run then finds them prepared,
    :mod:`flows.runtime.preload`). The template goes through docxtpl's own rendering, with an environment
    that compiles into the shared cache and leaves the text as it is, so the cache holds exactly what a
    rendering asks for. A template changed since is a new source, prepared at its first use.
    """
    prepared = 0
    for name in TEMPLATE_FILES.values():
        if not (path := templates_dir / name).is_file():
            continue
        try:
            _Template(path).render({}, jinja_env=cast(jinja2.Environment, _CompileOnly()))
        except _UNREADABLE:  # the rendering that needs it reports it, in French, as before
            continue
        prepared += 1
    return prepared


def template_path(templates_dir: Path, kind: DocumentKind) -> Path:
    return templates_dir / TEMPLATE_FILES[kind]


def content_checksum(template: Path, context: BaseModel) -> str:
    """Same template bytes and same data give the same checksum, whatever the .docx zip timestamps."""
    digest = hashlib.sha256(template.read_bytes())
    digest.update(json.dumps(context.model_dump(mode="json"), sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(value: Any) -> Any:
    """Drop characters XML 1.0 forbids (and docxtpl's \\a, \\f paragraph tricks); keep tabs and newlines."""
    if isinstance(value, str):
        return _XML_INVALID.sub("", value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def _set_properties(doc: DocxTemplate, values: dict[str, Any]) -> None:
    """Title, subject, author (the issuing administration) and project reference in the core properties,
    which LibreOffice carries into the PDF; otherwise the files say « python-docx » and nothing else."""
    props = doc.docx.core_properties
    banner = values.get("demonstration_banner", "")
    props.title = f"{banner} — {values.get('title', '')}" if banner else values.get("title", "")
    props.subject = values.get("subject", "")
    props.author = props.last_modified_by = values.get("author", "")
    props.keywords = props.identifier = values.get("project_reference", "")
    props.category = "Documents de l'étape 5 : implantation d'une SIAE en établissement pénitentiaire"
    props.comments = ""
    props.revision = 1
    # The template's own dates (2013) would otherwise be the document's.
    props.created = props.modified = datetime.now(UTC).replace(microsecond=0, tzinfo=None)


def render_docx_bytes(template: Path, context: BaseModel) -> bytes:
    """The rendered .docx, in memory: its bytes go to the database with the version's row."""
    doc = _Template(template)
    values = _clean(context.model_dump(mode="json"))
    doc.render(values, jinja_env=jinja_env())
    _set_properties(doc, values)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def render_docx(template: Path, context: BaseModel, target: Path) -> None:
    """Render to a temporary name then move, so a crash never leaves half a document under the final name."""
    content = render_docx_bytes(template, context)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial.docx")
    partial.write_bytes(content)
    partial.replace(target)


def find_soffice(configured: str | None) -> str | None:
    if configured:
        return configured if Path(configured).exists() else shutil.which(configured)
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_pdf(soffice: str, docx_files: list[Path], timeout: float = 300) -> list[Path]:
    """One soffice process for the whole pack, with a private profile so concurrent runs do not collide.

    The PDFs are written to a private directory, then moved beside their DOCX: a conversion running at
    the same time never sees a half-written file. soffice leads a process group of its own, all of which
    is killed past ``timeout``: no LibreOffice process outlives the conversion.
    """
    if not docx_files:
        return []
    folder = docx_files[0].parent
    with (
        tempfile.TemporaryDirectory(prefix="siae-lo-") as profile,
        tempfile.TemporaryDirectory(prefix=".pdf-", dir=folder) as outdir,
    ):
        cmd = [
            soffice,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            PDFA_FILTER,
            "--outdir",
            outdir,
            *[str(f) for f in docx_files],
        ]
        process = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _end_group(process)
            raise LibreOfficeError(
                f"LibreOffice n'a pas terminé la conversion en PDF en {timeout:.0f} secondes."
            ) from None
        finally:
            _end_group(process)
        made = [Path(outdir) / f.with_suffix(".pdf").name for f in docx_files]
        missing = [p.name for p in made if not p.exists()]
        if missing:
            detail = (stderr or stdout).strip()[-500:]
            raise LibreOfficeError(
                f"LibreOffice n'a pas produit : {', '.join(missing)} (code {process.returncode}). {detail}".strip()
            )
        pdfs = [f.with_suffix(".pdf") for f in docx_files]
        for source, target in zip(made, pdfs, strict=True):
            source.replace(target)
    return pdfs


def _end_group(process: subprocess.Popen[str]) -> None:
    """Kill what remains of soffice's process group (a helper it started), then reap soffice."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def template_paths(template: Path) -> set[str]:
    """Dotted paths a template reads, loops written ``name[]``: ``siae.name``, ``charges[].label``, ``visas[]``."""
    doc = DocxTemplate(template)
    docx = doc.get_docx()
    xml = doc.patch_xml(doc.xml_to_string(docx._element.body))
    for rel in docx._part.rels.values():
        if rel.reltype in (doc.HEADER_URI, doc.FOOTER_URI):
            xml += doc.patch_xml(rel.target_part.blob.decode("utf-8"))
    tree = jinja_env().parse(xml)
    found: set[str] = set()
    _walk(tree, {}, found)
    return found


def _path(node: nodes.Node, scope: dict[str, str]) -> str | None:
    if isinstance(node, nodes.Name):
        return scope.get(node.name, node.name)
    if isinstance(node, nodes.Getattr):
        base = _path(node.node, scope)
        return f"{base}.{node.attr}" if base is not None else None
    return None


def _walk(node: nodes.Node, scope: dict[str, str], found: set[str]) -> None:
    if isinstance(node, nodes.For):
        base = _path(node.iter, scope)
        if base is None:
            _walk(node.iter, scope, found)
        inner = dict(scope)
        if isinstance(node.target, nodes.Name) and base is not None:
            inner[node.target.name] = base + "[]"
        for child in [*node.body, *node.else_]:
            _walk(child, inner, found)
        if node.test is not None:
            _walk(node.test, inner, found)
        return
    if isinstance(node, nodes.Name | nodes.Getattr):
        path = _path(node, scope)
        if path is not None:
            found.add(path)
            return
    for child in node.iter_child_nodes():
        _walk(child, scope, found)


def model_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Leaf paths a context model provides, in the same notation as :func:`template_paths`."""
    out: set[str] = set()
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = field.annotation
        origin = getattr(annotation, "__origin__", None)
        if origin is list:
            (item,) = annotation.__args__  # type: ignore[union-attr]
            if isinstance(item, type) and issubclass(item, BaseModel):
                out |= model_paths(item, path + "[].")
            else:
                out.add(path + "[]")
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out |= model_paths(annotation, path + ".")
        else:
            out.add(path)
    return out
