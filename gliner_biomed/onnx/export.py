"""Export of a GLiNER span model to ONNX: the graph from sub-tokens to span logits (and, for
bi-encoders, a second graph from label prompts to label embeddings), with dynamic batch,
sequence, word and label axes. The output folder also holds the model's config and tokenizers,
so that ``OnnxGLiNER`` runs it without the PyTorch weights.

Why a wrapper module instead of tracing ``model.forward`` directly: the forward reads two sizes
from tensor *values* (``int(word_lengths.max())`` words, ``int(labels_per_row.max())`` labels),
which a trace would freeze into constants. The wrapper takes the padded word count from the
*shape* of ``word_mask`` and the label positions from the first row's prompt (every row of an
inference batch carries the same prompt), then calls the model's own submodules and
``score_spans``, so the arithmetic is the model's.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import torch
from torch import nn

from ..modeling import LABELS_TOKENIZER_FOLDER, pool_words

SPAN_GRAPH = "model.onnx"
LABELS_GRAPH = "labels_encoder.onnx"
MANIFEST = "onnx_manifest.json"
INT8_SUFFIX = ".int8"


@dataclass
class ExportOptions:
    """How to export. ``opset`` 17 is the lowest with every operator the backbones need
    (LayerNormalization); ``int8`` also writes dynamically quantized copies of the graphs."""

    opset: int = 17
    int8: bool = False
    check_with_onnxruntime: bool = True


class SpanLogitsGraph(nn.Module):
    """``(input_ids, attention_mask, word_index, word_mask[, label_embeddings])`` -> logits
    ``(batch, words, max_width, labels)``, traceable with dynamic shapes."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.is_bi_encoder = model.config.is_bi_encoder

    def forward(self, input_ids, attention_mask, word_index, word_mask, label_embeddings=None):
        model = self.model
        states = model.encode_text(input_ids, attention_mask)
        words = pool_words(states, word_index, word_mask.shape[1])
        if model.word_lstm is not None:
            words = model.word_lstm(words, word_mask)
        word_lengths = word_mask.sum(dim=1)
        if self.is_bi_encoder:
            label_embeddings = label_embeddings.unsqueeze(0).expand(input_ids.shape[0], -1, -1)
        else:
            positions = torch.nonzero(input_ids[0].eq(model.config.class_token_index) & attention_mask[0].bool())[:, 0]
            if not model.config.embed_ent_token:
                positions = positions + 1
            label_embeddings = states[:, positions]
        return model.score_spans(words, word_lengths, label_embeddings).logits


class LabelsGraph(nn.Module):
    """Bi-encoder: ``(labels_input_ids, labels_attention_mask)`` -> ``(labels, hidden)``."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, labels_input_ids, labels_attention_mask):
        return self.model.encode_labels(labels_input_ids, labels_attention_mask)


def _sample_inputs(model):
    """A two-row batch of different lengths (so padding and masking are part of the trace)."""
    processor = model.processor
    words = [["Familial", "breast", "cancer", "with", "BRCA1", "."], ["Ataxia", "-", "telangiectasia"]]
    prompts = ["disease", "gene"]
    inputs = processor.encode_texts(words, None if model.config.is_bi_encoder else [prompts] * len(words))
    word_mask = torch.arange(int(inputs["word_lengths"].max()))[None, :] < inputs["word_lengths"][:, None]
    args = [inputs["input_ids"], inputs["attention_mask"], inputs["word_index"], word_mask]
    labels = processor.encode_labels(prompts) if model.config.is_bi_encoder else None
    return args, labels


def _export(module, args, path: Path, input_names, dynamic_axes, opset: int) -> None:
    # eval() first: the exporter restores the wrapper's mode afterwards, and a fresh module is in
    # training mode, which would switch the wrapped model's dropout on.
    module.eval()
    torch.onnx.export(
        module,
        tuple(args),
        str(path),
        input_names=list(input_names),
        output_names=["logits" if module.__class__ is SpanLogitsGraph else "label_embeddings"],
        dynamic_axes=dynamic_axes,
        opset_version=opset,
        dynamo=False,  # the TorchScript exporter handles the data-dependent indexing (nonzero, packed LSTM)
        do_constant_folding=True,
    )


def export_onnx(model, out_dir, options: Optional[ExportOptions] = None) -> Path:
    """Writes ``model.onnx`` (+ ``labels_encoder.onnx`` for bi-encoders, + ``*.int8.onnx`` with
    ``options.int8``), the config, the tokenizers and a manifest into ``out_dir`` (atomically:
    built in a temporary folder, then renamed). ``model`` is a loaded GLiNER model or a folder."""
    from ..models import load_model

    options = options or ExportOptions()
    if model is None or isinstance(model, (str, Path)):
        model = load_model(None if model is None else str(model))
    model = model.to("cpu").eval()
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} exists and is not empty; choose a new folder for the export")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        args, label_inputs = _sample_inputs(model)
        names = ["input_ids", "attention_mask", "word_index", "word_mask"]
        axes = {
            "input_ids": {0: "batch", 1: "tokens"},
            "attention_mask": {0: "batch", 1: "tokens"},
            "word_index": {0: "batch", 1: "tokens"},
            "word_mask": {0: "batch", 1: "words"},
            "logits": {0: "batch", 1: "words", 3: "labels"},
        }
        graphs = [SPAN_GRAPH]
        with torch.no_grad():
            if model.config.is_bi_encoder:
                label_embeddings = model.encode_labels(**label_inputs)
                args.append(label_embeddings)
                names.append("label_embeddings")
                axes["label_embeddings"] = {0: "labels"}
                _export(
                    LabelsGraph(model),
                    [label_inputs["labels_input_ids"], label_inputs["labels_attention_mask"]],
                    work / LABELS_GRAPH,
                    ["labels_input_ids", "labels_attention_mask"],
                    {
                        "labels_input_ids": {0: "labels", 1: "label_tokens"},
                        "labels_attention_mask": {0: "labels", 1: "label_tokens"},
                        "label_embeddings": {0: "labels"},
                    },
                    options.opset,
                )
                graphs.append(LABELS_GRAPH)
            # The fused span head loops over widths with Python-level slice bounds, which a trace
            # would freeze at the sample's word count: the graph takes the exact, loop-free head.
            fused, model.config.fused_span_scoring = model.config.fused_span_scoring, False
            try:
                _export(SpanLogitsGraph(model), args, work / SPAN_GRAPH, names, axes, options.opset)
            finally:
                model.config.fused_span_scoring = fused
        model.config.save_pretrained(work)
        model.tokenizer.save_pretrained(work)
        if model.labels_tokenizer is not None:
            model.labels_tokenizer.save_pretrained(work / LABELS_TOKENIZER_FOLDER)
        manifest = {"graphs": graphs, "export_options": asdict(options), "torch": torch.__version__}
        if options.int8:
            from .quantize import quantize_int8

            manifest["int8_graphs"] = [quantize_int8(work / graph).name for graph in graphs]
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if options.check_with_onnxruntime:
            _check_against_torch(model, work)
        if out_dir.exists():
            out_dir.rmdir()
        work.chmod(0o755)  # mkdtemp makes the folder private; the export is an ordinary folder
        work.rename(out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return out_dir


def _check_against_torch(model, folder: Path, tolerance: float = 1e-3) -> None:
    """The exported fp32 graph must give the PyTorch logits on a batch other than the traced one
    (other lengths, other label count), or the export is refused."""
    from .runtime import OnnxGLiNER

    runner = OnnxGLiNER.from_pretrained(folder)
    processor = model.processor
    words = [["Mutations", "in", "the", "APC", "gene", "cause", "colorectal", "adenomas", "."], ["Cystic", "fibrosis"]]
    prompts = ["disease", "gene", "chemical"]
    inputs = processor.encode_texts(words, None if model.config.is_bi_encoder else [prompts] * len(words))
    if model.config.is_bi_encoder:
        with torch.inference_mode():
            inputs["label_embeddings"] = model.embed_labels(prompts)
        if (runner.embed_labels(prompts) - inputs["label_embeddings"]).abs().max() > tolerance:
            raise RuntimeError(f"{folder}: exported labels encoder disagrees with PyTorch")
    with torch.inference_mode():
        expected = model(**inputs)
    got = runner(**inputs)
    mask = expected.span_mask
    worst = float((got.logits[mask] - expected.logits[mask]).abs().max())
    if got.logits.shape != expected.logits.shape or worst > tolerance:
        raise RuntimeError(
            f"{folder}: exported graph disagrees with PyTorch (shape {tuple(got.logits.shape)} vs "
            f"{tuple(expected.logits.shape)}, max |logit difference| {worst:.3g})"
        )
