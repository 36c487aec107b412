"""`gliner-biomed compare`: is a candidate model better than a baseline on a suite, beyond noise?

Reads two `gliner-biomed evaluate` output folders of the same suite (same documents, seed and
threshold choice made by each run), re-scores their saved predictions with the same document
resamples (the ``span_ner`` bootstrap is paired when seed and documents agree) and reports, per
dataset and for the suite's unweighted average, the difference candidate - baseline with a
percentile interval. An interval above zero is an improvement the resampling of documents does not
explain."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Dict, List

import numpy as np

from ..atomic_files import atomic_writer
from ..errors import BadInputError, bad_input_from
from .harness import EvaluationConfig, gold_spans, load_split, spans_only_all
from .scoring import score_spans
from .suites import load_suite

SCHEMES = ("strict", "partial_overlap")


def _results(folder: Path) -> Dict:
    path = folder / "results.json"
    if not path.is_file():
        raise BadInputError(f"{folder}: no results.json (an output folder of `gliner-biomed evaluate`)")
    return json.loads(path.read_text(encoding="utf-8"))


def _predictions(row: Dict, where: Path) -> Dict[str, List[Dict]]:
    path = Path(row["predictions_file"] or "")
    if not path.is_absolute():
        path = where / "predictions" / path.name
    if not path.is_file():
        raise BadInputError(f"{where}: predictions of {row['name']} are missing ({path})")
    with path.open(encoding="utf-8") as handle:
        handle.readline()  # header
        return {record["id"]: record["entities"] for record in map(json.loads, handle)}


def compare(baseline_dir: Path, candidate_dir: Path, samples: int = 1000, seed: int = 13) -> Dict:
    baseline, candidate = _results(baseline_dir), _results(candidate_dir)
    if baseline["suite"]["name"] != candidate["suite"]["name"]:
        raise BadInputError(f"different suites: {baseline['suite']['name']} vs {candidate['suite']['name']}")
    suite = load_suite(baseline["suite"]["file"])
    for key in ("max_documents", "seed"):
        if baseline["config"][key] != candidate["config"][key]:
            raise BadInputError(f"the two runs drew documents differently ({key}: {baseline['config'][key]} vs {candidate['config'][key]})")
    config = EvaluationConfig(max_documents=baseline["config"]["max_documents"], seed=baseline["config"]["seed"])
    rows_b = {row["name"]: row for row in baseline["datasets"]}
    rows_c = {row["name"]: row for row in candidate["datasets"]}
    datasets, draws = [], {scheme: {"baseline": [], "candidate": []} for scheme in SCHEMES}
    for dataset in suite.datasets:
        if dataset.name not in rows_b or dataset.name not in rows_c:
            raise BadInputError(f"{dataset.name} is not in both runs")
        sample = load_split(dataset, dataset.split, config)
        gold = gold_spans(sample)
        entry = {"name": dataset.name, "num_documents": len(gold)}
        for side, row, folder in (("baseline", rows_b[dataset.name], baseline_dir), ("candidate", rows_c[dataset.name], candidate_dir)):
            by_id = _predictions(row, folder)
            missing = [d["id"] for d in sample.documents if d["id"] not in by_id]
            if missing:
                raise BadInputError(f"{folder}: {dataset.name} has no predictions for documents {missing[:3]}")
            scores = score_spans(spans_only_all([by_id[d["id"]] for d in sample.documents]), gold,
                                 bootstrap_samples=samples, bootstrap_seed=seed, return_bootstrap_scores=True)
            for scheme in SCHEMES:
                entry.setdefault(scheme, {})[side] = scores[scheme]["micro_f1"]
                draws[scheme][side].append(np.asarray(scores["bootstrap_scores"][scheme]))
        for scheme in SCHEMES:
            difference = draws[scheme]["candidate"][-1] - draws[scheme]["baseline"][-1]
            entry[scheme]["difference"] = entry[scheme]["candidate"] - entry[scheme]["baseline"]
            entry[scheme]["difference_95ci"] = [float(np.percentile(difference, 2.5)), float(np.percentile(difference, 97.5))]
        datasets.append(entry)
    average = {}
    for scheme in SCHEMES:
        base = np.mean(draws[scheme]["baseline"], axis=0)
        cand = np.mean(draws[scheme]["candidate"], axis=0)
        point_b = float(np.mean([d[scheme]["baseline"] for d in datasets]))
        point_c = float(np.mean([d[scheme]["candidate"] for d in datasets]))
        average[scheme] = {
            "baseline": point_b, "candidate": point_c, "difference": point_c - point_b,
            "difference_95ci": [float(np.percentile(cand - base, 2.5)), float(np.percentile(cand - base, 97.5))],
            "baseline_95ci": [float(np.percentile(base, 2.5)), float(np.percentile(base, 97.5))],
            "candidate_95ci": [float(np.percentile(cand, 2.5)), float(np.percentile(cand, 97.5))],
        }
    return {
        "suite": suite.name,
        "baseline": {"folder": str(baseline_dir), "model": baseline.get("model"), "threshold": baseline["threshold"]},
        "candidate": {"folder": str(candidate_dir), "model": candidate.get("model"), "threshold": candidate["threshold"]},
        "bootstrap": {"samples": samples, "seed": seed, "paired": True},
        "datasets": datasets,
        "average": average,
    }


def markdown(result: Dict) -> str:
    lines = [
        f"suite {result['suite']}: candidate {result['candidate']['model']} (threshold {result['candidate']['threshold']:g}) "
        f"vs baseline {result['baseline']['model']} (threshold {result['baseline']['threshold']:g}), "
        f"paired document bootstrap, {result['bootstrap']['samples']} resamples",
        "",
        "| dataset | strict: baseline | candidate | difference [95% CI] | relaxed: baseline | candidate | difference [95% CI] |",
        "| --- | ---: | ---: | --- | ---: | ---: | --- |",
    ]
    for row in result["datasets"] + [{"name": "**average**", **result["average"]}]:
        cells = [row["name"]]
        for scheme in SCHEMES:
            s = row[scheme]
            low, high = s["difference_95ci"]
            cells += [f"{100 * s['baseline']:.1f}", f"{100 * s['candidate']:.1f}",
                      f"{100 * s['difference']:+.1f} [{100 * low:+.1f}, {100 * high:+.1f}]"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "compare", help="paired bootstrap of two `evaluate` runs of one suite: candidate - baseline with 95%% intervals",
        description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("baseline", type=Path, help="output folder of `gliner-biomed evaluate` for the baseline model")
    parser.add_argument("candidate", type=Path, help="output folder of `gliner-biomed evaluate` for the candidate model (same suite)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="document resamples")
    parser.add_argument("--seed", type=int, default=13, help="seed of the resamples (shared by both models)")
    parser.add_argument("--out", type=Path, default=None, help="also write the comparison as JSON here")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with bad_input_from(ValueError, KeyError):
        if args.bootstrap < 1:
            raise ValueError(f"--bootstrap must be >= 1, got {args.bootstrap}")
        result = compare(args.baseline, args.candidate, args.bootstrap, args.seed)
    if args.out is not None:
        with atomic_writer(args.out) as out:
            out.write(json.dumps(result, indent=2) + "\n")
    print(markdown(result), end="")
    return 0
