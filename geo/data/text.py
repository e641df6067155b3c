"""Text from users and files made safe to show: on a terminal, in a message, in JSON."""

from __future__ import annotations

import re

# What must not reach a terminal raw: C0 and C1 controls and DEL (ESC starts escape sequences,
# a newline forges a line), line and paragraph separators, bidirectional overrides and marks
# (they reorder what is shown), and lone surrogates (they cannot even be encoded).
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                    "\u2066-\u2069\ud800-\udfff]")  # fmt: skip
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in _SHORT:
        return _SHORT[ch]
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def terminal_text(text: object, *, limit: int | None = None) -> str:
    r"""``text`` safe to print on one line: control, separator and bidi characters as escapes.

    Parameters
    ----------
    text
        Anything; it is shown as ``str(text)``.
    limit
        Keep at most this many characters of the text, then ``...``; default all.

    Returns
    -------
    str
        The text with every character of :data:`UNSAFE` written as a Python-style escape.

    Examples
    --------
    >>> terminal_text("evil\x1b[2J\nline\u202e")
    'evil\\x1b[2J\\nline\\u202e'
    >>> terminal_text("Алматы" * 3, limit=8)
    'АлматыАл...'
    """
    s = str(text)
    short = s if limit is None else s[:limit]
    out = UNSAFE.sub(_escape, short)
    return out + ("..." if len(short) < len(s) else "")
