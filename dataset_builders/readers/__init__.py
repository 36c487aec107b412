"""Readers: one module per file format, each yielding :class:`SourceDocument` records."""

from .brat import read_brat, read_brat_document
from .bioc import read_bioc_xml
from .conll import read_conll
from .gliner_json import read_gliner_json, write_gliner_json
from .options import ReadOptions
from .pubtator import read_pubtator
from .span_jsonl import read_span_jsonl

__all__ = [
    "ReadOptions",
    "read_bioc_xml",
    "read_brat",
    "read_brat_document",
    "read_conll",
    "read_gliner_json",
    "read_pubtator",
    "read_span_jsonl",
    "write_gliner_json",
]
