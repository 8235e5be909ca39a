"""The scan of a handwritten signature (the opérateur signs on paper): a PDF or an image, checked to be
one before it is kept, with its hash."""

import io
import warnings

from PIL import Image, UnidentifiedImageError

MAX_BYTES = 20 * 1024 * 1024
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "TIFF": "image/tiff"}


class ScanRefused(ValueError):
    """Not a scan this register keeps; the message is French."""


def media_type(content: bytes) -> str:
    """``application/pdf`` or the image's type; refused when the file is neither, or too large."""
    if not content:
        raise ScanRefused("le fichier de la numérisation est vide")
    if len(content) > MAX_BYTES:
        raise ScanRefused(f"la numérisation dépasse {MAX_BYTES // (1024 * 1024)} Mo")
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                kind = image.format or ""
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombWarning, ValueError):
        raise ScanRefused("la numérisation n'est ni un PDF ni une image PNG, JPEG ou TIFF lisible") from None
    if kind not in IMAGE_TYPES:
        raise ScanRefused(f"format d'image non accepté ({kind}) : PDF, PNG, JPEG ou TIFF")
    return IMAGE_TYPES[kind]
