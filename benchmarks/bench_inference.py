"""The inference benchmark, end to end: builds (or reuses) the benchmark models
(benchmarks/build_bench_models.py) and runs `gliner-biomed bench` on them.

    python benchmarks/bench_inference.py [--out runs/bench] [--docs-per-corpus 48] [--repeats 1] ...

Any option after the known ones is passed to `gliner-biomed bench` (see its --help).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_bench_models import DEFAULT_ROOT, TRAINED_THRESHOLDS, build_default, build_minilm, build_small  # noqa: E402

from gliner_biomed.cli import main as cli_main  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--models-root", type=Path, default=DEFAULT_ROOT, help="cache folder of the built models")
    parser.add_argument("--models", default="small,default", help="which benchmark models, comma-separated (small, default, minilm)")
    args, rest = parser.parse_known_args(argv)
    builders = {"small": build_small, "minilm": build_minilm, "default": build_default}
    pairs = []
    for name in [name.strip() for name in args.models.split(",") if name.strip()]:
        if name not in builders:
            parser.error(f"--models: unknown model {name!r}; choose from {sorted(builders)}")
        ours, reference = builders[name](args.models_root)
        threshold = f"@{TRAINED_THRESHOLDS[name]}" if name in TRAINED_THRESHOLDS else ""
        pairs += ["--pair", f"{name}={ours}:{reference}{threshold}"]
    return cli_main(["bench", *pairs, *rest])


if __name__ == "__main__":
    sys.exit(main())
