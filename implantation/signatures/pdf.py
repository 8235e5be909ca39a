"""PAdES signatures on a stored PDF/A version, with pyHanko: sign with a certificate file, and verify what
a party returns.

What counts: the signed file begins with exactly the bytes of the PDF/A version stored by the application
(the signatures are incremental updates after them), each signature is intact, its certificate chains to
an anchor of :mod:`.trust` and was valid when verified, no update after the version changes anything but
signature fields, and (checked by :mod:`.register`) the signer is the person the document names.

Nothing is fetched from the network (``allow_fetching=False``); revocation is read from the lists in
``config/autorites``.
"""

import asyncio
import io
import logging
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

with warnings.catch_warnings():
    # pyHanko imports cryptography's DSA module, deprecated there; DSA is never used here.
    warnings.filterwarnings("ignore", message="DSA is deprecated", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message="DSA is deprecated")
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields, signers
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

from implantation.signatures.authority import DEMO_AUTHORITY_NAME
from implantation.signatures.trust import TrustAnchors

T = TypeVar("T")

# pyHanko logs each refused signature with its traceback; the refusal reaches the user as a French
# sentence instead. Records still propagate to whatever handlers the application configures.
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).addHandler(logging.NullHandler())


class SignatureRefused(ValueError):
    """The file or one of its signatures does not count; the message is French and gives the reason."""


@dataclass(frozen=True)
class CheckedSignature:
    """One signature of a file, as verified."""

    field_name: str
    common_name: str
    organisation: str
    subject: str
    serial: str
    issuer: str
    signing_time: datetime | None
    valid_from: datetime
    valid_until: datetime
    demonstration: bool
    summary: str


@dataclass(frozen=True)
class Identity:
    common_name: str
    organisation: str


def _name_part(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def certificate_identity(cert: x509.Certificate) -> Identity:
    return Identity(
        _name_part(cert.subject, x509.NameOID.COMMON_NAME),
        _name_part(cert.subject, x509.NameOID.ORGANIZATION_NAME),
    )


def load_p12(content: bytes, passphrase: str) -> signers.SimpleSigner:
    """The signer of a PKCS#12 file; refused in French if the file or the password is wrong."""
    try:
        signer = signers.SimpleSigner.load_pkcs12_data(
            content, other_certs=[], passphrase=passphrase.encode("utf-8")
        )
    except (ValueError, TypeError):
        raise SignatureRefused(
            "le fichier de certificat ne peut pas être ouvert : mot de passe incorrect, ou fichier .p12 invalide"
        ) from None
    if signer is None or signer.signing_cert is None:
        raise SignatureRefused("le fichier de certificat ne contient pas de certificat de signature")
    return signer


def p12_identity(signer: signers.SimpleSigner) -> Identity:
    assert signer.signing_cert is not None  # checked by load_p12
    cert = x509.load_der_x509_certificate(signer.signing_cert.dump())
    return certificate_identity(cert)


def _outside_any_event_loop(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """pyHanko's synchronous API wraps ``asyncio.run``, which refuses to start inside a running loop (a
    command called from an async caller, or beside a synchronous Playwright session): such callers get the
    call in a worker thread, which has no loop of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return call(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call, *args, **kwargs).result()


def sign(
    pdf: bytes,
    signer: signers.SimpleSigner,
    field_name: str,
    box: tuple[int, int, int, int],
    reason: str,
) -> bytes:
    """``pdf`` followed by one incremental update holding a PAdES baseline (B-B) signature in a new
    field on the last page, in ``box``: earlier signatures stay valid."""
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    except PdfReadError as exc:
        raise SignatureRefused(f"le PDF à signer est illisible ({exc})") from None
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location="France",
    )
    spec = fields.SigFieldSpec(sig_field_name=field_name, on_page=-1, box=box)
    out = _outside_any_event_loop(
        signers.PdfSigner(meta, signer=signer, new_field_spec=spec).sign_pdf, writer
    )
    return out.getvalue()


def field_names(pdf: bytes) -> list[str]:
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    except PdfReadError:
        return []
    return [s.field_name for s in reader.embedded_signatures]


def last_page_box(pdf: bytes) -> tuple[float, float]:
    """Width and height of the last page (the signature blocks end every document)."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    root = reader.root["/Pages"]
    count = int(root["/Count"])
    page, _ = reader.find_page_for_modification(count - 1)
    media = page.get_object()["/MediaBox"]
    return float(media[2]) - float(media[0]), float(media[3]) - float(media[1])


def _validation_context(anchors: TrustAnchors, moment: datetime) -> ValidationContext:
    roots = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in anchors.all]
    return ValidationContext(
        trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail", moment=moment
    )


def _fr(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%d/%m/%Y %H:%M UTC")


def verify(
    signed: bytes,
    base: bytes,
    anchors: TrustAnchors,
    moment: datetime | None = None,
    only: str | None = None,
) -> list[CheckedSignature]:
    """Every signature of ``signed`` (or only the one in field ``only``), verified against the stored
    version ``base``; raises :class:`SignatureRefused` with the reason at the first one that does not count."""
    when = moment or datetime.now(UTC)
    if when.tzinfo is None:  # SQLite gives stored times back without their zone: they are UTC
        when = when.replace(tzinfo=UTC)
    if len(signed) <= len(base) or not signed.startswith(base):
        raise SignatureRefused(
            "le contenu signé n'est pas exactement la version PDF/A produite par l'application "
            "(le fichier a été modifié, ou il signe une autre version)"
        )
    try:
        reader = PdfFileReader(io.BytesIO(signed), strict=False)
        embedded = list(reader.embedded_signatures)
    except (PdfReadError, ValueError, KeyError) as exc:
        raise SignatureRefused(f"le fichier signé est illisible ({exc})") from None
    if not embedded:
        raise SignatureRefused("le fichier ne contient aucune signature électronique")
    base_revision = _base_revision(base)
    _check_updates(reader, base_revision)
    context = _validation_context(anchors, when)
    chosen = [sig for sig in embedded if only is None or sig.field_name == only]
    if not chosen:
        raise SignatureRefused(f"la signature « {only} » n'est plus dans le fichier")
    return [_check_one(sig, len(base), anchors, context, when) for sig in chosen]


def _base_revision(base: bytes) -> int:
    reader = PdfFileReader(io.BytesIO(base), strict=False)
    return reader.xrefs.total_revisions - 1


# What a signature update may change in an object of the stored version: the catalogue gains the form
# (and the validation data of later signature levels), a page gains the signature's widget, the document
# information and the XMP metadata are restamped by signing tools.
_CATALOGUE_KEYS = {"/AcroForm", "/DSS", "/Perms", "/Metadata", "/Extensions", "/Version"}
_PAGE_KEYS = {"/Annots"}


def _check_updates(reader: PdfFileReader, base_revision: int) -> None:
    """Every update after the stored version adds objects or signature fields and changes nothing the
    version shows: an object of the version is rewritten only in the keys above."""
    base = reader.get_historical_resolver(base_revision)
    root_ref = base.trailer_view.raw_get("/Root")
    info_ref = base.trailer_view.raw_get("/Info") if "/Info" in base.trailer_view else None
    metadata = base.root.raw_get("/Metadata") if "/Metadata" in base.root else None
    pages = _page_refs(base)
    for revision in range(base_revision + 1, reader.xrefs.total_revisions):
        current = reader.get_historical_resolver(revision)
        for ref in reader.xrefs.explicit_refs_in_revision(revision):
            try:
                introduced = reader.xrefs.get_introducing_revision(ref)
            except KeyError:
                continue
            if introduced > base_revision:
                continue  # an object the signatures added
            if _same_ref(ref, info_ref) or _same_ref(ref, metadata):
                continue
            old, new = base.get_object(ref), current.get_object(ref)
            allowed = (
                _CATALOGUE_KEYS if _same_ref(ref, root_ref) else _PAGE_KEYS if _key(ref) in pages else None
            )
            if (
                allowed is None
                or not _same_except(old, new, allowed)
                or (allowed is _PAGE_KEYS and not _only_signature_widgets_added(old, new))
            ):
                raise SignatureRefused(
                    "le document a été modifié après sa production : une mise à jour ajoutée au PDF/A change "
                    f"son contenu (objet {ref.idnum}), pas seulement ses signatures"
                )
        if reader.xrefs.refs_freed_in_revision(revision):
            raise SignatureRefused(
                "le document a été modifié après sa production : des objets ont été supprimés"
            )


def _key(ref: object) -> tuple[int, int]:
    return (int(getattr(ref, "idnum", -1)), int(getattr(ref, "generation", 0)))


def _same_ref(ref: object, other: object) -> bool:
    return other is not None and _key(ref) == _key(other)


def _page_refs(resolver: object) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()

    def walk(node_ref: object) -> None:
        node = node_ref.get_object()  # type: ignore[attr-defined]
        if node.get("/Type") == "/Pages":
            for kid in node["/Kids"]:
                walk(kid)
        else:
            found.add(_key(node_ref))

    walk(resolver.root.raw_get("/Pages"))  # type: ignore[attr-defined]
    return found


def _annotations(page: dict) -> list:
    annots = page.get("/Annots")
    if annots is None:
        return []
    return list(annots.get_object() if hasattr(annots, "get_object") else annots)


def _only_signature_widgets_added(old: dict, new: dict) -> bool:
    """A page keeps its annotations and gains only signature fields' widgets: a note or a stamp laid over
    the text would change what the version shows."""
    before = [_key(a) for a in _annotations(old)]
    after = _annotations(new)
    if [_key(a) for a in after[: len(before)]] != before:
        return False
    for annotation in after[len(before) :]:
        widget = annotation.get_object() if hasattr(annotation, "get_object") else annotation
        field = widget
        while "/FT" not in field and "/Parent" in field:
            field = field["/Parent"].get_object()
        if widget.get("/Subtype") != "/Widget" or field.get("/FT") != "/Sig":
            return False
    return True


def _same_except(old: object, new: object, allowed: set[str]) -> bool:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return False
    keys = (set(old) | set(new)) - allowed
    return all(old.get(k) == new.get(k) for k in keys)


def _check_one(
    sig: object, base_length: int, anchors: TrustAnchors, context: ValidationContext, when: datetime
) -> CheckedSignature:
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

    assert isinstance(sig, EmbeddedPdfSignature)
    name = sig.field_name
    byte_range = [int(x) for x in sig.byte_range]
    if byte_range[0] != 0 or byte_range[2] + byte_range[3] <= base_length:
        raise SignatureRefused(f"la signature « {name} » ne couvre pas toute la version PDF/A produite")
    cert = x509.load_der_x509_certificate(sig.signer_cert.dump())
    identity = certificate_identity(cert)
    who = f"la signature « {name} » ({identity.common_name or cert.subject.rfc4514_string()})"
    try:
        status = _outside_any_event_loop(validate_pdf_signature, sig, signer_validation_context=context)
    except Exception as exc:  # malformed CMS, unsupported algorithm
        raise SignatureRefused(f"{who} ne peut pas être vérifiée ({exc})") from None
    if not (status.intact and status.valid):
        raise SignatureRefused(f"{who} n'est pas intègre : le contenu signé a été modifié")
    valid_from, valid_until = cert.not_valid_before_utc, cert.not_valid_after_utc
    if when > valid_until:
        raise SignatureRefused(f"{who} : le certificat a expiré le {_fr(valid_until)}")
    if when < valid_from:
        raise SignatureRefused(f"{who} : le certificat n'est valable qu'à partir du {_fr(valid_from)}")
    revoked = anchors.revoked(cert.issuer, cert.serial_number)
    if revoked is not None or status.revoked:
        on = f" le {_fr(revoked.on)}" if revoked else ""
        raise SignatureRefused(f"{who} : le certificat a été révoqué{on}")
    if not status.trusted:
        issuer = cert.issuer.rfc4514_string()
        if DEMO_AUTHORITY_NAME in issuer:
            raise SignatureRefused(
                f"{who} : le certificat est émis par l'autorité de DÉMONSTRATION, reconnue seulement en mode "
                "démonstration ou test (SIAE_MODE=demo) avec les données de la démonstration (SIAE_DATA_DIR)"
            )
        raise SignatureRefused(
            f"{who} : le certificat n'est pas émis par une autorité reconnue (émetteur : {issuer}) ; "
            "les autorités reconnues sont les certificats du dossier config/autorites"
        )
    if not status.docmdp_ok:
        raise SignatureRefused(f"{who} : le document a été modifié d'une manière que la signature interdit")
    signed_at = status.signer_reported_dt or sig.self_reported_timestamp
    return CheckedSignature(
        field_name=name,
        common_name=identity.common_name,
        organisation=identity.organisation,
        subject=cert.subject.rfc4514_string(),
        serial=format(cert.serial_number, "X"),
        issuer=cert.issuer.rfc4514_string(),
        signing_time=signed_at,
        valid_from=valid_from,
        valid_until=valid_until,
        demonstration=anchors.is_demonstration(cert.issuer),
        summary=f"intègre ; certificat valide et reconnu le {_fr(when)}",
    )
