"""The inference benchmark: our model and the reference `gliner` package on the same weights,
run interleaved in one process over real abstracts, with several label-set sizes and batch
sizes. Reports documents/s and words/s of each side, their ratio, peak memory, and whether the
predicted entities are identical; plus the ONNX Runtime (fp32, int8) paths, a per-stage profile
and the memory of windowed inference over one long document.

Random-weight models put most span scores on one side of 0.5, so every model is read at a
*selective* threshold: the score that keeps ``keep`` of the span/label cells of a few texts
(the same threshold for both sides)."""

from __future__ import annotations

import json
import platform
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import torch

from ..dataset_builders.readers.pubtator import read_pubtator
from ..atomic_files import atomic_writer
from .memory import measured, rss_bytes
from .profile import profile_inference

# Entity types of the biomedical corpora the project covers; the first three are the usual set.
BENCH_LABELS = [
    "disease", "chemical", "gene", "species", "cell line", "cell type", "protein", "mutation",
    "anatomy", "DNA", "RNA", "drug", "organism", "symptom", "procedure",
]  # fmt: skip
DEFAULT_CORPORA = {"ncbi-disease": "pubtator/NCBIdisease_Test.PubTator", "bc5cdr": "pubtator/BC5CDR_Test.PubTator"}


@dataclass
class ModelPair:
    """``ours``: a folder of this project's format; ``reference``: the same weights in the
    reference `gliner` format (the folder it was converted from)."""

    name: str
    ours: Path
    reference: Path
    threshold: Optional[float] = None  # None: a selective threshold (random-weight heads)


@dataclass
class BenchConfig:
    corpora_dir: Path
    out_dir: Path
    docs_per_corpus: int = 48
    label_counts: Sequence[int] = (3, 15)
    batch_sizes: Sequence[int] = (1, 16)
    repeats: int = 1
    keep: float = 0.004
    threads: Optional[int] = None
    onnx: bool = True
    onnx_cache: Optional[Path] = None
    long_document_words: Sequence[int] = (1250, 2500, 5000)
    long_document_batch_size: int = 4
    span_head: str = "fused"  # our span head: "fused" (the models' fast path) or "exact" (the reference's operations)
    attention: str = "per-text"  # DeBERTa-v2 attention: "per-text" (fast path, same floats) or "transformers"
    profile: bool = True
    corpora: Dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CORPORA))


def entity_keys(predictions: List[List[dict]]) -> List[List[tuple]]:
    return [sorted((e["start"], e["end"], e["label"]) for e in doc) for doc in predictions]


def compare_predictions(ours: List[List[dict]], reference: List[List[dict]]) -> dict:
    identical = sum(a == b for a, b in zip(entity_keys(ours), entity_keys(reference)))
    worst = 0.0
    for mine, theirs in zip(ours, reference):
        if entity_keys([mine]) == entity_keys([theirs]):
            by_key = {(e["start"], e["end"], e["label"]): e["score"] for e in theirs}
            worst = max([worst] + [abs(e["score"] - by_key[(e["start"], e["end"], e["label"])]) for e in mine])
    return {
        "identical_documents": identical,
        "documents": len(reference),
        "identical": identical == len(reference),
        "entities_ours": sum(map(len, ours)),
        "entities_reference": sum(map(len, reference)),
        "max_score_difference": worst,
    }


def selective_threshold(model, texts: Sequence[str], labels: Sequence[str], keep: float) -> float:
    processor = model.processor
    words = [[word for word, _, _ in processor.split_words(text)] for text in texts]
    inputs = processor.encode_texts(words, None if model.config.is_bi_encoder else [list(labels)] * len(texts))
    if model.config.is_bi_encoder:
        inputs.update(processor.encode_labels(list(labels)))
    with torch.inference_mode():
        output = model(**inputs)
    probs = torch.sigmoid(output.logits[output.span_mask]).flatten()
    return round(float(torch.quantile(probs, 1.0 - keep)), 4)


def reading_threshold(model, texts: Sequence[str], labels: Sequence[str], config: "BenchConfig", fixed: Optional[float]) -> float:
    """``fixed`` (a trained model's threshold) if given, else a selective one from a few texts."""
    return fixed if fixed is not None else selective_threshold(model, texts[:4], labels, config.keep)


def fits_in_one_reference_pass(model, text: str, labels: Sequence[str]) -> bool:
    """The reference truncates what does not fit in one pass; we read it in windows. Documents
    that need windows would differ legitimately, so they are left out of the comparison."""
    processor = model.processor
    words = [word for word, _, _ in processor.split_words(text)]
    prompt = 0 if model.config.is_bi_encoder else processor.prompt_token_count(labels)
    tokens = sum(processor.word_token_counts(words)) + prompt
    return len(words) <= model.config.max_len and tokens <= processor.max_sequence_tokens


def load_documents(config: BenchConfig) -> Dict[str, List[str]]:
    documents = {}
    for name, relative in config.corpora.items():
        path = config.corpora_dir / relative
        if not path.is_file():
            raise FileNotFoundError(f"corpus {name}: {path} not found (see --corpora-dir)")
        texts = [document.text for document in read_pubtator(path)]
        documents[name] = texts
    return documents


def machine_description() -> dict:
    with open("/proc/loadavg", encoding="ascii") as handle:
        load = handle.read().split()[:3]
    model_name = "unknown"
    with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
        for line in handle:
            if line.startswith("model name"):
                model_name = line.split(":", 1)[1].strip()
                break
    import os

    return {
        "cpu": model_name,
        "cpus_available": len(os.sched_getaffinity(0)),
        "torch_threads": torch.get_num_threads(),
        "load_average_1_5_15_min": [float(value) for value in load],
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


def _timed_inference(model, texts, labels, batch_size, threshold, words):
    with measured() as stats:
        predictions = model.inference(list(texts), labels, batch_size=batch_size, threshold=threshold)
    stats["docs_per_s"] = round(len(texts) / stats["seconds"], 3)
    stats["words_per_s"] = round(words / stats["seconds"], 1)
    stats["seconds"] = round(stats["seconds"], 3)
    return predictions, stats


def bench_pair(pair: ModelPair, documents: Dict[str, List[str]], config: BenchConfig, progress) -> dict:
    from gliner import GLiNER

    from ..models import load_model

    ours = load_model(str(pair.ours))
    ours.config.fused_span_scoring = config.span_head == "fused"
    ours.set_per_text_attention(config.attention == "per-text")
    reference = GLiNER.from_pretrained(str(pair.reference), local_files_only=True)
    reference.eval()
    result = {"model": pair.name, "ours": str(pair.ours), "reference": str(pair.reference), "runs": []}
    onnx_runners = _onnx_runners(ours, pair, config) if config.onnx else {}
    for num_labels in config.label_counts:
        labels = BENCH_LABELS[:num_labels]
        for corpus, all_texts in documents.items():
            texts = [t for t in all_texts if fits_in_one_reference_pass(ours, t, labels)][: config.docs_per_corpus]
            words = sum(len(ours.processor.split_words(text)) for text in texts)
            threshold = reading_threshold(ours, texts, labels, config, pair.threshold)
            # warm-up of both sides (first-call allocations, lazy imports)
            ours.inference(texts[:2], labels, threshold=threshold)
            reference.inference(texts[:2], labels, threshold=threshold)
            for batch_size in config.batch_sizes:
                run = {"corpus": corpus, "labels": num_labels, "batch_size": batch_size, "documents": len(texts),
                       "words": words, "threshold": threshold, "repeats": []}  # fmt: skip
                for repeat in range(config.repeats):
                    # interleaved, the order alternating between repeats so that neither side
                    # always runs on a warmer cache or a quieter machine
                    order = ("reference", "ours") if repeat % 2 == 0 else ("ours", "reference")
                    timings, predictions = {}, {}
                    for side in order:
                        model = reference if side == "reference" else ours
                        predictions[side], timings[side] = _timed_inference(model, texts, labels, batch_size, threshold, words)
                    timings["comparison"] = compare_predictions(predictions["ours"], predictions["reference"])
                    for name, runner in onnx_runners.items():
                        got, timings[name] = _timed_inference(runner, texts, labels, batch_size, threshold, words)
                        timings[name]["vs_pytorch"] = compare_predictions(got, predictions["ours"])
                        from ..onnx.compare import entity_agreement

                        timings[name]["vs_pytorch"]["f1"] = round(entity_agreement(got, predictions["ours"])["f1"], 4)
                    run["repeats"].append(timings)
                    progress.update(1)
                run["summary"] = _summarize(run["repeats"], list(onnx_runners))
                result["runs"].append(run)
    if config.profile:
        labels = BENCH_LABELS[:3]
        texts = [t for corpus in documents.values() for t in corpus[: config.docs_per_corpus]]
        threshold = reading_threshold(ours, texts, labels, config, pair.threshold)
        result["profile"] = {
            f"batch_{batch_size}": profile_inference(ours, texts, labels, batch_size, threshold)
            for batch_size in config.batch_sizes
        }
    if config.long_document_words:
        result["long_document"] = long_document_memory(ours, documents, config, pair.threshold)
    return result


def _summarize(repeats: List[dict], onnx_names: List[str]) -> dict:
    def best(side, key):  # the fastest repeat: the least disturbed by other load
        return max(r[side][key] for r in repeats)

    summary = {
        "ours_docs_per_s": best("ours", "docs_per_s"),
        "reference_docs_per_s": best("reference", "docs_per_s"),
        "ours_words_per_s": best("ours", "words_per_s"),
        "reference_words_per_s": best("reference", "words_per_s"),
        "ours_peak_rss_mb": max(r["ours"]["peak_rss_mb"] for r in repeats),
        "reference_peak_rss_mb": max(r["reference"]["peak_rss_mb"] for r in repeats),
        "ours_rss_growth_mb": max(r["ours"]["rss_growth_mb"] for r in repeats),
        "reference_rss_growth_mb": max(r["reference"]["rss_growth_mb"] for r in repeats),
        "identical": all(r["comparison"]["identical"] for r in repeats),
        "identical_documents": min(r["comparison"]["identical_documents"] for r in repeats),
    }
    # ratio of each interleaved repeat, then the median: both sides saw the same machine load
    summary["ratio_docs_per_s"] = round(statistics.median(r["ours"]["docs_per_s"] / r["reference"]["docs_per_s"] for r in repeats), 3)
    for name in onnx_names:
        summary[f"{name}_docs_per_s"] = best(name, "docs_per_s")
        summary[f"{name}_ratio_vs_reference"] = round(
            statistics.median(r[name]["docs_per_s"] / r["reference"]["docs_per_s"] for r in repeats), 3
        )
        summary[f"{name}_identical_to_pytorch"] = all(r[name]["vs_pytorch"]["identical"] for r in repeats)
        summary[f"{name}_f1_vs_pytorch"] = min(r[name]["vs_pytorch"]["f1"] for r in repeats)
    return summary


def _onnx_runners(ours, pair: ModelPair, config: BenchConfig) -> dict:
    from ..onnx import ExportOptions, OnnxGLiNER, export_onnx

    cache = (config.onnx_cache or config.out_dir / "onnx") / pair.name
    if not (cache / "onnx_manifest.json").is_file():
        export_onnx(ours, cache, ExportOptions(int8=True))
    threads = config.threads
    return {
        "onnx_fp32": OnnxGLiNER.from_pretrained(cache, threads=threads),
        "onnx_int8": OnnxGLiNER.from_pretrained(cache, int8=True, threads=threads),
    }


def long_document_memory(model, documents: Dict[str, List[str]], config: BenchConfig, threshold: Optional[float] = None) -> List[dict]:
    """Peak RSS growth of windowed inference over one document of N words (abstracts joined),
    for growing N, ``config.long_document_batch_size`` windows per forward pass: bounded memory
    means the growth stops growing with N once a document fills one batch of windows."""
    pool = [text for texts in documents.values() for text in texts]
    labels = BENCH_LABELS[:3]
    threshold = reading_threshold(model, pool, labels, config, threshold)
    rows = []
    for target in config.long_document_words:
        parts, count = [], 0
        for text in pool:
            if count >= target:
                break
            parts.append(text)
            count += len(model.processor.split_words(text))
        if count < target:
            raise ValueError(f"the corpora have only {count} words, fewer than the {target} asked for")
        document = " ".join(parts)
        with measured() as stats:
            entities = model.inference([document], labels, batch_size=config.long_document_batch_size, threshold=threshold)[0]
        rows.append({"words": len(model.processor.split_words(document)), "entities": len(entities),
                     "seconds": round(stats["seconds"], 2), "peak_rss_mb": stats["peak_rss_mb"],
                     "rss_growth_mb": stats["rss_growth_mb"]})  # fmt: skip
    return rows


def run_benchmark(pairs: Sequence[ModelPair], config: BenchConfig) -> dict:
    from tqdm.auto import tqdm

    if config.threads is not None:
        torch.set_num_threads(config.threads)
    documents = load_documents(config)
    total = len(pairs) * len(config.label_counts) * len(documents) * len(config.batch_sizes) * config.repeats
    started = time.time()
    results = {"machine": machine_description(), "config": _jsonable(asdict(config)), "models": []}
    results["machine"]["rss_at_start_mb"] = round(rss_bytes() / 2**20, 1)
    with tqdm(total=total, desc="bench runs", unit="run") as progress:
        for pair in pairs:
            results["models"].append(bench_pair(pair, documents, config, progress))
    results["machine"]["load_average_at_end"] = machine_description()["load_average_1_5_15_min"]
    results["wall_seconds"] = round(time.time() - started, 1)
    config.out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_writer(config.out_dir / "bench_results.json") as handle:
        handle.write(json.dumps(results, indent=2) + "\n")
    with atomic_writer(config.out_dir / "bench_results.md") as handle:
        handle.write(markdown_report(results))
    return results


def _jsonable(value):
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return str(value) if isinstance(value, Path) else value


def markdown_report(results: dict) -> str:
    machine = results["machine"]
    lines = [
        "## Inference benchmark",
        "",
        f"Machine: {machine['cpu']}, {machine['cpus_available']} CPUs available, {machine['torch_threads']} torch threads, "
        f"torch {machine['torch']}, Python {machine['python']}; load average at start "
        f"{machine['load_average_1_5_15_min']}, at end {machine['load_average_at_end']} (shared machine). "
        f"Wall time {results['wall_seconds']} s. Our span head: {results['config']['span_head']}; "
        f"our DeBERTa-v2 attention: {results['config'].get('attention', 'transformers')}.",
        "",
        "Documents/s and words/s are the fastest of the interleaved repeats; ratio = ours / reference "
        "(median over repeats); identical = same (start, end, label) entities in every document.",
        "",
        "| model | corpus | docs | labels | batch | ours docs/s | ref docs/s | ratio | ours words/s | ref words/s "
        "| ours peak RSS MB | ref peak RSS MB | identical | ONNX fp32 docs/s (x ref, identical) | ONNX int8 docs/s (x ref, F1 vs fp32) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for model in results["models"]:
        for run in model["runs"]:
            s = run["summary"]
            onnx_fp32 = (
                f"{s['onnx_fp32_docs_per_s']:.2f} ({s['onnx_fp32_ratio_vs_reference']:.2f}x, {'yes' if s['onnx_fp32_identical_to_pytorch'] else 'no'})"
                if "onnx_fp32_docs_per_s" in s else "-"
            )  # fmt: skip
            onnx_int8 = (
                f"{s['onnx_int8_docs_per_s']:.2f} ({s['onnx_int8_ratio_vs_reference']:.2f}x, F1 {s['onnx_int8_f1_vs_pytorch']:.3f})"
                if "onnx_int8_docs_per_s" in s else "-"
            )  # fmt: skip
            identical = "yes" if s["identical"] else f"no ({s['identical_documents']}/{run['documents']})"
            lines.append(
                f"| {model['model']} | {run['corpus']} | {run['documents']} | {run['labels']} | {run['batch_size']} "
                f"| {s['ours_docs_per_s']:.2f} | {s['reference_docs_per_s']:.2f} | **{s['ratio_docs_per_s']:.2f}** "
                f"| {s['ours_words_per_s']:.0f} | {s['reference_words_per_s']:.0f} | {s['ours_peak_rss_mb']:.0f} "
                f"| {s['reference_peak_rss_mb']:.0f} | {identical} | {onnx_fp32} | {onnx_int8} |"
            )
    for model in results["models"]:
        if "profile" in model:
            lines += ["", f"Profile of our PyTorch path, {model['model']}, 3 labels (seconds per stage):", "",
                      "| batch | tokenization | encoder | words (pool + LSTM) | span head | decoding | other | total |",
                      "|---|---|---|---|---|---|---|---|"]  # fmt: skip
            for name, p in model["profile"].items():
                lines.append(
                    f"| {name.split('_')[1]} | {p['tokenization']} | {p['encoder']} | {p['words']} | {p['span_head']} "
                    f"| {p['decoding']} | {p['other']} | {p['total']} |"
                )
        if "long_document" in model:
            lines += ["", f"Windowed inference over one long document, {model['model']}, {results['config']['long_document_batch_size']} windows per batch:", "",
                      "| words | entities | seconds | peak RSS MB | RSS growth MB |", "|---|---|---|---|---|"]  # fmt: skip
            for row in model["long_document"]:
                lines.append(f"| {row['words']} | {row['entities']} | {row['seconds']} | {row['peak_rss_mb']} | {row['rss_growth_mb']} |")
    return "\n".join(lines) + "\n"
