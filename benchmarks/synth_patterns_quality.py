"""Quality of a pattern-mined synthetic corpus (`synth annotate --backend patterns` -> `synth
ground`), measured against the gold annotation of the corpora its texts come from.

For every mined entity whose span overlaps a gold mention of its source document (texts made by
`synth corpus-texts`, ids ``corpus:split:document``): is the mined type compatible with a gold
type of an overlapping mention, through the type vocabulary (``compatible()``: same group or
is-a related)? Mined types are open: most are not vocabulary phrasings, so each is also tried by
its head word ("anticancer drug" -> "drug"), and the rates are given both ways, with the share of
mined types the vocabulary knows at all. Gold annotation covers only the corpus's own types, so
a mined entity that overlaps nothing is not counted as wrong: the rate is a precision on the
overlapping sample, which the report says, with its size; and again on the stricter sample
of mined spans that equal a gold span (an overlap can be a part: "inflammatory bowel disease"
mined as a disease overlaps AnatEM's gold "bowel", an anatomy). Also: distinct types, mentions per
type, top types, per-pattern figures, and seeded examples of compatible and incompatible pairs.

    python benchmarks/synth_patterns_quality.py --grounded runs/patterns/grounded.jsonl \
        --annotations runs/patterns/ann.jsonl [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from gliner_biomed.dataset_builders import load_corpus
from gliner_biomed.dataset_builders.type_vocabulary import load_type_vocabulary
from gliner_biomed.io_records import InputError, iter_jsonl
from gliner_biomed.synth.corpus_texts import split_text_id


def _gold_documents(corpus: str, split: str, cache: Dict) -> Dict[str, Dict]:
    if (corpus, split) not in cache:
        cache[(corpus, split)] = {example["document_id"]: example for example in load_corpus(corpus, split, level="document")}
    return cache[(corpus, split)]


def _judge(vocabulary, mined: str, gold_labels: List[str]) -> Tuple[Optional[bool], Optional[bool]]:
    """(as written, by head word): None where the vocabulary does not know the mined name."""
    as_written = any(vocabulary.compatible(mined, gold) for gold in gold_labels) if vocabulary.resolve(mined) else None
    head = mined.rsplit(" ", 1)[-1]
    by_head = any(vocabulary.compatible(head, gold) for gold in gold_labels) if vocabulary.resolve(head) else None
    return as_written, by_head


def _rate(counter: Counter) -> Dict:
    judged = counter[True] + counter[False]
    return {"judged": judged, "compatible": counter[True], "rate": round(counter[True] / judged, 3) if judged else None,
            "unknown_to_vocabulary": counter[None]}


def _span_patterns(annotations: Path) -> Dict[Tuple[str, int, int], set]:
    """(id, start, end) -> the patterns that proposed the span (the grounded file keeps no pattern)."""
    patterns: Dict[Tuple[str, int, int], set] = defaultdict(set)
    for record in iter_jsonl(annotations, {"id": str, "response": str}):
        for entity in json.loads(record["response"])["entities"]:
            patterns[(record["id"], entity["start"], entity["end"])].add(entity["pattern"])
    return patterns


def measure(grounded: Path, annotations: Path, seed: int = 0, examples: int = 8) -> Dict:
    vocabulary = load_type_vocabulary()
    span_patterns = _span_patterns(annotations)
    gold_cache: Dict = {}
    types: Counter = Counter()
    patterns: Counter = Counter()
    overlapping: Counter = Counter()
    written: Counter = Counter()
    by_head: Counter = Counter()
    either: Counter = Counter()
    same_span: Counter = Counter()
    per_pattern: Dict[str, Dict[str, Counter]] = defaultdict(lambda: {"overlap": Counter(), "either": Counter(), "same_span": Counter()})
    pairs: Dict[bool, List[Dict]] = {True: [], False: []}
    texts = 0
    for record in iter_jsonl(grounded, {"id": str, "text": str, "entities": list}):
        texts += 1
        corpus, split, document_id = split_text_id(record["id"])
        gold = _gold_documents(corpus, split, gold_cache).get(document_id)
        if gold is None or gold["text"] != record["text"]:
            raise InputError(f"{grounded}: {record['id']!r} is not a document of {corpus} {split} with this text")
        for entity in record["entities"]:
            types[entity["label"]] += 1
            pattern = "+".join(sorted(span_patterns.get((record["id"], entity["start"], entity["end"]), {"?"})))
            patterns[pattern] += 1
            hits = [g for g in gold["entities"] if g["start"] < entity["end"] and entity["start"] < g["end"]]
            overlapping[bool(hits)] += 1
            per_pattern[pattern]["overlap"][bool(hits)] += 1
            if not hits:
                continue
            gold_labels = sorted({g["label"] for g in hits})
            as_written, head = _judge(vocabulary, entity["label"], gold_labels)
            written[as_written] += 1
            by_head[head] += 1
            verdict = as_written if as_written is not None else head
            either[verdict] += 1
            per_pattern[pattern]["either"][verdict] += 1
            exact = [g["label"] for g in hits if (g["start"], g["end"]) == (entity["start"], entity["end"])]
            if exact:  # the stricter sample: a gold mention with exactly the mined span
                exact_verdict = _judge(vocabulary, entity["label"], exact)
                exact_verdict = exact_verdict[0] if exact_verdict[0] is not None else exact_verdict[1]
                same_span[exact_verdict] += 1
                per_pattern[pattern]["same_span"][exact_verdict] += 1
            if verdict is not None:
                pairs[verdict].append({"corpus": corpus, "mention": entity["mention"], "mined_type": entity["label"],
                                       "gold_mentions": [g["mention"] for g in hits], "gold_types": gold_labels, "pattern": pattern})
    counts = sorted(types.values())
    rng = random.Random(seed)
    return {
        "grounded": str(grounded),
        "texts": texts,
        "entities": sum(types.values()),
        "distinct_types": len(types),
        "mentions_per_type": {"median": statistics.median(counts) if counts else None, "max": counts[-1] if counts else None,
                              "types_with_1": sum(c == 1 for c in counts), "types_with_2_to_4": sum(2 <= c <= 4 for c in counts),
                              "types_with_5_to_9": sum(5 <= c <= 9 for c in counts), "types_with_10_or_more": sum(c >= 10 for c in counts)},
        "top_types": dict(types.most_common(30)),
        "entities_per_pattern": dict(patterns.most_common()),
        "overlapping_gold": {"entities": overlapping[True], "share": round(overlapping[True] / max(sum(overlapping.values()), 1), 3)},
        "compatible_as_written": _rate(written),
        "compatible_by_head_word": _rate(by_head),
        "compatible_as_written_else_head": _rate(either),
        "same_span_compatible_as_written_else_head": _rate(same_span),
        "per_pattern": {name: {"overlapping_gold": parts["overlap"][True], "overlap": _rate(parts["either"]), "same_span": _rate(parts["same_span"])}
                        for name, parts in sorted(per_pattern.items())},
        "examples": {"compatible": rng.sample(pairs[True], min(examples, len(pairs[True]))),
                     "incompatible": rng.sample(pairs[False], min(examples, len(pairs[False])))},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--grounded", type=Path, required=True, help="`synth ground` output of texts made by `synth corpus-texts`")
    parser.add_argument("--annotations", type=Path, required=True, help="the `synth annotate --backend patterns` output it was grounded from")
    parser.add_argument("--seed", type=int, default=0, help="seed of the example sample")
    parser.add_argument("--examples", type=int, default=8, help="examples of each verdict to show")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    try:
        report = measure(args.grounded, args.annotations, args.seed, args.examples)
    except InputError as error:
        print(f"synth_patterns_quality: error: {error}", file=sys.stderr)
        return 2
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
