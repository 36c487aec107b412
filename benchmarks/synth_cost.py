"""Requests and tokens per 1,000 abstracts for `synth annotate`, measured by running the real
annotation client against the replay server of recorded completions.

    python benchmarks/synth_cost.py [--recordings tests/data/synth/recorded_completions.jsonl] [--json out.json]

Requests are the HTTP attempts the client sent (retries included, with the recordings' mix of
429/5xx/broken answers); tokens are the ``usage`` fields of the completions that came back (what
an endpoint bills). A second run over the same texts measures the request cache (it should send
nothing). See tests/data/synth/make_recordings.py for how the recordings were made.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from gliner_biomed.synth.annotate import AnnotateConfig, annotate
from gliner_biomed.synth.client import OpenAIChatBackend, OpenAIConfig
from gliner_biomed.synth.replay_server import ReplayServer, load_recordings

DEFAULT_RECORDINGS = Path(__file__).resolve().parents[1] / "tests" / "data" / "synth" / "recorded_completions.jsonl"


def _percentile(values, share):
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


def measure(recordings_path: Path, concurrency: int = 8) -> dict:
    recordings = load_recordings(recordings_path)
    with tempfile.TemporaryDirectory() as folder, ReplayServer(recordings) as server:
        texts = Path(folder) / "texts.jsonl"
        texts.write_text("".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n" for r in recordings), encoding="utf-8")
        out = Path(folder) / "ann.jsonl"
        config = AnnotateConfig(texts, out, concurrency=concurrency, progress=False)
        # production retry policy, with backoff shrunk to milliseconds (the replay server has no rate limit to respect)
        backend = OpenAIChatBackend(OpenAIConfig(server.base_url, "teacher", backoff_initial_s=0.001, backoff_max_s=0.01),
                                    max_connections=concurrency)
        stats = annotate(config, backend)
        if stats.failed:
            raise RuntimeError(f"recorded run failed for {stats.failed}")
        records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        first_run_requests = backend.stats.sent
        outcomes = dict(backend.stats.outcomes)
        rerun_backend = OpenAIChatBackend(OpenAIConfig(server.base_url, "teacher"))
        out.unlink()
        rerun = annotate(config, rerun_backend)
    n = len(records)
    prompt = [r["usage"]["prompt_tokens"] for r in records]
    completion = [r["usage"]["completion_tokens"] for r in records]
    per_thousand = 1000 / n
    return {
        "recordings": str(recordings_path),
        "abstracts": n,
        "mean_abstract_chars": round(statistics.mean(len(r["text"]) for r in records)),
        "requests_per_1000": round(first_run_requests * per_thousand),
        "requests_per_1000_without_failures": 1000,
        "http_outcomes": outcomes,
        "prompt_tokens_per_1000": round(sum(prompt) * per_thousand),
        "completion_tokens_per_1000": round(sum(completion) * per_thousand),
        "total_tokens_per_1000": round((sum(prompt) + sum(completion)) * per_thousand),
        "prompt_tokens_per_abstract": {"mean": round(statistics.mean(prompt)), "median": statistics.median(prompt), "p95": _percentile(prompt, 0.95)},
        "completion_tokens_per_abstract": {"mean": round(statistics.mean(completion)), "median": statistics.median(completion), "p95": _percentile(completion, 0.95)},
        "truncated_answers": sum(r["finish_reason"] == "length" for r in records),
        "rerun_requests": rerun_backend.stats.sent,
        "rerun_from_cache": rerun.from_cache,
    }


def markdown(result: dict) -> str:
    p, c = result["prompt_tokens_per_abstract"], result["completion_tokens_per_abstract"]
    return "\n".join([
        "| per 1,000 abstracts | value |",
        "| --- | --- |",
        f"| requests (no failures) | {result['requests_per_1000_without_failures']:,} |",
        f"| requests (recorded 429/5xx mix, retries included) | {result['requests_per_1000']:,} |",
        f"| prompt tokens | {result['prompt_tokens_per_1000']:,} |",
        f"| completion tokens | {result['completion_tokens_per_1000']:,} |",
        f"| total tokens | {result['total_tokens_per_1000']:,} |",
        f"| re-run of the same texts (request cache) | {result['rerun_requests']} requests |",
        "",
        f"Per abstract: prompt tokens mean {p['mean']} (median {p['median']}, p95 {p['p95']}), completion tokens mean "
        f"{c['mean']} (median {c['median']}, p95 {c['p95']}); {result['abstracts']} abstracts of {result['mean_abstract_chars']} characters on average.",
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recordings", type=Path, default=DEFAULT_RECORDINGS)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()
    result = measure(args.recordings, args.concurrency)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    print()
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
