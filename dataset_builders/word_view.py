"""The GLiNER training view of a text: words from the models' shared splitter and word-index spans."""

from __future__ import annotations

from typing import Iterable, List, Optional, Tuple


def word_view(
    text: str, spans: Iterable[Tuple[int, int, str]]
) -> Tuple[List[str], List[List], List[Tuple[int, int, str]]]:
    """``(tokenized_text, ner, not_aligned)`` for character spans ``(start, end, label)``.

    ``ner`` holds ``[start_word, end_word_inclusive, label]`` for every span whose both
    boundaries are word boundaries of the shared splitter (duplicates collapsed, sorted);
    the other spans are returned in ``not_aligned`` because no word span can express them.
    """
    # Imported here: the modeling package loads torch and transformers (seconds), which the CLI's
    # parser (every `gliner-biomed` command, `--help` too) must not wait for.
    from gliner_biomed.modeling import split_words

    words = split_words(text)
    word_at_start = {start: index for index, (_, start, _) in enumerate(words)}
    word_at_end = {end: index for index, (_, _, end) in enumerate(words)}
    ner = set()
    not_aligned: List[Tuple[int, int, str]] = []
    for start, end, label in spans:
        first: Optional[int] = word_at_start.get(start)
        last: Optional[int] = word_at_end.get(end)
        if first is None or last is None:
            not_aligned.append((start, end, label))
        else:
            ner.add((first, last, label))
    return [word for word, _, _ in words], [list(span) for span in sorted(ner)], not_aligned
