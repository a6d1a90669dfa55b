"""UI languages: Simplified Chinese by default, English on request.

Messages are written in English in templates and code (``{{ _("Sign in") }}``); the Chinese lives in
``locale/zh_Hans/LC_MESSAGES/messages.po``, compiled in memory when the app starts, so there is no build
step. English is the identity translation. The visitor's choice is kept in the ``zt_lang`` cookie.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from fastapi import Request

LANG_COOKIE = "zt_lang"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


@dataclass(frozen=True)
class Language:
    locale: str  # Babel / gettext identifier, as in the locale folder name
    tag: str  # BCP 47 tag for <html lang> and for URLs
    name: str  # how the language calls itself, for the switch


LANGUAGES = (
    Language(locale="zh_Hans", tag="zh-Hans", name="简体中文"),
    Language(locale="en", tag="en", name="English"),
)
_BY_LOCALE = {language.locale: language for language in LANGUAGES}
_BY_TAG = {language.tag.lower(): language for language in LANGUAGES}


def N_(message: str) -> str:
    """Mark a message for extraction where it is defined; it is translated where it is shown."""
    return message


def language_for_tag(tag: str) -> Language | None:
    return _BY_TAG.get(tag.lower()) or _BY_LOCALE.get(tag)


def compile_catalog(locale: str) -> gettext.NullTranslations:
    """Read ``locale``'s .po file and compile it in memory; a locale without one is the identity."""
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return gettext.NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


class Translator:
    """One language's gettext, with ``%(name)s`` interpolation for templates."""

    def __init__(self, language: Language, translations: gettext.NullTranslations) -> None:
        self.language = language
        self._translations = translations

    def gettext(self, message: str, **values: Any) -> str:
        text = self._translations.gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        text = self._translations.ngettext(singular, plural, n)
        return text % {"num": n, **values}


class Catalogs:
    """Every UI language's translator, built once at startup."""

    def __init__(self, default_locale: str) -> None:
        default = _BY_LOCALE.get(default_locale)
        if default is None:
            known = ", ".join(_BY_LOCALE)
            raise ValueError(f"web.default_locale must be one of {known}, not {default_locale!r}")
        self.default = default
        self._translators = {
            language.locale: Translator(language, compile_catalog(language.locale)) for language in LANGUAGES
        }

    def for_locale(self, locale: str) -> Translator:
        return self._translators[locale]

    def for_request(self, request: Request) -> Translator:
        chosen = language_for_tag(request.cookies.get(LANG_COOKIE, ""))
        return self._translators[(chosen or self.default).locale]
