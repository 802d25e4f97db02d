"""What a recipient reads, in their language: gettext catalogs (`<language>/LC_MESSAGES/giftcert.po`
beside this file, compiled to a `.mo` in memory on first use in a process)
and Babel's formats of money and dates for a BCP 47 locale (`de-AT`, `ja`).

A locale the catalogs do not have falls back to its language, then to English: the text is never
missing, and Babel still formats money and dates for the locale as asked when it knows it.

A page is read in the visitor's language when their browser's Accept-Language names one the catalogs
have (`negotiate`), else in the workspace's locale. A message the code shows later (a form's error,
a notice) is marked with `gettext_noop` (`pgettext_noop` with a context) where it is written, so the
catalogs list it, and translated where it is shown."""

import datetime as dt
import functools
import gettext
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time, get_datetime_format
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent

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

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        """The form of a message that `count` takes in this language (one form in Japanese, two in German)."""
        return self.translations.ngettext(singular, plural, count)

    def pgettext(self, context: str, message: str) -> str:
        """`message` as it reads in `context` (`Active` as one certificate's status, not a report's column)."""
        return self.translations.pgettext(context, message)

    def money(self, amount: Amount) -> str:
        """`50,00 €` (de), `€50.00` (en), `￥5,000` (ja): the currency's own decimals."""
        digits = MINOR_UNIT_DIGITS.get(amount.currency, 2)
        value = Decimal(amount.minor).scaleb(-digits)
        return format_currency(value, amount.currency, locale=self.locale, currency_digits=True)

    def date(self, moment: datetime | date) -> str:
        """`12. Dezember 2027` (de), `December 12, 2027` (en), `2027年12月12日` (ja)."""
        day = moment.date() if isinstance(moment, datetime) else moment
        return format_date(day, format="long", locale=self.locale)

    def moment(self, moment: datetime) -> str:
        """`12. Dez. 2027, 10:05 UTC` (de), `Dec 12, 2027, 10:05 AM UTC` (en): a time in UTC."""
        at = moment.astimezone(UTC)
        day = format_skeleton("yMMMd", at, tzinfo=UTC, locale=self.locale)
        clock = format_time(at, "short", tzinfo=UTC, locale=self.locale)
        return f"{str(get_datetime_format('medium', locale=self.locale)).format(clock, day)} UTC"

    def month(self, moment: dt.date) -> str:
        """`Dez. 2027` (de), `2027年12月` (ja)."""
        return format_skeleton("yMMM", moment, locale=self.locale)

    def number(self, value: float | Decimal) -> str:
        """`1.234` (de), `1,234` (en)."""
        return format_decimal(value, locale=self.locale)

    def percent(self, ratio: float) -> str:
        """`42 %` (de), `42%` (en)."""
        return format_percent(ratio, locale=self.locale)

    def whole_units(self, amount: Amount) -> str:
        """`1.234` for 123450 EUR (de): an amount in whole major units, without its currency."""
        digits = MINOR_UNIT_DIGITS.get(amount.currency, 2)
        return format_decimal(round(Decimal(amount.minor).scaleb(-digits)), locale=self.locale)


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


def gettext_noop(message: str) -> str:
    """Marks `message` for the catalogs; it is translated where it is shown."""
    return message


def pgettext_noop(context: str, message: str) -> tuple[str, str]:
    """Marks `message` in `context` for the catalogs; `Language.pgettext(*marked)` where it is shown."""
    return context, message


KIND_LABELS: dict[str, tuple[str, str]] = {
    "purchased": pgettext_noop("certificate kind", "Purchased"),
    "promotional": pgettext_noop("certificate kind", "Promotional"),
    "credit": pgettext_noop("certificate kind", "Credit"),
}
"""A certificate kind's name, for `Language.pgettext(*KIND_LABELS[kind])`: the console and the PDFs."""


def negotiate(accept_language: str | None, default: str) -> str:
    """The first tag of an Accept-Language header (`de-AT,de;q=0.9,en;q=0.5`), by weight, whose
    language the catalogs have; `default` when none (or no header)."""
    weighted = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, parameters = part.strip().partition(";")
        weight = 1.0
        if parameters.strip().startswith("q="):
            try:
                weight = float(parameters.strip()[2:])
            except ValueError:
                continue
        weighted.append((-weight, position, tag.strip()))
    for negative_weight, _, tag in sorted(weighted):
        if negative_weight < 0 and is_known(tag):
            locale = Locale.parse(tag.replace("-", "_"))
            if locale.language in SUPPORTED:
                return str(locale).replace("_", "-")  # canonical: `de-AT`, `zh-Hant-TW`
    return default


def is_known(tag: str) -> bool:
    """Whether Babel knows `tag` as a locale."""
    try:
        Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return False
    return True
