"""Time to first entity, whole process: `gliner-biomed predict TEXT` against the reference `gliner`
package reading the same trained weights (the shipped default model; see build_bench_models.py).

Each repeat runs both, in alternating order (paired runs), each in a fresh Python process, and
measures from process start to the first entity line on standard output (interpreter start,
imports, model load, one prediction) and to process exit. Reports medians, the ratio ours /
reference, and whether both printed the same entities (listing them when not).

One untimed run of each comes first: it fills the operating system's file cache for both, and
ours assembles its adapter package into the assembled-model cache there, as a user's first run
does once (`GLINER_BIOMED_NO_CACHE=1` in the environment measures assembling at every start).

    python benchmarks/first_entity.py --repeats 5 [--out runs/bench/first_entity.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # model_factory, for build_bench_models
sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_bench_models import DEFAULT_ROOT, build_default  # noqa: E402

from gliner_biomed.atomic_files import atomic_writer  # noqa: E402

TEXT = "Mutations in BRCA1 and exposure to tamoxifen modify the risk of hereditary breast cancer."
LABELS = "disease,chemical,gene or gene product"
REFERENCE_CODE = """
import json, sys
from gliner import GLiNER
model = GLiNER.from_pretrained(sys.argv[1], local_files_only=True)
for entity in model.predict_entities(sys.argv[2], sys.argv[3].split(","), threshold=0.5):
    print(json.dumps({k: entity[k] for k in ("start", "end", "text", "label")}), flush=True)
"""


def timed(command) -> dict:
    """Seconds to the first line of standard output and to exit, and the lines printed.

    The rest of standard output is read through the same buffered reader as the first line:
    ``communicate()`` reads the pipe's descriptor directly and so loses whatever ``readline()``
    had already buffered past the first line (all the entities when a slow, loaded reader finds
    them there together), which is how earlier runs reported different entities. Standard error
    goes to a file, so that no pipe can fill up while standard output is read."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env)
        first_line = process.stdout.readline()
        first = time.perf_counter() - started
        rest = process.stdout.read()
        process.wait()
        total = time.perf_counter() - started
        stderr.seek(0)
        errors = stderr.read()
    if process.returncode != 0 or not first_line:
        raise RuntimeError(f"{command[:4]}... failed (exit {process.returncode}): {errors[-2000:]}")
    lines = [json.loads(line) for line in (first_line + rest).splitlines() if line.strip()]
    return {"first_entity_s": first, "exit_s": total, "entities": [(e["start"], e["end"], e["label"]) for e in lines],
            "stderr_lines": len(errors.strip().splitlines()) if errors.strip() else 0}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="paired runs (ours and reference once each)")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="cache folder of the built models")
    parser.add_argument("--out", type=Path, default=Path("runs/bench/first_entity.json"), help="JSON results")
    args = parser.parse_args(argv)

    ours_dir, reference_dir = build_default(args.root)
    commands = {
        "ours": [sys.executable, "-m", "gliner_biomed.cli", "predict", "--model", str(ours_dir), "--labels", LABELS, TEXT],
        "reference": [sys.executable, "-c", REFERENCE_CODE, str(reference_dir), TEXT, LABELS],
    }
    for name, command in commands.items():
        timed(command)  # untimed warm-up, see the module's docstring
    runs = {name: [] for name in commands}
    for repeat in range(args.repeats):
        order = list(commands) if repeat % 2 == 0 else list(commands)[::-1]
        for name in order:
            runs[name].append(timed(commands[name]))
            print(f"repeat {repeat + 1}/{args.repeats} {name}: first entity {runs[name][-1]['first_entity_s']:.2f} s", file=sys.stderr)
    summary = {
        name: {"median_first_entity_s": statistics.median(r["first_entity_s"] for r in results),
               "median_exit_s": statistics.median(r["exit_s"] for r in results),
               "first_entity_s": [round(r["first_entity_s"], 3) for r in results],
               "stderr_lines": [r["stderr_lines"] for r in results]}
        for name, results in runs.items()
    }
    summary["ratio_ours_over_reference"] = summary["ours"]["median_first_entity_s"] / summary["reference"]["median_first_entity_s"]
    summary["same_entities"] = all(o["entities"] == r["entities"] for o, r in zip(runs["ours"], runs["reference"]))
    summary["entities"] = {name: sorted({tuple(e) for r in results for e in r["entities"]}) for name, results in runs.items()}
    summary["load_average_1_5_15_min"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(args.out) as handle:
        json.dump(summary, handle, indent=1)
    print("| | median to first entity (s) | median to exit (s) | stderr lines |")
    print("| --- | ---: | ---: | --- |")
    for name in commands:
        row = summary[name]
        print(f"| {name} | {row['median_first_entity_s']:.2f} | {row['median_exit_s']:.2f} | {row['stderr_lines']} |")
    print(f"ours / reference: {summary['ratio_ours_over_reference']:.3f}; same entities: {summary['same_entities']}; "
          f"load average {summary['load_average_1_5_15_min']}")
    if not summary["same_entities"]:
        print(f"ours: {summary['entities']['ours']}\nreference: {summary['entities']['reference']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
