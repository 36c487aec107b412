"""Synthetic biomedical NER data: an LLM annotates text with open entity types (``annotate``),
its untrusted output is parsed and grounded in the text (``ground``), its skill is distilled
into a small causal LM (``distil``), and large inputs are split across workers (``sharding``).

Command line: ``gliner-biomed synth ...`` (see :mod:`gliner_biomed.synth.cli`).
"""
