"""What the vocabulary prompts of training look like, and what drawing them costs
(docs/open-types.md "Recipe"): types and negatives per example, distinct phrasings, ms per batch.

    python benchmarks/type_prompts.py [--data tmvar3:train bionlp13cg:train ...] [--batches 200] [--batch-size 32]

With --open-contrast-types N (and a mined corpus: --data ... synthetic:train --synthetic-source
FILE), the same batches are drawn twice, without and with open and near contrast, side by side:

    python benchmarks/type_prompts.py --data bc5cdr:train tmvar3:train bionlp13cg:train synthetic:train \
        --synthetic-source runs/patterns2/grounded.jsonl --contrast-types 4 --pair-examples 0.5 \
        --open-contrast-types 4 --batch-size 16 --batches 600
"""

from __future__ import annotations

import argparse
import json
import random
import time

from gliner_biomed.trainers.data import BatchSchedule, load_sources
from gliner_biomed.trainers.type_sampling import TypeSampling, VocabularyPromptSampler


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--data", nargs="+", default=["tmvar3:train", "bionlp13cg:train", "ncbi-disease:train",
                                                      "bionlp13pc:train", "gnormplus:train"])
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--vocabulary-negatives", type=int, default=6)
    parser.add_argument("--drop-type-prob", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--contrast-types", type=int, default=0)
    parser.add_argument("--pair-examples", type=float, default=0.0)
    parser.add_argument("--open-contrast-types", type=int, default=0,
                        help="> 0: also draw the same batches with this many open contrast types and near_contrast, side by side")
    parser.add_argument("--synthetic-source", default=None, help="the mined corpus, for data synthetic:train")
    args = parser.parse_args(argv)

    sources = load_sources(args.data, "sentence", 128, args.seed, args.synthetic_source, source_types=True, synthetic_negatives=False)
    batches = BatchSchedule(sources, args.batch_size, args.seed, mixed=True).batches()
    drawn = [next(batches) for _ in range(args.batches)]
    settings = [{"open_contrast_types": 0, "near_contrast": False}]
    if args.open_contrast_types:
        settings.append({"open_contrast_types": args.open_contrast_types, "near_contrast": True})
    results = []
    for setting in settings:
        draw = VocabularyPromptSampler(TypeSampling(vocabulary_negatives=args.vocabulary_negatives, drop_type_prob=args.drop_type_prob,
                                                    contrast_types=args.contrast_types, pair_examples=args.pair_examples, **setting))
        draw.use_sources(sources)
        results.append({**setting, **_measure(draw, drawn, args.seed)})
    report = {"data": args.data, "batches": args.batches, "batch_size": args.batch_size, "settings": results}
    if len(results) == 2:
        report["ms_ratio_with_open_contrast"] = round(results[1]["ms_per_batch"] / results[0]["ms_per_batch"], 2)
    print(json.dumps(report, indent=2))
    return 0


def _measure(draw, drawn, seed):
    types, negatives, phrasings, timings, prompts = [], [], set(), [], []
    for number, batch in drawn:
        started = time.perf_counter()
        prompts.append(draw(batch, random.Random(f"{seed}/labels/{number}")))
        timings.append(time.perf_counter() - started)
    for examples, label_sets in prompts:
        for example, labels in zip(examples, label_sets):
            positive = {label for _, _, label in example["ner"]}
            types.append(len(labels))
            negatives.append(sum(label not in positive for label in labels))
            phrasings.update(labels)
    return {"types_per_example": round(sum(types) / len(types), 2),
            "negatives_per_example": round(sum(negatives) / len(negatives), 2),
            "distinct_phrasings": len(phrasings), "ms_per_batch": round(1000 * sum(timings) / len(timings), 2)}


if __name__ == "__main__":
    raise SystemExit(main())
