"""The certificates a signature may chain to, and the revocation lists configured beside them.

``config/autorites/`` holds the root and intermediate certificates of the authorities the
administrations' signing certificates come from (RGS or eIDAS qualified: the French trusted list, « liste
de confiance » published by the ANSSI, names them), as PEM or DER files (``.pem``, ``.crt``, ``.cer``,
``.der``), and their revocation lists (``.crl``) when the operator keeps them up to date. Nothing is
fetched from the network: revocation is checked only against these lists.

The demonstration authority (``SIAE_DATA_DIR/autorite-demonstration``, made by ``make demo`` beside its
SQLite database) is added only in demo and test mode.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography import x509

from implantation.signatures.authority import DEMO_FOLDER

TRUST_FOLDER = "autorites"
CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der")


class TrustConfigError(RuntimeError):
    """An anchor or a revocation list that cannot be read; the message is French."""


@dataclass(frozen=True)
class Revocation:
    issuer: x509.Name
    serial: int
    on: datetime


@dataclass(frozen=True)
class TrustAnchors:
    certificates: list[x509.Certificate] = field(default_factory=list)
    demonstration: list[x509.Certificate] = field(default_factory=list)
    crls: list[x509.CertificateRevocationList] = field(default_factory=list)

    @property
    def all(self) -> list[x509.Certificate]:
        return [*self.certificates, *self.demonstration]

    def revoked(self, issuer: x509.Name, serial: int) -> Revocation | None:
        for crl in self.crls:
            if crl.issuer != issuer:
                continue
            entry = crl.get_revoked_certificate_by_serial_number(serial)
            if entry is not None:
                return Revocation(issuer, serial, entry.revocation_date_utc)
        return None

    def is_demonstration(self, issuer: x509.Name) -> bool:
        return any(c.subject == issuer for c in self.demonstration)


def _load_certificates(path: Path) -> list[x509.Certificate]:
    data = path.read_bytes()
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise TrustConfigError(f"certificat d'autorité illisible : {path} ({exc})") from None


def _load_crl(path: Path) -> x509.CertificateRevocationList:
    data = path.read_bytes()
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError as exc:
        raise TrustConfigError(f"liste de révocation illisible : {path} ({exc})") from None


def _certificates_in(folder: Path) -> list[x509.Certificate]:
    if not folder.is_dir():
        return []
    found: list[x509.Certificate] = []
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix.lower() in CERT_SUFFIXES:
            found += _load_certificates(path)
    return found


def load_anchors(config_dir: Path, demo_dirs: Sequence[Path] = ()) -> TrustAnchors:
    """The anchors of ``config_dir/autorites``, and the demonstration authorities found in ``demo_dirs``
    (given only in demo and test mode)."""
    folder = config_dir / TRUST_FOLDER
    crls = [_load_crl(p) for p in sorted(folder.glob("*.crl")) if p.is_file()] if folder.is_dir() else []
    demo: list[x509.Certificate] = []
    for directory in dict.fromkeys(demo_dirs):
        demo += [c for c in _certificates_in(directory / DEMO_FOLDER) if c not in demo]
    return TrustAnchors(_certificates_in(folder), demo, crls)
