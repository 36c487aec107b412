"""Greedy span selection on a long document's candidates: SpanDecoder.select (a candidate is
checked against the kept spans that can overlap it) against the plain greedy definition (checked
against every kept span), side by side on the same candidates, in each decoding mode.

    python benchmarks/span_selection.py [--words 4000] [--candidates 40000] [--max-width 12]
"""

from __future__ import annotations

import argparse
import random
import time

from gliner_biomed.modeling.processing_gliner import SpanCandidate, SpanDecoder


def plain_greedy(candidates, flat_ner, multi_label):
    ranked = sorted(candidates, key=lambda c: (-c.score, c.start, c.end, c.label_index))
    kept = []
    for candidate in ranked:
        if not any(SpanDecoder._clash(candidate, other, flat_ner, multi_label) for other in kept):
            kept.append(candidate)
    kept.sort(key=lambda c: c.start)
    return kept


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--words", type=int, default=4000, help="document length in words")
    parser.add_argument("--candidates", type=int, default=40000, help="scored span/label pairs above the threshold")
    parser.add_argument("--max-width", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    candidates = []
    for _ in range(args.candidates):
        start = rng.randrange(args.words)
        label = rng.randrange(5)
        candidates.append(SpanCandidate(start, start + rng.randrange(args.max_width), f"type {label}", rng.random(), label))
    decoder = SpanDecoder(max_width=args.max_width)
    print(f"{args.candidates} candidates over {args.words} words")
    print("| flat_ner | multi_label | kept | plain greedy (s) | select (s) | speed-up |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for flat in (True, False):
        for multi in (False, True):
            began = time.perf_counter()
            expected = plain_greedy(candidates, flat, multi)
            plain_s = time.perf_counter() - began
            began = time.perf_counter()
            kept = decoder.select(candidates, flat, multi)
            select_s = time.perf_counter() - began
            if kept != expected:
                raise SystemExit(f"select differs from the plain greedy definition (flat_ner={flat}, multi_label={multi})")
            print(f"| {flat} | {multi} | {len(kept)} | {plain_s:.3f} | {select_s:.3f} | {plain_s / select_s:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
