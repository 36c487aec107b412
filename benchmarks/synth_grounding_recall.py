"""How much of a corpus's gold annotation survives grounding when an LLM returns exactly the gold
mentions (each distinct (mention, type) once, no offsets): the ceiling that grounding puts on
synthetic data, and how often the "all occurrences" rule adds spans the corpus left unannotated.

    python benchmarks/synth_grounding_recall.py [PubTator files...]   (default: BioRED and BC5CDR test)
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from gliner_biomed.dataset_builders.readers import read_pubtator
from gliner_biomed.synth.grounding import ground_mentions
from gliner_biomed.synth.labels import LabelNormaliser
from gliner_biomed.synth.parsing import RawMention

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "pubtator"


def measure(path: Path, normaliser: LabelNormaliser) -> dict:
    totals = Counter()
    for document in read_pubtator(path):
        gold = {(e.start, e.end, normaliser(e.type)) for e in document.entities}
        answer = dict.fromkeys((e.mention, e.type) for e in document.entities)
        result = ground_mentions(document.text, [RawMention(mention, label) for mention, label in answer], normaliser)
        found = {(e["start"], e["end"], e["label"]) for e in result.entities}
        totals.update(documents=1, gold=len(gold), found=len(found), gold_recovered=len(gold & found))
        totals.update({f"mentions_{key}": value for key, value in result.counts.items()})
    return {
        "file": path.name,
        **dict(totals),
        "gold_recall": round(totals["gold_recovered"] / totals["gold"], 4),
        "share_of_spans_in_gold": round(totals["gold_recovered"] / totals["found"], 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", type=Path, nargs="*",
                        default=[CORPORA / "BioRED_Test.PubTator", CORPORA / "BC5CDR_Test.PubTator"])
    args = parser.parse_args()
    normaliser = LabelNormaliser.from_file()
    for path in args.files:
        print(json.dumps(measure(path, normaliser)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
