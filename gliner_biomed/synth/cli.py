"""``gliner-biomed synth ...``: annotate texts with an LLM, ground its output, distil it into a
small causal LM, split and merge large runs, replay recorded completions."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import List, Optional

from ..errors import bad_input_from
from ..io_records import InputError
from ..log import get_logger

logger = get_logger(__name__)

_FORMATTER = argparse.ArgumentDefaultsHelpFormatter


def _labels(value: Optional[str]):
    return None if value is None else tuple(label.strip() for label in value.split(",") if label.strip())


def _shard_index(value: str):
    return value if value == "auto" else int(value)


def _add_annotate(subparsers) -> None:
    parser = subparsers.add_parser("annotate", formatter_class=_FORMATTER,
                                   help="annotate texts with an LLM (OpenAI-compatible endpoint or local transformers model) or with text patterns (no LLM)")
    io = parser.add_argument_group("input and output")
    io.add_argument("--input", type=Path, required=True, help="JSONL (one object per text) or Parquet file")
    io.add_argument("--out", type=Path, required=True,
                    help="annotation JSONL, appended to and resumed (with --num-shards > 1: OUT.shard-I-of-N.jsonl)")
    io.add_argument("--text-field", default="text", help="field holding the text")
    io.add_argument("--id-field", default="id", help="field holding the record id (records without it get sha256:<text hash>)")
    io.add_argument("--cache", type=Path, default=None, help="request cache (sqlite); default OUT.cache.sqlite")
    io.add_argument("--limit", type=int, default=None, help="annotate at most this many new texts (trial run)")
    prompt = parser.add_argument_group("prompt")
    prompt.add_argument("--prompt", default="biomed_ner_v1", help="packaged prompt template name, or a template YAML file")
    prompt.add_argument("--labels", type=_labels, default=None, help="comma-separated entity types (default: the template's default_labels)")
    backend = parser.add_argument_group("backend")
    backend.add_argument("--backend", choices=("openai", "transformers", "patterns"), default="openai",
                         help="patterns: open types mined from Hearst patterns, appositions, copulas (no LLM, no prompt, no --model)")
    backend.add_argument("--model", default=None, help="model name at the endpoint (openai) or model/adapter folder (transformers); required by both")
    backend.add_argument("--patterns", type=_labels, default=None,
                         help="patterns: comma-separated pattern names to run (default: all of " + ", ".join(_pattern_names()) + ")")
    backend.add_argument("--withhold-types", choices=("held-out", "unseen-suite", "none"), default="held-out",
                         help="patterns: 'held-out' withholds (and counts) mined types that are held-out phrasings of the type vocabulary "
                              "(or have one as their head word), so that training on the output keeps the unseen-type evaluation unseen; "
                              "'unseen-suite' withholds only the phrases the unseen-types suite reads (Chia's types and the suite's "
                              "paraphrases), so that mined text may teach the vocabulary's other held-out names (cytokine, bacterium, ...)")
    backend.add_argument("--base-url", default=None, help="openai: endpoint base URL, e.g. http://127.0.0.1:8000/v1 or https://api.openai.com/v1")
    backend.add_argument("--api-key-env", default="OPENAI_API_KEY", help="openai: environment variable holding the API key (unset: no auth header)")
    backend.add_argument("--concurrency", type=int, default=8, help="openai: requests in flight")
    backend.add_argument("--timeout", type=float, default=120.0, help="openai: seconds per request")
    backend.add_argument("--max-retries", type=int, default=6, help="openai: retries on 429/5xx/timeouts, with exponential backoff")
    backend.add_argument("--backoff-initial", type=float, default=1.0, help="openai: first backoff in seconds (doubles, with jitter; Retry-After wins)")
    backend.add_argument("--backoff-max", type=float, default=60.0, help="openai: longest backoff in seconds")
    backend.add_argument("--json-mode", action="store_true", help="openai: ask for response_format json_object (if the server supports it)")
    backend.add_argument("--temperature", type=float, default=0.0)
    backend.add_argument("--max-tokens", type=int, default=2048, help="longest answer in tokens")
    backend.add_argument("--batch-size", type=int, default=8, help="transformers: texts per generate() call")
    backend.add_argument("--device", default=None, help="transformers: torch device (default: cuda:LOCAL_RANK if available, else cpu)")
    backend.add_argument("--base-model", type=Path, default=None, help="transformers: base model folder for an adapter folder (default: from adapter_config.json)")
    shards = parser.add_argument_group("sharding (several workers on one input)")
    shards.add_argument("--num-shards", type=int, default=None, help="number of workers splitting the input (default 1, or WORLD_SIZE under a launcher)")
    shards.add_argument("--shard-index", type=_shard_index, default=None, help="this worker's shard, or 'auto' (RANK under accelerate launch / torchrun)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=_run_annotate)


def _make_backend(args):
    if args.backend == "patterns":
        from .patterns import PatternBackend, WithheldTypes

        withheld = WithheldTypes()
        if args.withhold_types == "held-out":
            from ..dataset_builders.type_vocabulary import load_type_vocabulary

            withheld = WithheldTypes(load_type_vocabulary().held_out_phrases())
        elif args.withhold_types == "unseen-suite":
            from ..evaluation.suites import load_suite, phrases_read

            withheld = WithheldTypes(phrases_read(load_suite("unseen-types")))
        return PatternBackend(args.patterns, withheld)
    if not args.model:
        raise InputError(f"--backend {args.backend} needs --model")
    if args.backend == "openai":
        from .client import OpenAIChatBackend, OpenAIConfig

        if not args.base_url:
            raise InputError("--backend openai needs --base-url (e.g. http://127.0.0.1:8000/v1)")
        config = OpenAIConfig(args.base_url, args.model, args.api_key_env, args.timeout, args.max_retries,
                              args.backoff_initial, args.backoff_max, args.temperature, args.max_tokens, args.json_mode)
        return OpenAIChatBackend(config, max_connections=args.concurrency)
    from .local_backend import LocalGenerationConfig, TransformersBackend

    return TransformersBackend(args.model, LocalGenerationConfig(max_new_tokens=args.max_tokens, temperature=args.temperature),
                               device=args.device, base_model=args.base_model)


def _run_annotate(args) -> int:
    from .annotate import AnnotateConfig, annotate
    from ..sharding import resolve_shard, shard_path

    num_shards, shard_index = resolve_shard(args.num_shards, args.shard_index)
    config = AnnotateConfig(
        input=args.input, out=shard_path(args.out, num_shards, shard_index), prompt=args.prompt, labels=args.labels,
        text_field=args.text_field, id_field=args.id_field, cache=args.cache, concurrency=args.concurrency,
        batch_size=args.batch_size, num_shards=num_shards, shard_index=shard_index, limit=args.limit,
        progress=not args.no_progress,
    )
    backend = _make_backend(args)
    started = time.monotonic()
    try:
        stats = annotate(config, backend)
    finally:
        if hasattr(backend, "close"):
            backend.close()
    summary = {"output": str(config.out), **stats.as_dict(), "failed": len(stats.failed), "seconds": round(time.monotonic() - started, 1)}
    if hasattr(backend, "stats"):
        summary["http_requests"] = dict(backend.stats.outcomes)
    if args.backend == "patterns":
        summary["patterns"] = _report_patterns(config.out, backend.patterns)
    print(json.dumps(summary))
    if stats.failed:
        logger.warning(f"synth annotate: {len(stats.failed)} texts failed (see above); run the same command again to retry them")
        return 1
    return 0


def _pattern_names():
    from .patterns import PATTERNS

    return list(PATTERNS)


def _report_patterns(out: Path, patterns) -> dict:
    """Per-pattern counts over the whole output (resumed runs included); a pattern that matched
    nothing gets a line of its own on stderr."""
    from ..io_records import iter_jsonl
    from .patterns import pattern_report

    texts = 0

    def responses():
        nonlocal texts
        for record in iter_jsonl(out, {"response": str}):
            texts += 1
            yield record["response"]

    report = pattern_report(responses(), patterns)
    for name, counts in report.items():
        if counts["entities"] + counts["withheld"] == 0:
            logger.warning(f"synth annotate: pattern {name!r} matched nothing in the {texts} texts of {out}")
    return report


def _add_ground(subparsers) -> None:
    from .grounding import OCCURRENCE_POLICIES, UNALIGNED_POLICIES
    from .ground import TRUNCATED_POLICIES

    parser = subparsers.add_parser("ground", formatter_class=_FORMATTER,
                                   help="parse LLM annotations, ground mentions in the text, write GLiNER examples + report")
    parser.add_argument("--annotations", type=Path, required=True, help="output of `synth annotate` (merged if sharded)")
    parser.add_argument("--out", type=Path, required=True, help="grounded span JSONL (the dataset builder's synthetic source)")
    parser.add_argument("--report", type=Path, default=None, help="report JSON (default OUT.report.json)")
    parser.add_argument("--occurrences", choices=OCCURRENCE_POLICIES, default="all",
                        help="mentions without offsets: ground all their occurrences, or the first")
    parser.add_argument("--unaligned", choices=UNALIGNED_POLICIES, default="drop",
                        help="entities with a boundary inside a word: drop them, or snap to whole words (counted either way)")
    parser.add_argument("--exact-only", action="store_true", help="no case/whitespace/dash-insensitive fallback match")
    parser.add_argument("--synonyms", type=Path, default=None, help="label synonyms YAML (default: packaged label_synonyms.yaml)")
    parser.add_argument("--open-labels", action="store_true", help="keep labels the prompt did not ask for (default: drop and count)")
    parser.add_argument("--truncated", choices=TRUNCATED_POLICIES, default="keep",
                        help="texts whose answer hit max_tokens: keep their complete mentions, or drop the text")
    parser.add_argument("--drop-empty", action="store_true",
                        help="leave out (and count) texts with no grounded entity; for --backend patterns, where no match means 'not found', not 'no entity'")
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=_run_ground)


def _run_ground(args) -> int:
    from .ground import GroundConfig, ground_file
    from .grounding import GroundingConfig

    config = GroundConfig(args.annotations, args.out, args.report,
                          GroundingConfig(args.occurrences, args.unaligned, not args.exact_only),
                          args.synonyms, args.open_labels, args.truncated, args.drop_empty, not args.no_progress)
    report = ground_file(config)
    print(json.dumps({key: report[key] for key in ("texts", "grounded_share", "label_distribution")}))
    print(f"report: {config.report_path()}")
    return 0


def _add_distil(subparsers) -> None:
    from .distil import DistilConfig

    defaults = DistilConfig(annotations=Path("-"), student=Path("-"), out=Path("-"))
    parser = subparsers.add_parser("distil", formatter_class=_FORMATTER,
                                   help="LoRA-fine-tune a small causal LM on the teacher's (text -> JSON) pairs")
    parser.add_argument("--annotations", type=Path, required=True, help="`synth annotate` output (grounded on the fly) or `synth ground` output")
    parser.add_argument("--student", type=Path, required=True, help="folder of the small causal LM to fine-tune (config, weights, tokenizer)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the adapter + tokenizer (use as `annotate --backend transformers --model OUT`)")
    parser.add_argument("--prompt", default=defaults.prompt, help="prompt template (the student is trained and later prompted with it)")
    parser.add_argument("--max-steps", type=int, default=defaults.max_steps, help="optimizer steps (-1: use --epochs)")
    parser.add_argument("--epochs", type=float, default=defaults.epochs)
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--gradient-accumulation", type=int, default=defaults.gradient_accumulation)
    parser.add_argument("--max-length", type=int, default=defaults.max_length, help="tokens per example (prompt + answer); longer examples are skipped and counted")
    parser.add_argument("--lora-r", type=int, default=defaults.lora_r)
    parser.add_argument("--lora-alpha", type=int, default=defaults.lora_alpha)
    parser.add_argument("--lora-dropout", type=float, default=defaults.lora_dropout)
    parser.add_argument("--target-modules", type=_labels, default=None, help="comma-separated module names for LoRA (default: peft's choice for the architecture)")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.set_defaults(func=_run_distil)


def _run_distil(args) -> int:
    from .distil import DistilConfig, distil

    config = DistilConfig(
        annotations=args.annotations, student=args.student, out=args.out, prompt=args.prompt, max_steps=args.max_steps,
        epochs=args.epochs, learning_rate=args.learning_rate, batch_size=args.batch_size,
        gradient_accumulation=args.gradient_accumulation, max_length=args.max_length, lora_r=args.lora_r,
        lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout, target_modules=args.target_modules, seed=args.seed,
    )
    print(json.dumps(distil(config)))
    return 0


def _add_merge(subparsers) -> None:
    parser = subparsers.add_parser("merge", formatter_class=_FORMATTER, help="merge shard outputs into one file without duplicates")
    parser.add_argument("--inputs", type=Path, nargs="*", default=[], help="files to merge, in order")
    parser.add_argument("--shards-of", type=Path, default=None, help="merge all OUT.shard-*-of-*.jsonl files of this OUT path")
    parser.add_argument("--out", type=Path, required=True, help="merged JSONL (written atomically)")
    parser.add_argument("--allow-missing-shards", action="store_true", help="merge an incomplete set of shard files")
    parser.set_defaults(func=_run_merge)


def _run_merge(args) -> int:
    from ..sharding import list_shard_files, merge_outputs

    inputs: List[Path] = list(args.inputs) + (list_shard_files(args.shards_of) if args.shards_of else [])
    if not inputs:
        raise InputError("nothing to merge: pass --inputs FILES or --shards-of OUT")
    print(json.dumps(dict(merge_outputs(inputs, args.out, check_shards=not args.allow_missing_shards))))
    return 0


def _add_replay(subparsers) -> None:
    parser = subparsers.add_parser("replay-server", formatter_class=_FORMATTER,
                                   help="serve recorded completions as an OpenAI-compatible endpoint (dry runs without an LLM)")
    parser.add_argument("--recordings", type=Path, required=True, help="recordings JSONL (see gliner_biomed.synth.replay_server)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.set_defaults(func=_run_replay)


def _run_replay(args) -> int:
    from .replay_server import ReplayServer, load_recordings

    server = ReplayServer(load_recordings(args.recordings), args.host, args.port).start()
    print(f"serving {args.recordings} at {server.base_url} (Ctrl-C stops)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


def _add_corpus_texts(subparsers) -> None:
    parser = subparsers.add_parser("corpus-texts", formatter_class=_FORMATTER,
                                   help="write the documents of annotated corpora as `synth annotate` input (ids corpus:split:document)")
    parser.add_argument("--corpora", nargs="+", required=True,
                        help="corpus names, or NAME:SPLIT (default split: train; test splits are refused)")
    parser.add_argument("--out", type=Path, required=True, help="texts JSONL (written atomically)")
    parser.add_argument("--corpora-dir", type=Path, default=None, help="default: $GLINER_BIOMED_CORPORA or ../shared/corpora")
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=_run_corpus_texts)


def _run_corpus_texts(args) -> int:
    from .corpus_texts import write_corpus_texts

    print(json.dumps({"output": str(args.out), "texts": write_corpus_texts(args.corpora, args.out, args.corpora_dir, not args.no_progress)}))
    return 0


def _add_propagate(subparsers) -> None:
    from .propagate import PropagateConfig

    defaults = PropagateConfig(Path("mined"), Path("texts"), Path("out"))
    parser = subparsers.add_parser("propagate", formatter_class=_FORMATTER,
                                   help="type a mined name wherever else it occurs in the mined texts, when the type vocabulary says its mined types agree")
    parser.add_argument("--mined", type=Path, required=True, help="`synth ground` output of `synth annotate --backend patterns`")
    parser.add_argument("--texts", type=Path, required=True, help="the texts it was mined from (`synth corpus-texts` output)")
    parser.add_argument("--out", type=Path, required=True, help="propagated corpus, `synth ground` format (the dataset builder's synthetic source)")
    parser.add_argument("--report", type=Path, default=None, help="report JSON (default OUT.report.json)")
    parser.add_argument("--vocabulary", type=Path, default=None, help="type vocabulary YAML (default: the packaged one)")
    parser.add_argument("--min-agreement", type=float, default=defaults.min_agreement,
                        help="share of a name's resolved mined labels that must fall in one vocabulary group")
    parser.add_argument("--min-name-length", type=int, default=defaults.min_name_length, help="shortest name propagated, in characters")
    parser.add_argument("--lowercase-names", action="store_true",
                        help="also propagate names without a capital letter or a digit (mostly mining errors: 'two', 'activity')")
    parser.add_argument("--max-per-name", type=int, default=defaults.max_per_name,
                        help="propagated occurrences per name (the first ones in file order)")
    parser.add_argument("--extend", action="append", default=[], metavar="GROUP=WORD[,WORD...]",
                        help="a mention of this vocabulary group followed by one of the words is also typed with it "
                             "(repeatable; e.g. 'cell line=cells,cell': HeLa and HeLa cells are both cell lines)")
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=_run_propagate)


def _run_propagate(args) -> int:
    from .propagate import PropagateConfig, parse_extend, propagate_file

    config = PropagateConfig(args.mined, args.texts, args.out, args.report, args.vocabulary, args.min_agreement,
                             args.min_name_length, args.lowercase_names, args.max_per_name,
                             extend=tuple(parse_extend(value) for value in args.extend), progress=not args.no_progress)
    report = propagate_file(config)
    print(json.dumps({key: report[key] for key in ("counts", "propagated_by_group")}))
    print(f"report: {config.report_path()}")
    return 0


def _guarded(handler):
    def run(args) -> int:
        with bad_input_from(ValueError):
            return handler(args)
    return run


def register(subparsers) -> None:
    parser = subparsers.add_parser("synth", formatter_class=_FORMATTER,
                                   help="synthetic NER data: LLM annotation, grounding, distillation, sharding")
    commands = parser.add_subparsers(dest="synth_command", metavar="SYNTH_COMMAND", required=True)
    for add in (_add_annotate, _add_ground, _add_propagate, _add_distil, _add_merge, _add_replay, _add_corpus_texts):
        add(commands)
    for command in commands.choices.values():
        command.set_defaults(func=_guarded(command.get_default("func")))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gliner-biomed", formatter_class=_FORMATTER)
    register(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """``python -m gliner_biomed.synth.cli`` without loading the other command groups (errors
    reported as by ``gliner-biomed``)."""
    from ..cli import main as cli_main

    return cli_main(argv, build=_parser)


if __name__ == "__main__":
    sys.exit(main())
