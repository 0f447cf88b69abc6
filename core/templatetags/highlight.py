"""Marking matched terms in a text: ``{{ text|highlight:terms }}``.

Used where staff decide on a crisis flag, so they see at once which words raised it. Any source
of text (a complaint, added information, a statement) can be passed with the terms found in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django import template
from django.utils.html import conditional_escape, linebreaks
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def highlight_terms(text: str, terms: Iterable[str]) -> SafeString:
    """``text`` escaped, with every occurrence of each term (case-insensitive) wrapped in <mark>
    and line breaks kept. Longer terms win where two overlap, so "不想活了" is marked whole
    rather than only its "不想活" part."""
    wanted = sorted({t for t in (str(term).strip() for term in terms or ()) if t}, key=len, reverse=True)
    text = str(text or "")
    parts: list[str] = []
    position = 0
    if wanted:
        pattern = re.compile("|".join(re.escape(t) for t in wanted), re.IGNORECASE)
        for match in pattern.finditer(text):
            parts.append(conditional_escape(text[position : match.start()]))
            parts.append(f'<mark class="crisis-term">{conditional_escape(match.group(0))}</mark>')
            position = match.end()
    parts.append(conditional_escape(text[position:]))
    return mark_safe(linebreaks("".join(parts)))  # noqa: S308 - every piece of the text is escaped above


@register.filter(name="highlight")
def highlight_filter(text: str, terms: Iterable[str]) -> SafeString:
    return highlight_terms(text, terms)
