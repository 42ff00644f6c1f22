"""Every value from data is escaped here before it enters HTML or Markdown.

Organisation and unit names, PDSA notes, comments and error text come from
files a team fills in; any of them may hold ``<script>``, ``"><img onerror=…>``
or Markdown that would make a link. Display code never puts such a value into
a page directly: it passes it through :func:`html_text` (HTML and plotly
labels) or :func:`md_text` (Markdown), or builds Markdown with
:func:`markdown`, which escapes every value it is given.
"""

from __future__ import annotations

import html
import re

__all__ = ["html_text", "inline_html", "md_text", "markdown"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\r\n\t]+")
# Markdown punctuation; < > & are left to html.escape (a backslash before "&lt;" would show it)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def html_text(value: object) -> str:
    """``value`` as text safe inside HTML elements and quoted attributes (``& < > " '`` escaped).

    Quotes become numeric references (``&#34;``, ``&#x27;``): plotly draws labels from
    this text and decodes numeric references but not ``&quot;``, which it would show.
    """
    return html.escape(str(value), quote=True).replace("&quot;", "&#34;")


def md_text(value: object) -> str:
    """``value`` as literal text in Markdown.

    Line breaks and control characters become one space (a value cannot start
    a heading, list or quote), Markdown's punctuation is backslashed (no
    emphasis, link, image, table cell or code), and HTML is escaped (no tag).
    """
    one_line = _CONTROL.sub(" ", str(value))
    return html.escape(_MD_SPECIAL.sub(r"\\\1", one_line), quote=True)


def markdown(template: str, /, **values: object) -> str:
    """``template.format(**values)`` with every value escaped by :func:`md_text`.

    ``markdown("### {unit}", unit=name)`` is the way to put data into Markdown;
    the template is the workbook's own text and is not escaped.
    """
    return template.format(**{name: md_text(value) for name, value in values.items()})


_BACKSLASHED = re.compile(r"\\(.)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])")


def inline_html(markdown_text: str) -> str:
    """One line of pxlib's Markdown (values escaped by :func:`md_text`) as HTML.

    For printed pages that show the sentences the notebooks show: ``**bold**``
    and ``*italic*`` become ``<b>``/``<i>``, a backslashed character is shown as
    itself. Values are already HTML-escaped by :func:`md_text`, so nothing from
    data can become a tag; the template words are pxlib's own.
    """
    kept: list[str] = []

    def keep(match: re.Match) -> str:
        kept.append(match.group(1))
        return f"\x00{len(kept) - 1}\x00"

    text = _BACKSLASHED.sub(keep, markdown_text)
    text = _ITALIC.sub(r"<i>\1</i>", _BOLD.sub(r"<b>\1</b>", text))
    return re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], text)
