"""Word splitting shared by the models, the dataset builders and the evaluation.

GLiNER predicts spans over *words*; the character offsets of those words are what turn span
predictions back into ``text[start:end]`` mentions, so every part of the project splits text
with this one splitter.
"""

from __future__ import annotations

import re
from typing import List, Tuple

# The reference `gliner` package's "whitespace" splitter: runs of word characters joined by
# single hyphens/underscores, or any single non-space character.
WORD_PATTERN = re.compile(r"\w+(?:[-_]\w+)*|\S")
# Every run of word characters is a word, so hyphenated compounds split ("cocaine-induced" ->
# "cocaine", "-", "induced") and mentions inside them can be predicted.
ALPHANUMERIC_WORD_PATTERN = re.compile(r"\w+|\S")
WORD_PATTERNS = {"whitespace": WORD_PATTERN, "alphanumeric": ALPHANUMERIC_WORD_PATTERN}


class WordSplitter:
    """Splits a text into words with character offsets (end exclusive)."""

    def __init__(self, pattern: "re.Pattern[str]" = WORD_PATTERN):
        self.pattern = pattern

    @classmethod
    def of_type(cls, words_splitter_type: str) -> "WordSplitter":
        """The splitter named by a config's ``words_splitter_type``."""
        if words_splitter_type not in WORD_PATTERNS:
            raise ValueError(f"unknown words_splitter_type {words_splitter_type!r}; known: {sorted(WORD_PATTERNS)}")
        return cls(WORD_PATTERNS[words_splitter_type])

    def __call__(self, text: str) -> List[Tuple[str, int, int]]:
        return [(match.group(), match.start(), match.end()) for match in self.pattern.finditer(text)]


def split_words(text: str) -> List[Tuple[str, int, int]]:
    """``[(word, start, end), ...]`` for ``text`` with the models' splitter."""
    return WordSplitter()(text)
