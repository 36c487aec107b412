"""Reports of one evaluation, all drawn from the same results dictionary: results.json (every
number), results.md (the table) and PNG plots (per-dataset F1; the threshold sweep)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List

from ..atomic_files import atomic_path, atomic_writer

RESULTS_JSON = "results.json"
RESULTS_TABLE = "results.md"
F1_PLOT = "f1.png"
SWEEP_PLOT = "sweep.png"


def percent(value: float) -> str:
    """How every score appears in the tables: a percentage with two decimals."""
    return f"{100.0 * value:.2f}"


def markdown_table(results: Dict) -> str:
    """Rows: datasets, then the average; columns: strict micro precision, recall, F1 (in %), and
    the relaxed F1s (a 95% interval column when the bootstrap ran)."""
    with_ci = any("confidence_intervals" in row["scores"] for row in results["datasets"])
    header = ["Dataset", "Split", "Documents", "Precision", "Recall", "F1"]
    if with_ci:
        header.append("F1 interval")
    header += ["F1 exact boundary", "F1 partial overlap"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 3 + ["---:"] * (len(header) - 3)) + "|"]
    for row in results["datasets"]:
        scores = row["scores"]
        documents = str(row["num_documents"]) if not row["sampled"] else f"{row['num_documents']} of {row['num_documents_total']}"
        cells = [row["name"], row["split"], documents, percent(scores["micro_precision"]), percent(scores["micro_recall"]), percent(scores["micro_f1"])]
        if with_ci:
            interval = scores.get("confidence_intervals", {}).get("strict", {}).get("micro_f1")
            cells.append(f"{percent(interval[0])}–{percent(interval[1])}" if interval else "")
        cells += [percent(scores["exact_boundary"]["micro_f1"]), percent(scores["partial_overlap"]["micro_f1"])]
        lines.append("| " + " | ".join(cells) + " |")
    mean = results["average"]
    cells = [f"**Average** ({mean['num_datasets']} datasets)", "", "", percent(mean["micro_precision"]), percent(mean["micro_recall"]), percent(mean["micro_f1"])]
    cells += [""] * (len(header) - len(cells))
    lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown_report(results: Dict) -> str:
    sweep = results.get("sweep")
    threshold_note = (
        f"threshold {results['threshold']:g}, chosen on validation splits ({', '.join(sweep['validation_micro_f1'])})"
        if sweep
        else f"threshold {results['threshold']:g}"
    )
    sampled = [row for row in results["datasets"] if row["sampled"]]
    notes = [
        f"Model: `{results.get('model', '?')}` · suite `{results['suite']['name']}` · {threshold_note} · "
        f"commit `{results.get('commit') or 'unknown'}`{' (uncommitted changes)' if results.get('commit_dirty') else ''}",
        "",
        markdown_table(results),
        "",
        "Strict micro scores in % (same start, end and label). The average is the unweighted mean over datasets. "
        "Relaxed F1s: exact boundary ignores the label; partial overlap needs the label and one shared character.",
    ]
    if sampled:
        notes.append(
            f"Sub-sampled with seed {results['config']['seed']}: "
            + ", ".join(f"{row['name']} ({row['num_documents']} of {row['num_documents_total']} documents)" for row in sampled)
            + "."
        )
    return f"# Evaluation: suite `{results['suite']['name']}`\n\n" + "\n".join(notes) + "\n"


def _write_text(path: Path, text: str) -> None:
    with atomic_writer(path) as handle:
        handle.write(text)


def _save_figure(figure, path: Path) -> None:
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=120, bbox_inches="tight")


def plot_f1(results: Dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["datasets"]
    names = [row["name"] for row in rows]
    values = [100.0 * row["scores"]["micro_f1"] for row in rows]
    figure, axis = plt.subplots(figsize=(max(4.0, 0.8 * len(rows) + 2.0), 3.6))
    bars = axis.bar(names, values, color="#4C72B0")
    axis.bar_label(bars, labels=[percent(row["scores"]["micro_f1"]) for row in rows], fontsize=8)
    mean = 100.0 * results["average"]["micro_f1"]
    axis.axhline(mean, color="#C44E52", linestyle="--", label=f"average {mean:.2f}")
    axis.set_ylabel("strict micro F1 (%)")
    axis.set_ylim(0, 100)
    axis.set_title(f"{results['suite']['name']} · threshold {results['threshold']:g}")
    axis.legend(loc="upper right", fontsize=8)
    plt.setp(axis.get_xticklabels(), rotation=30, ha="right")
    _save_figure(figure, path)
    plt.close(figure)


def plot_sweep(results: Dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sweep = results["sweep"]
    thresholds = sweep["thresholds"]
    figure, axis = plt.subplots(figsize=(5.5, 3.6))
    for name, curve in sweep["validation_micro_f1"].items():
        axis.plot(thresholds, [100.0 * v for v in curve], marker=".", linewidth=1, alpha=0.7, label=name)
    axis.plot(thresholds, [100.0 * v for v in sweep["mean_validation_micro_f1"]], color="black", linewidth=2, label="mean")
    axis.axvline(sweep["chosen_threshold"], color="#C44E52", linestyle="--", label=f"chosen {sweep['chosen_threshold']:g}")
    axis.set_xlabel("threshold")
    axis.set_ylabel("validation strict micro F1 (%)")
    axis.set_title(f"threshold sweep · {results['suite']['name']}")
    axis.legend(fontsize=7)
    _save_figure(figure, path)
    plt.close(figure)


def write_reports(results: Dict, out_dir: Path) -> List[Path]:
    """Writes results.json, results.md, f1.png and (after a sweep) sweep.png; returns the paths."""
    out_dir = Path(out_dir)
    written = [out_dir / RESULTS_JSON, out_dir / RESULTS_TABLE, out_dir / F1_PLOT]
    _write_text(written[0], json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    _write_text(written[1], markdown_report(results))
    plot_f1(results, written[2])
    if results.get("sweep"):
        written.append(out_dir / SWEEP_PLOT)
        plot_sweep(results, written[-1])
    return written
