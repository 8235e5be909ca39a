"""A throwaway certificate authority for the demonstration and the tests, made at run time.

Its name says it is a demonstration authority; :mod:`.trust` trusts it only when ``SIAE_MODE`` is
``demo`` or ``test``. Nothing here is fit for real signatures: the key sits unencrypted beside the
certificate, in the data folder of the demonstration.
"""

import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEMO_AUTHORITY_NAME = "Autorité de certification de DÉMONSTRATION SIAE (sans valeur)"
DEMO_FOLDER = "autorite-demonstration"
CERT_FILE = "autorite-demonstration.pem"
KEY_FILE = "autorite-demonstration.key"


@dataclass(frozen=True)
class DemoAuthority:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def issue_p12(
        self,
        name: str,
        organisation: str,
        passphrase: str,
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> bytes:
        """A signing certificate for ``name`` of ``organisation``, with its key, as a PKCS#12 file."""
        start = not_before or datetime.now(UTC) - timedelta(days=1)
        end = not_after or start + timedelta(days=730)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_signing_usage(), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return pkcs12.serialize_key_and_certificates(
            name.encode("utf-8"),
            key,
            cert,
            [self.certificate],
            serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
        )


def _signing_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def new_authority(common_name: str = DEMO_AUTHORITY_NAME) -> DemoAuthority:
    """A fresh authority, kept in memory (the tests make one nobody trusts)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Démonstration SIAE en détention"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=2))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return DemoAuthority(cert, key)


def demo_authority(data_dir: Path) -> DemoAuthority:
    """The demonstration authority of this data folder, made the first time it is needed (in a private
    folder then moved into place, so that two processes starting together end with one key pair)."""
    folder = data_dir / DEMO_FOLDER
    if not (folder / CERT_FILE).is_file():
        authority = new_authority()
        data_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{DEMO_FOLDER}-", dir=data_dir))
        (staging / KEY_FILE).write_bytes(
            authority.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        (staging / CERT_FILE).write_bytes(authority.certificate.public_bytes(serialization.Encoding.PEM))
        try:
            staging.rename(folder)
        except OSError:  # made meanwhile by another process: that one stands
            shutil.rmtree(staging, ignore_errors=True)
    cert = x509.load_pem_x509_certificate((folder / CERT_FILE).read_bytes())
    key = serialization.load_pem_private_key((folder / KEY_FILE).read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return DemoAuthority(cert, key)
