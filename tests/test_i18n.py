"""The text table: every entry in each language, with the same values to fill in."""

from __future__ import annotations

import string

from liveness.i18n import LANGUAGES, TEXT


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_text_is_in_each_language_with_the_same_fields():
    missing = [key for key, entry in TEXT.items() if set(entry) != set(LANGUAGES) or not all(entry.values())]
    assert not missing, missing
    mismatched = [key for key, entry in TEXT.items() if len({frozenset(_fields(v)) for v in entry.values()}) > 1]
    assert not mismatched, mismatched
