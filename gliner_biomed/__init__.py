"""gliner-biomed: open biomedical NER with GLiNER span models."""

__version__ = "0.1.0"
