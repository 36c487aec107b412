"""Where the encoder's time goes, operator by operator (torch.profiler), on one realistic
batch: the second-longest group of ``--batch-size`` BC5CDR test abstracts that fit one pass
(sorted by length, as our batching does) with ``--labels`` label prompts. On the
gliner-biomed-small-shaped model (DeBERTa) it compares transformers' attention module with our
per-text attention; on the default model (MiniLM, BERT with SDPA) there is one path.

    python benchmarks/encoder_profile.py [--model small] [--labels 15] [--batch-size 16] [--rows 8]

Prints, for each attention, the seconds of one forward pass (fastest of --repeats), the top
operators by self CPU time, and whether both give the same states bit for bit.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from build_bench_models import DEFAULT_ROOT, build_default, build_small  # noqa: E402

from gliner_biomed.bench.cli import DEFAULT_CORPORA_DIR  # noqa: E402
from gliner_biomed.bench.runner import BENCH_LABELS, BenchConfig, fits_in_one_reference_pass, load_documents  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model", choices=("small", "default"), default="small")
    parser.add_argument("--labels", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--rows", type=int, default=8, help="operators shown per table")
    parser.add_argument("--models-root", type=Path, default=DEFAULT_ROOT)
    args = parser.parse_args(argv)

    from torch.profiler import ProfilerActivity, profile

    from gliner_biomed.models import load_model

    ours_dir, _ = {"small": build_small, "default": build_default}[args.model](args.models_root)
    model = load_model(str(ours_dir))
    processor = model.processor
    labels = BENCH_LABELS[: args.labels]
    texts = load_documents(BenchConfig(corpora_dir=DEFAULT_CORPORA_DIR, out_dir=Path(".")))["bc5cdr"]
    texts = [text for text in texts if fits_in_one_reference_pass(model, text, labels)]
    words = sorted(([word for word, _, _ in processor.split_words(text)] for text in texts), key=len, reverse=True)
    batch = words[args.batch_size : 2 * args.batch_size]
    inputs = processor.encode_texts(batch, [labels] * len(batch))
    encoder_inputs = {"input_ids": inputs["input_ids"], "attention_mask": inputs["attention_mask"]}
    print(f"{args.model} encoder, batch {len(batch)} x {inputs['input_ids'].shape[1]} sub-tokens ({args.labels} label prompts), "
          f"{torch.get_num_threads()} threads\n")  # fmt: skip

    states = {}
    paths = (("transformers' attention", False), ("per-text attention", True))
    if args.model == "default":
        paths = (("BERT attention (SDPA)", False),)
    for name, per_text in paths:
        model.set_per_text_attention(per_text)
        with torch.inference_mode():
            seconds = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                states[name] = model.text_encoder(**encoder_inputs).last_hidden_state
                seconds.append(time.perf_counter() - started)
            with profile(activities=[ProfilerActivity.CPU]) as profiled:
                model.text_encoder(**encoder_inputs)
        events = sorted(profiled.key_averages(), key=lambda event: event.self_cpu_time_total, reverse=True)
        total = sum(event.self_cpu_time_total for event in events)
        print(f"**{name}**: {min(seconds):.2f} s per forward pass\n")
        print("| operator | calls | self seconds | share |")
        print("|---|---:|---:|---:|")
        for event in events[: args.rows]:
            share = event.self_cpu_time_total / total
            print(f"| {event.key} | {event.count} | {event.self_cpu_time_total / 1e6:.3f} | {share:.0%} |")
        print()
    if len(states) == 2:
        first, second = states.values()
        print(f"states bit-identical: {'yes' if torch.equal(first, second) else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
