"""What a recipient reads, in their language: gettext catalogs (`<language>/LC_MESSAGES/giftcert.po`
beside this file, compiled to a `.mo` in memory on first use in a process)
and Babel's formats of money and dates for a BCP 47 locale (`de-AT`, `ja`).

A locale the catalogs do not have falls back to its language, then to English: the text is never
missing, and Babel still formats money and dates for the locale as asked when it knows it."""

import functools
import gettext
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency

from giftcert.domain.money import Amount
from giftcert_contracts.currencies import MINOR_UNIT_DIGITS

DOMAIN = "giftcert"
CATALOGS = Path(__file__).parent
SUPPORTED = ("en", "de", "fr", "es", "it", "ja")
DEFAULT_LOCALE = "en"


@dataclass(frozen=True, slots=True)
class Language:
    """The texts and formats of one locale."""

    locale: Locale
    translations: gettext.NullTranslations

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def money(self, amount: Amount) -> str:
        """`50,00 €` (de), `€50.00` (en), `￥5,000` (ja): the currency's own decimals."""
        digits = MINOR_UNIT_DIGITS.get(amount.currency, 2)
        value = Decimal(amount.minor).scaleb(-digits)
        return format_currency(value, amount.currency, locale=self.locale, currency_digits=True)

    def date(self, moment: datetime) -> str:
        """`12. Dezember 2027` (de), `December 12, 2027` (en), `2027年12月12日` (ja)."""
        return format_date(moment.date(), format="long", locale=self.locale)


@functools.cache
def _translations(language: str) -> gettext.NullTranslations:
    """The catalog of `language`, compiled from its `.po` in memory once per process."""
    po = CATALOGS / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == DEFAULT_LOCALE or not po.is_file():
        return gettext.NullTranslations()  # English is the catalogs' source text
    with po.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@functools.cache
def language(tag: str | None) -> Language:
    """The language of a BCP 47 tag (`de-AT`, `pt_BR`); English for none or one Babel does not know."""
    try:
        locale = Locale.parse((tag or DEFAULT_LOCALE).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        locale = Locale.parse(DEFAULT_LOCALE)
    catalog = locale.language if locale.language in SUPPORTED else DEFAULT_LOCALE
    return Language(locale, _translations(catalog))


def is_known(tag: str) -> bool:
    """Whether Babel knows `tag` as a locale."""
    try:
        Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return False
    return True
