"""The English catalogue is complete, compiled, in step with the code, and actually used.

The msgids are Swedish (the interface's first language); locale/en/LC_MESSAGES/django.po holds the
English. `make messages` refreshes the catalogue from the code and compiles it to django.mo, which is
committed so that nobody needs GNU gettext just to run the system.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from access.models import User

BASE_DIR = Path(settings.BASE_DIR)
CATALOGUE_DIR = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PO_FILE = CATALOGUE_DIR / "django.po"
MO_FILE = CATALOGUE_DIR / "django.mo"
PYTHON_PACKAGES = ("access", "cases", "coordination")
TEMPLATE_DIR = BASE_DIR / "templates"
LOGIN = reverse("access:login")
NPLURALS = 2
REFRESH_HINT = "Run `make messages`, translate the new entries in the .po file and commit both files."


# --- A small .po reader ---------------------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def forms(self) -> list[str]:
        return [self.msgstr[index] for index in sorted(self.msgstr)]

    def __str__(self) -> str:
        context = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"line {self.line}: {context}{self.msgid!r}"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')


def _unquote(quoted: str, line: int) -> str:
    if len(quoted) < 2 or not (quoted.startswith('"') and quoted.endswith('"')):
        raise ValueError(f"django.po line {line}: expected a quoted string, got {quoted!r}")
    body, out, index = quoted[1:-1], [], 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            index += 1
            if index == len(body) or body[index] not in _ESCAPES:
                raise ValueError(f"django.po line {line}: unknown escape in {quoted!r}")
            out.append(_ESCAPES[body[index]])
        elif char == '"':
            raise ValueError(f"django.po line {line}: unescaped quote in {quoted!r}")
        else:
            out.append(char)
        index += 1
    return "".join(out)


def parse_po(text: str) -> list[Entry]:
    """Every entry of a .po file, the header included; obsolete (#~) entries are left out."""
    entries: list[Entry] = []
    entry = Entry()
    started = False  # the current entry has a keyword line
    target: tuple[str, int] | None = None  # where a continuation string goes

    def finish() -> None:
        nonlocal entry, started, target
        if started:
            entries.append(entry)
        entry, started, target = Entry(), False, None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#"):
            if started:  # a comment after the strings begins the next entry
                finish()
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            continue
        match = _KEYWORD.match(line)
        if match:
            keyword, index, quoted = match.groups()
            if keyword in ("msgctxt", "msgid") and started and (keyword == "msgctxt" or entry.msgstr):
                finish()  # entries without a blank line between them
            if not started:
                entry.line, started = number, True
            value = _unquote(quoted, number)
            if keyword == "msgctxt":
                entry.msgctxt, target = value, ("msgctxt", 0)
            elif keyword == "msgid":
                entry.msgid, target = value, ("msgid", 0)
            elif keyword == "msgid_plural":
                entry.msgid_plural, target = value, ("msgid_plural", 0)
            else:
                slot = int(index) if index is not None else 0
                entry.msgstr[slot], target = value, ("msgstr", slot)
            continue
        if line.startswith('"') and target is not None:
            value = _unquote(line, number)
            name, slot = target
            if name == "msgctxt":
                entry.msgctxt = (entry.msgctxt or "") + value
            elif name == "msgid":
                entry.msgid += value
            elif name == "msgid_plural":
                entry.msgid_plural = (entry.msgid_plural or "") + value
            else:
                entry.msgstr[slot] += value
            continue
        raise ValueError(f"django.po line {number}: cannot read {raw!r}")
    finish()
    return entries


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    assert PO_FILE.exists(), f"{PO_FILE} is missing. {REFRESH_HINT}"
    return parse_po(PO_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def messages(po_entries: list[Entry]) -> list[Entry]:
    return [entry for entry in po_entries if not entry.is_header]


def test_the_po_reader_reads_plurals_contexts_continuations_and_escapes() -> None:
    text = "\n".join(
        [
            'msgid ""',
            'msgstr ""',
            '"Language: en\\n"',
            "",
            "#: a.py:1",
            "#, fuzzy, python-format",
            'msgid ""',
            '"En %(n)s "',
            '"rad"',
            'msgid_plural "%(n)s rader"',
            'msgstr[0] "One %(n)s line"',
            'msgstr[1] "%(n)s \\"lines\\""',
            'msgctxt "mening"',
            'msgid "Fel"',
            'msgstr ""',
            '#~ msgid "Gammal"',
            '#~ msgstr "Old"',
        ]
    )
    header, plural, with_context = parse_po(text)
    assert header.is_header and header.forms == ["Language: en\n"]
    assert plural.msgid == "En %(n)s rad" and plural.msgid_plural == "%(n)s rader"
    assert plural.forms == ["One %(n)s line", '%(n)s "lines"']
    assert plural.flags == {"fuzzy", "python-format"}
    assert (with_context.msgctxt, with_context.msgid, with_context.forms) == ("mening", "Fel", [""])


# --- The catalogue itself -------------------------------------------------------------------------


def test_the_header_declares_english_utf8_and_two_plural_forms(po_entries: list[Entry]) -> None:
    headers = [entry for entry in po_entries if entry.is_header]
    assert len(headers) == 1, "django.po needs exactly one header entry"
    header = headers[0]
    assert "fuzzy" not in header.flags, "A fuzzy header is ignored by msgfmt: remove the flag"
    lines = dict(line.split(":", 1) for line in header.forms[0].splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in lines.items()}
    assert fields.get("Language") == "en"
    assert fields.get("Plural-Forms") == "nplurals=2; plural=(n != 1);"
    assert fields.get("Content-Type") == "text/plain; charset=UTF-8"


def test_every_entry_is_translated_and_none_is_fuzzy(messages: list[Entry]) -> None:
    assert messages, "django.po holds no messages"
    untranslated = [
        str(entry)
        for entry in messages
        if not entry.msgstr
        or not all(form.strip() for form in entry.forms)
        or (entry.msgid_plural is not None and sorted(entry.msgstr) != list(range(NPLURALS)))
    ]
    fuzzy = [str(entry) for entry in messages if "fuzzy" in entry.flags]
    assert not untranslated, "Untranslated entries in django.po:\n" + "\n".join(untranslated)
    assert not fuzzy, "Fuzzy entries in django.po (check them, then remove the flag):\n" + "\n".join(fuzzy)


_PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|\{(\w*)\}")


def _placeholders(text: str) -> list[str]:
    return sorted("".join(groups) for groups in _PLACEHOLDER.findall(text))


def test_translations_keep_the_placeholders_of_the_swedish(messages: list[Entry]) -> None:
    wrong = []
    for entry in messages:
        sources = [entry.msgid] if entry.msgid_plural is None else [entry.msgid] + [entry.msgid_plural]
        for index, form in enumerate(entry.forms):
            source = sources[min(index, len(sources) - 1)]
            if _placeholders(form) != _placeholders(source):
                wrong.append(f"{entry}: {_placeholders(source)} became {_placeholders(form)} in {form!r}")
    assert not wrong, "Placeholders changed in translation:\n" + "\n".join(wrong)


# --- The compiled catalogue -----------------------------------------------------------------------

MISSING = "\x00missing from django.mo\x00"


class _Missing(gettext.NullTranslations):
    """Fallback that marks a message the .mo lacks (instead of silently echoing the msgid)."""

    def gettext(self, message: str) -> str:
        return MISSING

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return MISSING

    def pgettext(self, context: str, message: str) -> str:
        return MISSING

    def npgettext(self, context: str, msgid1: str, msgid2: str, n: int) -> str:
        return MISSING


def test_the_compiled_mo_is_in_step_with_the_po(messages: list[Entry]) -> None:
    assert MO_FILE.exists(), f"{MO_FILE} is missing. {REFRESH_HINT}"
    with MO_FILE.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    compiled.add_fallback(_Missing())
    stale = []
    for entry in messages:
        if entry.msgid_plural is None:
            expected = entry.forms[:1]
            if entry.msgctxt is None:
                got = [compiled.gettext(entry.msgid)]
            else:
                got = [compiled.pgettext(entry.msgctxt, entry.msgid)]
        else:
            # With plural=(n != 1), n=1 picks form 0 and n=2 form 1.
            expected = entry.forms
            counts = range(1, NPLURALS + 1)
            if entry.msgctxt is None:
                got = [compiled.ngettext(entry.msgid, entry.msgid_plural, n) for n in counts]
            else:
                got = [compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n) for n in counts]
        if got != expected:
            stale.append(f"{entry}: django.po says {expected!r}, django.mo says {got!r}")
    assert not stale, (
        "django.mo is out of step with django.po; run `make messages` (or "
        "`manage.py compilemessages --locale en`) and commit django.mo:\n" + "\n".join(stale)
    )


# --- Everything the code marks for translation is in the catalogue --------------------------------
# A deliberately simple scan, not a reimplementation of makemessages: it finds single-line string
# literals only ({% translate %} tags and gettext calls written on one line). {% blocktranslate %}
# and strings split over several lines (implicit concatenation) are not checked here.

_LITERAL = r"""(?P<{name}>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')"""
_TEMPLATE_TAG = re.compile(
    r"\{%\s*(?:translate|trans)\s+" + _LITERAL.format(name="msgid") + r"(?P<rest>[^%]*)%\}"
)
_TEMPLATE_CONTEXT = re.compile(r"\bcontext\s+" + _LITERAL.format(name="context"))
_PYTHON_CALL = re.compile(
    r"(?<![\w.])(?P<function>_|gettext|gettext_lazy|gettext_noop|pgettext|pgettext_lazy)\(\s*"
    + r"(?:"
    + _LITERAL.format(name="context")
    + r"\s*,\s*)?"
    + _LITERAL.format(name="msgid")
    + r"\s*[,)]"
)


def _literal(source: str) -> str:
    value = ast.literal_eval(source)
    assert isinstance(value, str)
    return value


def marked_strings() -> dict[tuple[str | None, str], str]:
    """(context, msgid) -> where it was found, for every single-line marked string in the project."""
    found: dict[tuple[str | None, str], str] = {}
    for template in sorted(TEMPLATE_DIR.rglob("*.html")):
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), start=1):
            for match in _TEMPLATE_TAG.finditer(line):
                context_match = _TEMPLATE_CONTEXT.search(match["rest"])
                context = _literal(context_match["context"]) if context_match else None
                # makemessages doubles % in template strings, and {% translate %} does the same at
                # render time, so the catalogue holds %%.
                msgid = _literal(match["msgid"]).replace("%", "%%")
                found.setdefault((context, msgid), f"{template.relative_to(BASE_DIR)}:{number}")
    for package in PYTHON_PACKAGES:
        for module in sorted((BASE_DIR / package).rglob("*.py")):
            for number, line in enumerate(module.read_text(encoding="utf-8").splitlines(), start=1):
                for match in _PYTHON_CALL.finditer(line):
                    has_context = match["function"].startswith("pgettext")
                    if has_context != (match["context"] is not None):
                        continue
                    context = _literal(match["context"]) if match["context"] else None
                    found.setdefault(
                        (context, _literal(match["msgid"])), f"{module.relative_to(BASE_DIR)}:{number}"
                    )
    return found


def test_the_scan_finds_strings_in_templates_and_python() -> None:
    found = marked_strings()
    # Guards the scan itself: a broken pattern would otherwise find nothing and pass.
    assert (None, "Logga in") in found  # {% translate "…" %}
    assert (None, "Huvudmeny") in found  # {% translate '…' %}
    assert (None, "Handläggare") in found  # _("…")
    assert ("plural", "användare") in found  # pgettext_lazy("…", "…")


def test_every_marked_string_is_in_the_catalogue(messages: list[Entry]) -> None:
    catalogue = {(entry.msgctxt, entry.msgid) for entry in messages}
    missing = sorted(
        f"{where}: {msgid!r}" + (f" (context {context!r})" if context is not None else "")
        for (context, msgid), where in marked_strings().items()
        if (context, msgid) not in catalogue
    )
    assert not missing, (
        "Strings marked for translation but missing from locale/en/LC_MESSAGES/django.po:\n"
        + "\n".join(missing)
        + f"\n{REFRESH_HINT}"
    )


# --- The translation is used ----------------------------------------------------------------------


def _html_lang(html: str) -> str | None:
    match = re.search(r'<html\b[^>]*\blang="([^"]*)"', html)
    return match[1] if match else None


@pytest.mark.django_db
def test_the_login_page_is_swedish_by_default() -> None:
    response = Client().get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert _html_lang(html) == "sv"
    assert "Logga in" in html
    assert "Användarnamn" in html
    assert "Log in" not in html


@pytest.mark.django_db
def test_the_login_page_is_english_with_the_language_cookie() -> None:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(LOGIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert _html_lang(html) == "en"
    assert "Log in" in html
    assert "Username" in html  # a gettext_lazy label from Python code
    assert "Logga in" not in html
    assert "Användarnamn" not in html


@pytest.mark.django_db
def test_the_language_switch_changes_the_language_of_the_next_page() -> None:
    client = Client()
    response = client.post(reverse("set_language"), {"language": "en", "next": LOGIN})
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    html = client.get(LOGIN).content.decode()
    assert _html_lang(html) == "en"
    assert "Log in" in html
    assert "Logga in" not in html


def test_the_lockout_message_uses_the_english_plural(handlaggare: User) -> None:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(LOGIN, {"username": handlaggare.username, "password": "alldeles-fel"})
    assert response.status_code == 429
    html = response.content.decode()
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    unit = "minute" if minutes == 1 else "minutes"
    assert f"locked for {minutes} {unit}." in html
    assert "spärrat" not in html
