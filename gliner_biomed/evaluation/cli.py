"""`gliner-biomed evaluate`: a model over a named suite of test splits, zero-shot (labels from each
corpus's label map), with results.json, a Markdown table and PNG plots."""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import platform
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Dict, Optional

from ..errors import bad_input_from
from ..log import get_logger
from ..output_lock import exclusive_output
from .harness import DEFAULT_SWEEP_THRESHOLDS, EvaluationConfig, run_suite
from .report import markdown_table, write_reports
from .suites import list_suites, load_suite

DEFAULT_THRESHOLD = EvaluationConfig.threshold

logger = get_logger(__name__)
VERSIONED_PACKAGES = ("gliner-biomed", "torch", "transformers", "datasets", "evaluate", "numpy")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score a model on a suite of test splits (results.json, Markdown table, plots)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="model folder (converted reference checkpoint or trainer output) or Hub repo id")
    parser.add_argument("--suite", required=True, help=f"shipped suite ({', '.join(list_suites())}) or a suite YAML file")
    parser.add_argument(
        "--threshold", type=float, default=None, help=f"score threshold (strictly greater); None means {DEFAULT_THRESHOLD}; not allowed with --sweep"
    )
    parser.add_argument("--sweep", action="store_true", help="choose the threshold on the suite's validation splits (never test) and plot the curve")
    parser.add_argument(
        "--sweep-thresholds", default=",".join(f"{t:g}" for t in DEFAULT_SWEEP_THRESHOLDS), help="comma-separated thresholds tried by --sweep"
    )
    parser.add_argument("--out", type=Path, default=None, help="output folder; None means results/SUITE")
    parser.add_argument("--max-documents", type=int, default=None, help="seeded sub-sample of at most this many documents per split (overrides the suite)")
    parser.add_argument("--seed", type=int, default=13, help="seed of the sub-sample and of the bootstrap")
    parser.add_argument("--bootstrap", type=int, default=0, help="bootstrap resamples of documents for 95%% confidence intervals (0: none)")
    parser.add_argument("--nested", action="store_true", help="allow nested entities (flat_ner=False)")
    parser.add_argument("--multi-label", action="store_true", help="allow several labels on the same span")
    parser.add_argument("--batch-size", type=int, default=8, help="windows per forward pass")
    parser.add_argument("--device", default="cpu", help="torch device")
    parser.add_argument("--no-resume", action="store_true", help="predict again even where an identical earlier run saved predictions")
    parser.set_defaults(func=run)


def parse_thresholds(value: str):
    try:
        thresholds = tuple(float(part) for part in value.split(",") if part.strip())
    except ValueError as error:
        raise ValueError(f"--sweep-thresholds {value!r}: {error}") from error
    if not thresholds:
        raise ValueError(f"--sweep-thresholds {value!r} names no threshold")
    return thresholds


def model_fingerprint(model: str) -> Optional[str]:
    """Identity of a local model folder (file names, sizes, modification times), so that saved
    predictions are reused only for the same model; None for Hub ids (no reuse)."""
    folder = Path(model)
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    listing = [[str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns] for p in files]
    return hashlib.sha256(json.dumps([str(folder.resolve()), listing]).encode("utf-8")).hexdigest()


def git_commit() -> Dict[str, Optional[object]]:
    """HEAD of the repository holding this package, and whether tracked files differ from it."""
    where = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return {"commit": None, "commit_dirty": None}
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=where, capture_output=True, text=True, timeout=30)
        return {"commit": commit.stdout.strip(), "commit_dirty": bool(status.stdout.strip()) if status.returncode == 0 else None}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "commit_dirty": None}


def versions() -> Dict[str, Optional[str]]:
    found = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


def run(args: argparse.Namespace) -> int:
    with bad_input_from(ValueError, KeyError):
        if args.sweep and args.threshold is not None:
            raise ValueError("--sweep chooses the threshold on validation data; do not pass --threshold with it")
        config = EvaluationConfig(
            threshold=DEFAULT_THRESHOLD if args.threshold is None else args.threshold,
            flat_ner=not args.nested,
            multi_label=args.multi_label,
            batch_size=args.batch_size,
            max_documents=args.max_documents,
            seed=args.seed,
            bootstrap_samples=args.bootstrap,
            sweep=args.sweep,
            sweep_thresholds=parse_thresholds(args.sweep_thresholds),
            resume=not args.no_resume,
        )
        suite = load_suite(args.suite)
        out_dir = args.out if args.out is not None else Path("results") / suite.name
        from gliner_biomed.models import load_model

    with exclusive_output(out_dir, "--out"):  # two runs would overwrite each other's reports
        started_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        load_started = time.perf_counter()
        model = load_model(args.model, device=args.device)
        load_seconds = time.perf_counter() - load_started
        results = {
            "model": args.model,
            "model_class": type(model).__name__,
            "started_at": started_at,
            "seconds_load_model": load_seconds,
            **run_suite(model, suite, config, predictions_dir=out_dir / "predictions", model_fingerprint=model_fingerprint(args.model)),
            **git_commit(),
            "versions": versions(),
        }
        written = write_reports(results, out_dir)
    print(markdown_table(results))
    logger.info("wrote " + ", ".join(str(path) for path in written))
    return 0
