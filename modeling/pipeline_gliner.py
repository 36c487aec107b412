"""``transformers.pipeline`` for GLiNER span models.

Saved models name this class in ``config.json``'s ``custom_pipelines`` under the task
``token-classification`` (transformers looks up a model's own tasks before its built-in ones), so
both ``pipeline(model=DIR, trust_remote_code=True)`` and ``pipeline("token-classification",
model=DIR, trust_remote_code=True)`` build it::

    ner = pipeline(model=DIR, trust_remote_code=True)
    ner("Mutations in BRCA1 ...", labels=["disease", "gene"], threshold=0.5)
    ner(list_of_texts, labels=[...], batch_size=16)         # one list of entities per text
    ner(KeyDataset(dataset, "text"), labels=[...])          # a datasets.Dataset column

Entities are the models' ``predict_entities`` dicts ``{start, end, text, label, score}``; all
the work (words, prompts, windows, decoding) is the model's ``GLiNERProcessor``.
"""

from __future__ import annotations

from typing import Any, Dict, List

from transformers import Pipeline

PIPELINE_TASK = "token-classification"


class GLiNERPipeline(Pipeline):
    """Zero-shot span NER: ``pipe(text_or_texts, labels=[...], threshold=0.5, flat_ner=True,
    multi_label=False, batch_size=8)``."""

    # The model carries its processor (tokenizers included): nothing else to load.
    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False
    _load_tokenizer = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.processor = self.model.processor

    def _sanitize_parameters(self, labels=None, threshold=None, flat_ner=None, multi_label=None, **kwargs):
        forward: Dict[str, Any] = {}
        postprocess: Dict[str, Any] = {}
        if labels is not None:
            forward["labels"] = labels
        if threshold is not None:
            forward["threshold"] = postprocess["threshold"] = threshold
        if flat_ner is not None:
            postprocess["flat_ner"] = flat_ner
        if multi_label is not None:
            postprocess["multi_label"] = multi_label
        return {}, forward, postprocess

    def __call__(self, inputs, labels=None, threshold: float = 0.5, flat_ner: bool = True, multi_label: bool = False,
                 batch_size: int = None, **kwargs):
        """Entities of one text (a list of dicts), or of each text of a list, ``Dataset`` column
        or ``KeyDataset`` (a list of lists, in input order)."""
        if labels is None:
            raise ValueError("labels is missing: give the entity types to find, e.g. labels=['disease', 'gene']")
        if isinstance(inputs, str):
            return super().__call__(inputs, labels=labels, threshold=threshold, flat_ner=flat_ner,
                                    multi_label=multi_label, **kwargs)
        # Many texts go through the processor in one go: it batches windows of similar length
        # across texts and embeds a bi-encoder's labels once, which per-text calls cannot.
        texts = [inputs[index] for index in range(len(inputs))]
        options = {"batch_size": batch_size if batch_size is not None else (self._batch_size or 8)}
        return self.processor.predict(self.model, texts, labels, threshold=threshold, flat_ner=flat_ner,
                                      multi_label=multi_label, **options)

    def preprocess(self, text: str) -> Dict[str, Any]:
        return {"text": text}

    def _forward(self, model_inputs: Dict[str, Any], labels=None, threshold: float = 0.5) -> Dict[str, Any]:
        (document,) = self.processor.score_documents(self.model, [model_inputs["text"]], labels, threshold=threshold)
        return {"document": document}

    def postprocess(self, model_outputs: Dict[str, Any], threshold: float = 0.5, flat_ner: bool = True,
                    multi_label: bool = False) -> List[Dict[str, Any]]:
        return model_outputs["document"].entities(threshold, flat_ner, multi_label)
