"""``OnnxGLiNER``: an exported GLiNER model on ONNX Runtime with the PyTorch model's prediction
API (``predict_entities``, ``inference``, ``score_documents``).

Only the forward pass changes: word splitting, tokenization, windows over long texts, label
chunks, candidate extraction and greedy decoding are the PyTorch model's own methods, borrowed
from ``GLiNERPreTrainedModel`` (they use nothing of the model but ``config``, ``processor``,
``device``, ``embed_labels`` and ``self(**inputs).logits``), so both paths decode alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Optional, Sequence

import numpy as np
import torch

from ..modeling import GLiNERConfig, GLiNEROutput, GLiNERPreTrainedModel
from .export import INT8_SUFFIX, LABELS_GRAPH, MANIFEST, SPAN_GRAPH


def _session(path: Path, threads: Optional[int]):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Same thread count as PyTorch by default, so that speed comparisons are like for like.
    options.intra_op_num_threads = threads if threads is not None else torch.get_num_threads()
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxGLiNER:
    """Runs the graphs written by ``export_onnx`` (fp32, or their int8 copies)."""

    # The prediction pipeline of the PyTorch models, unchanged.
    processor = GLiNERPreTrainedModel.processor
    load_tokenizers = GLiNERPreTrainedModel.load_tokenizers
    predict_entities = GLiNERPreTrainedModel.predict_entities
    inference = GLiNERPreTrainedModel.inference
    score_documents = GLiNERPreTrainedModel.score_documents

    device = torch.device("cpu")

    def __init__(self, folder: Path, config: GLiNERConfig, int8: bool = False, threads: Optional[int] = None):
        self.folder = Path(folder)
        self.config = config
        self.int8 = int8
        self.tokenizer = self.labels_tokenizer = None
        self.load_tokenizers(str(self.folder))
        self.span_session = _session(self._graph_path(SPAN_GRAPH), threads)
        self.labels_session = _session(self._graph_path(LABELS_GRAPH), threads) if config.is_bi_encoder else None
        self.input_names = {node.name for node in self.span_session.get_inputs()}

    @classmethod
    def from_pretrained(cls, folder, int8: bool = False, threads: Optional[int] = None) -> "OnnxGLiNER":
        folder = Path(folder)
        if not (folder / MANIFEST).is_file():
            raise FileNotFoundError(f"{folder}: no {MANIFEST}; export a model with `gliner-biomed export-onnx` first")
        return cls(folder, GLiNERConfig.from_pretrained(str(folder)), int8=int8, threads=threads)

    def _graph_path(self, graph: str) -> Path:
        manifest = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
        name = graph
        if self.int8:
            name = graph.replace(".onnx", f"{INT8_SUFFIX}.onnx")
            if name not in manifest.get("int8_graphs", []):
                raise FileNotFoundError(f"{self.folder}: no int8 graph {name}; export with --int8")
        return self.folder / name

    def eval(self) -> "OnnxGLiNER":
        return self

    def embed_labels(self, prompts: Sequence[str]) -> torch.Tensor:
        """Bi-encoder: `(num_labels, hidden)` label embeddings, computed once per label set."""
        inputs = self.processor.encode_labels(prompts)
        (embeddings,) = self.labels_session.run(None, {key: value.numpy() for key, value in inputs.items()})
        return torch.from_numpy(embeddings)

    def __call__(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        word_index: torch.Tensor,
        word_lengths: torch.Tensor,
        label_embeddings: Optional[torch.Tensor] = None,
        **unused,
    ) -> GLiNEROutput:
        """The PyTorch forward's contract for inference batches: logits `(batch, words, max_width,
        labels)`. Uni-encoder rows must share one label prompt (``score_documents`` batches so)."""
        num_words = int(word_lengths.max())
        word_mask = torch.arange(num_words)[None, :] < word_lengths[:, None]
        feeds: Dict[str, np.ndarray] = {
            "input_ids": input_ids.numpy(),
            "attention_mask": attention_mask.numpy(),
            "word_index": word_index.numpy(),
            "word_mask": word_mask.numpy(),
        }
        if self.config.is_bi_encoder:
            if label_embeddings is None or label_embeddings.dim() != 2:
                raise ValueError("the ONNX bi-encoder needs label_embeddings of shape (num_labels, hidden)")
            feeds["label_embeddings"] = label_embeddings.numpy()
        else:
            self._check_shared_prompt(input_ids, attention_mask)
        (logits,) = self.span_session.run(None, feeds)
        return GLiNEROutput(logits=torch.from_numpy(logits))

    def _check_shared_prompt(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> None:
        # The graph reads the label positions from the first row; a batch mixing prompts would
        # silently score the wrong tokens.
        marks = input_ids.eq(self.config.class_token_index) & attention_mask.bool()
        separators = input_ids.eq(self.tokenizer.convert_tokens_to_ids(self.config.sep_token)) & attention_mask.bool()
        if not marks[0].any() or not separators[0].any():
            raise ValueError("uni-encoder input without a label prompt (<<ENT>> ... <<SEP>>)")
        prompt_end = int(separators[0].nonzero()[0]) + 1
        if not bool((input_ids[:, :prompt_end] == input_ids[0, :prompt_end]).all()) or not torch.equal(
            marks.sum(dim=1), marks[0].sum().expand(len(marks))
        ):
            raise ValueError("every row of an ONNX uni-encoder batch must carry the same label prompt")
