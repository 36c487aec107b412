"""What the ONNX Runtime paths cost in accuracy and give in speed, on real test sets: strict
micro-F1 against the gold annotations of PyTorch, ONNX fp32 and ONNX int8 (dynamic
quantization) runs of the same model, their entity agreement with PyTorch, and documents/s
(all three in one process, one after the other, on the same documents).

    python benchmarks/onnx_quality.py [--model DIR] [--corpora ncbi-disease,bc5cdr] [--max-documents 100]

The model defaults to the shipped default model; its ONNX export is cached in --onnx-dir.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from gliner_biomed.atomic_files import atomic_writer
from gliner_biomed.evaluation.harness import EvaluationConfig, gold_spans, load_split, predict, spans_only_all
from gliner_biomed.evaluation.scoring import score_spans
from gliner_biomed.evaluation.suites import SuiteDataset
from gliner_biomed.models import load_model
from gliner_biomed.onnx import ExportOptions, OnnxGLiNER, export_onnx
from gliner_biomed.onnx.compare import entity_agreement


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder (default: the shipped default model)")
    parser.add_argument("--onnx-dir", type=Path, default=Path("runs/onnx/default"), help="ONNX export (made if missing)")
    parser.add_argument("--corpora", default="ncbi-disease,bc5cdr", help="test splits, comma-separated")
    parser.add_argument("--max-documents", type=int, default=100, help="seeded sample of each test split")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--out", type=Path, default=Path("runs/onnx/quality.json"))
    args = parser.parse_args(argv)

    model = load_model(args.model)
    if not (args.onnx_dir / "onnx_manifest.json").is_file():
        export_onnx(model, args.onnx_dir, ExportOptions(int8=True))
    runners = {"pytorch": model, "onnx_fp32": OnnxGLiNER.from_pretrained(args.onnx_dir),
               "onnx_int8": OnnxGLiNER.from_pretrained(args.onnx_dir, int8=True)}  # fmt: skip
    config = EvaluationConfig(threshold=args.threshold, batch_size=args.batch_size, max_documents=args.max_documents)
    rows = []
    for corpus in [c.strip() for c in args.corpora.split(",") if c.strip()]:
        sample = load_split(SuiteDataset(corpus=corpus, split="test"), "test", config)
        gold = gold_spans(sample)
        predictions = {}
        for name, runner in runners.items():
            started = time.perf_counter()
            predictions[name] = predict(runner, sample, args.threshold, config)
            seconds = time.perf_counter() - started
            row = {"corpus": corpus, "runner": name, "documents": len(sample.documents), "seconds": round(seconds, 2),
                   "docs_per_s": round(len(sample.documents) / seconds, 2),
                   "micro_f1": round(float(score_spans(spans_only_all(predictions[name]), gold)["micro_f1"]), 4)}  # fmt: skip
            if name != "pytorch":
                row["agreement_f1_vs_pytorch"] = round(entity_agreement(predictions[name], predictions["pytorch"])["f1"], 4)
            rows.append(row)
    result = {"model": args.model or "default", "threshold": args.threshold, "torch_threads": torch.get_num_threads(), "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(args.out) as handle:
        handle.write(json.dumps(result, indent=2) + "\n")
    print("| corpus | runner | docs | docs/s | strict micro-F1 | entity F1 vs PyTorch |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['corpus']} | {row['runner']} | {row['documents']} | {row['docs_per_s']} | {row['micro_f1']:.4f} "
              f"| {row.get('agreement_f1_vs_pytorch', '-')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
