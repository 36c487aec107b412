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


class WordSplitter:
    """Splits a text into words with character offsets (end exclusive)."""

    def __init__(self, pattern: "re.Pattern[str]" = WORD_PATTERN):
        self.pattern = pattern

    def __call__(self, text: str) -> List[Tuple[str, int, int]]:
        return [(match.group(), match.start(), match.end()) for match in self.pattern.finditer(text)]


def split_words(text: str) -> List[Tuple[str, int, int]]:
    """``[(word, start, end), ...]`` for ``text`` with the models' splitter."""
    return WordSplitter()(text)
