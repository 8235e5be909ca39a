"""French formatting of dates, amounts and numbers for the documents.

Babel separates thousands with a narrow no-break space (U+202F), which some Word fonts lack; every
figure here uses the ordinary no-break space (U+00A0) instead, so « 3 000,00 € » never wraps.
"""

from decimal import Decimal

from babel.numbers import format_currency, format_decimal
from num2words import num2words

from implantation.contract_rules import to_cents
from implantation.dates import fr_date as fr_date  # the documents write dates as everywhere else

LOCALE = "fr_FR"
NBSP = "\u00a0"


def _nbsp(text: str) -> str:
    return text.replace("\u202f", NBSP)


def fr_money(value: Decimal) -> str:
    """« 3 000,00 € » with no-break spaces."""
    return _nbsp(format_currency(to_cents(value), "EUR", locale=LOCALE))


def fr_number(value: Decimal | float | int) -> str:
    """« 12,5 », « 1 350 »."""
    return _nbsp(format_decimal(Decimal(str(value)), locale=LOCALE))


def fr_percent(fraction: Decimal) -> str:
    """0.45 → « 45 % »."""
    return fr_number((fraction * 100).normalize()) + NBSP + "%"


def money_words(value: Decimal) -> str:
    """3000 → « trois mille euros », 5.41 → « cinq euros et quarante et un centimes »."""
    cents_total = int(to_cents(value) * 100)
    euros, cents = divmod(cents_total, 100)
    words = num2words(euros, lang="fr")
    if words.endswith(("million", "millions", "milliard", "milliards")):
        text = f"{words} d'euros"
    else:
        text = f"{words} euro" + ("s" if euros > 1 else "")
    if cents:
        text += f" et {num2words(cents, lang='fr')} centime" + ("s" if cents > 1 else "")
    return text
