"""What the vocabulary prompts of training look like, and what drawing them costs
(docs/open-types.md "Recipe"): types and negatives per example, distinct phrasings, ms per batch.

    python benchmarks/type_prompts.py [--data tmvar3:train bionlp13cg:train ...] [--batches 200] [--batch-size 32]
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
    args = parser.parse_args(argv)

    sources = load_sources(args.data, "sentence", 128, args.seed, source_types=True)
    draw = VocabularyPromptSampler(TypeSampling(vocabulary_negatives=args.vocabulary_negatives, drop_type_prob=args.drop_type_prob))
    draw.check_corpora([spec.corpus for spec, _ in sources])
    batches = BatchSchedule(sources, args.batch_size, args.seed, mixed=True).batches()
    drawn = [next(batches) for _ in range(args.batches)]
    types, negatives, phrasings = [], [], set()
    started = time.perf_counter()
    prompts = [draw(batch, random.Random(f"{args.seed}/labels/{number}")) for number, batch in drawn]
    seconds = time.perf_counter() - started
    for examples, label_sets in prompts:
        for example, labels in zip(examples, label_sets):
            positive = {label for _, _, label in example["ner"]}
            types.append(len(labels))
            negatives.append(sum(label not in positive for label in labels))
            phrasings.update(labels)
    print(json.dumps({"data": args.data, "batches": args.batches, "batch_size": args.batch_size,
                      "types_per_example": round(sum(types) / len(types), 2),
                      "negatives_per_example": round(sum(negatives) / len(negatives), 2),
                      "distinct_phrasings": len(phrasings), "ms_per_batch": round(1000 * seconds / args.batches, 2)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
