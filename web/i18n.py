"""The app's languages: Chinese first, English on request.

Each language is a gettext catalog kept as text (``web/locale/<lang>/LC_MESSAGES/messages.po``)
and read once at start with Babel (no compiled ``.mo`` in the repository: the ``.po`` is the
one copy people edit). Message ids are English, so the English catalog may leave a string
untranslated and still show it right. The language is ``?lang=`` when given (remembered in a
cookie by the app), else the cookie, else zh-CN.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import Request

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = {"zh_CN": "中文", "en": "English"}  # code -> its own name, for the switch
DEFAULT = "zh_CN"
COOKIE = "hotline_lang"
_ALIASES = {"zh": "zh_CN", "zh-cn": "zh_CN", "zh_cn": "zh_CN", "en": "en", "en-us": "en", "en_us": "en"}


def normalize(value: str | None) -> str | None:
    """A language code as sent (``zh-CN``, ``en``) -> one of LANGUAGES, or None."""
    if not value:
        return None
    return _ALIASES.get(value.strip().lower())


@cache
def translations(lang: str) -> Translations:
    """The catalog of ``lang`` (one of LANGUAGES), read from its ``.po`` once per process."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = BytesIO()
    write_mo(buf, catalog)  # compiled in memory: gettext reads only the binary form
    buf.seek(0)
    return Translations(buf)


def language(request: Request) -> str:
    """The language of this request: ``?lang=``, else the cookie, else Chinese."""
    return normalize(request.query_params.get("lang")) or normalize(request.cookies.get(COOKIE)) or DEFAULT


def N_(message: str) -> str:
    """Marks English text made in Python for the catalogs; it is translated where it is shown."""
    return message


def gettext(request: Request, message: str) -> str:
    """``message`` in the request's language (for text made in Python: flash lines, errors)."""
    return translations(language(request)).gettext(message)
