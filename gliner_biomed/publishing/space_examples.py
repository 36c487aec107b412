"""Example abstracts for the demo Space, taken from the test splits of the real corpora.

Read in place from ../shared/corpora (never copied into the repository); `gliner-biomed publish
--space` writes them into the staged Space folder as examples.json."""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

# (corpus, split, document index): first documents of three test splits with different types.
EXAMPLE_DOCUMENTS: Sequence[Tuple[str, str, int]] = (
    ("ncbi-disease", "test", 0),
    ("bc5cdr", "test", 0),
    ("biored", "test", 0),
)


def corpus_examples(documents: Sequence[Tuple[str, str, int]] = EXAMPLE_DOCUMENTS, corpora_dir: str = None) -> List[Dict]:
    """[{source, id, text, labels}] where labels are the corpus's entity labels found in the document."""
    from gliner_biomed.dataset_builders import load_corpus

    examples = []
    for corpus, split, index in documents:
        options = {"corpora_dir": corpora_dir} if corpora_dir else {}
        document = load_corpus(corpus, split, **options)[index]
        labels = sorted({entity["label"] for entity in document["entities"]})
        examples.append({"source": f"{corpus}/{split}", "id": str(document["document_id"]), "text": document["text"], "labels": labels})
    return examples
