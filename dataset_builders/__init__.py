"""Dataset builders: every corpus of ../shared/corpora (and the synthetic corpus) as examples in one schema.

Each example: ``id``, ``document_id``, ``text``, ``entities`` (``{start, end, label, mention}``,
character offsets, end exclusive, ``text[start:end] == mention``), and the GLiNER training view
``tokenized_text`` (words of the models' shared splitter) + ``ner`` (``[start_word, end_word_inclusive, label]``).
"""

from .corpora import list_corpora
from .label_maps import load_label_map
from .pipeline import BuildOptions, build_corpus, build_split, load_corpus
from .type_vocabulary import TypeVocabulary, load_type_vocabulary

__all__ = ["BuildOptions", "build_corpus", "build_split", "list_corpora", "load_corpus", "load_label_map",
           "load_type_vocabulary", "TypeVocabulary"]
