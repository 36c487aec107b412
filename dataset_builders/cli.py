"""`gliner-biomed datasets ...`: list, stats, build and push the corpora."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import List

from ..errors import bad_input_from
from ..publishing.upload import TOKEN_OPTION_HELP
from .corpora import CORPORA, list_corpora
from .pipeline import SYNTHETIC, BuildOptions, CorpusBuild, build_corpus

_FORMATTER = argparse.ArgumentDefaultsHelpFormatter


def _add_build_options(parser: argparse.ArgumentParser) -> None:
    defaults = BuildOptions()
    parser.add_argument("--level", choices=("document", "sentence"), default=defaults.level, help="example granularity")
    parser.add_argument("--lenient", action="store_true", help="skip malformed records (counted in the report) instead of failing")
    parser.add_argument("--no-repair-offsets", dest="repair_offsets", action="store_false",
                        help="fail on mentions that do not match their text (by default they are re-aligned and each repair is logged)")
    parser.add_argument("--heldout-validation", type=float, default=defaults.heldout_validation,
                        help="for corpora without a published validation split: fraction of train held out (seeded)")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seed of the held-out validation slice")
    parser.add_argument("--corpora-dir", default=None,
                        help="corpora folder (default: the first of $GLINER_BIOMED_CORPORA, ../shared/corpora, the download cache that holds the corpus)")
    parser.add_argument("--source", dest="synthetic_source", default=None,
                        help="synthetic corpus only: span JSONL file, or folder with train/validation/test.jsonl")
    parser.add_argument("--label-map", default=None, help="YAML/JSON file merged over the corpus label map (null leaves a type out)")


def _options(args: argparse.Namespace, level: str = None) -> BuildOptions:
    return BuildOptions(
        level=level or args.level, lenient=args.lenient, repair_offsets=args.repair_offsets,
        heldout_validation=args.heldout_validation, seed=args.seed, corpora_dir=args.corpora_dir,
        synthetic_source=args.synthetic_source,
    )


def corpora_table(builds: List[CorpusBuild]) -> str:
    """Markdown table: corpus, documents and mentions per split, label -> count."""
    lines = [
        "| corpus | train docs / mentions | validation docs / mentions | test docs / mentions | types -> labels |",
        "| --- | --- | --- | --- | --- |",
    ]
    for build in builds:
        cells = []
        for split in ("train", "validation", "test"):
            data = build.splits.get(split)
            cells.append(f"{data.stats.documents} / {sum(data.stats.mentions_by_label.values())}" if data else "—")
        types = {}
        for data in build.splits.values():
            for source_type, count in data.stats.mentions_by_type.items():
                types[source_type] = types.get(source_type, 0) + count
        mapping = ", ".join(
            f"{t} -> {build.label_map.get(t) or '(left out)'} ({count})" for t, count in sorted(types.items(), key=lambda item: -item[1])
        )
        lines.append(f"| `{build.name}` | " + " | ".join(cells) + f" | {mapping} |")
    return "\n".join(lines)


def _run_list(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    builds = [build_corpus(name, _options(args)) for name in tqdm(list_corpora(), desc="reading corpora", file=sys.stderr)]
    print(corpora_table(builds))
    return 0


def _run_stats(args: argparse.Namespace) -> int:
    build = build_corpus(args.name, _options(args), args.label_map)
    report = build.report(examples_per_kind=args.examples)
    if args.report:
        path = Path(args.report)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
        temporary.replace(path)
    if args.json:
        print(json.dumps(report, indent=1, ensure_ascii=False))
        return 0
    print(f"{args.name} ({args.level} level)")
    for split, data in build.splits.items():
        stats = data.stats.to_dict()
        print(f"  {split}: {stats['documents']} documents, {stats['examples']} examples, {stats['mentions']} mentions, {stats['ner_spans']} ner spans")
        for label, count in stats["mentions_by_label"].items():
            print(f"    {label}: {count}")
        for kind, count in sorted(data.log.counts().items()):
            print(f"    [issue] {kind}: {count}")
    return 0


def _run_build(args: argparse.Namespace) -> int:
    from .hub import ExportConfig, export_dataset_repo

    levels = tuple(level.strip() for level in args.levels.split(",") if level.strip())
    export = ExportConfig(levels=levels, max_shard_bytes=args.max_shard_mb * 1024 * 1024, overwrite=args.overwrite)
    label_map = None
    if args.label_map:
        from .pipeline import load_label_map_file

        label_map = load_label_map_file(args.label_map)
    out = export_dataset_repo(args.name, args.out, _options(args, levels[0]), export, label_map)
    print(f"wrote {out} (load with datasets.load_dataset({str(out)!r}))")
    return 0


def _run_download(args: argparse.Namespace) -> int:
    from .download import DownloadConfig, DownloadError, download, download_names
    from .sources import download_cache_dir

    cache = Path(args.cache) if args.cache else download_cache_dir()
    config = DownloadConfig(timeout_s=args.timeout, progress=not args.quiet)
    try:
        for name in download_names(args.name):
            download(name, cache, config, announce=print)
    except DownloadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _run_push(args: argparse.Namespace) -> int:
    # The upload of `gliner-biomed publish --dataset`, on the built folder in place: no staging
    # copy and no offline load_dataset check (publish does both; use it for that).
    from ..publishing.staging import built_dataset, check_uploadable_in_place
    from ..publishing.upload import upload_staged, warn_if_token_option

    warn_if_token_option(args.token)
    url = upload_staged(check_uploadable_in_place(built_dataset(args.folder)), args.repo, token=args.token, private=args.private,
                        commit_message="Upload dataset built by gliner-biomed")
    print(f"uploaded {args.folder} to {args.repo}: {url}")
    return 0


def _guarded(handler):
    """Bad input ends with one clear line (file, line, what is wrong) and exit code 2."""

    def run(args: argparse.Namespace) -> int:
        with bad_input_from(KeyError, ValueError):
            return handler(args)

    return run


def register(subparsers) -> None:
    group = subparsers.add_parser("datasets", help="build, inspect and publish the NER corpora", formatter_class=_FORMATTER)
    commands = group.add_subparsers(dest="datasets_command", metavar="DATASETS_COMMAND", required=True)
    names = list(CORPORA) + [SYNTHETIC]

    listing = commands.add_parser("list", help="the corpora with documents/mentions per split and their types", formatter_class=_FORMATTER)
    _add_build_options(listing)
    listing.set_defaults(func=_guarded(_run_list))

    stats = commands.add_parser("stats", help="counts and validation report of one corpus", formatter_class=_FORMATTER)
    stats.add_argument("name", choices=names)
    _add_build_options(stats)
    stats.add_argument("--json", action="store_true", help="print the full validation report as JSON")
    stats.add_argument("--report", default=None, help="also write the JSON report to this file")
    stats.add_argument("--examples", type=int, default=20, help="issues listed per kind in the JSON report")
    stats.set_defaults(func=_guarded(_run_stats))

    build = commands.add_parser("build", help="write a Hub-ready dataset repo folder (Parquet + card)", formatter_class=_FORMATTER)
    build.add_argument("name", choices=names)
    build.add_argument("--out", required=True, help="output folder (written atomically)")
    build.add_argument("--levels", default="document", help="comma-separated configs to write; the first is the default")
    build.add_argument("--max-shard-mb", type=int, default=256, help="approximate Arrow size per Parquet shard")
    build.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    _add_build_options(build)
    build.set_defaults(func=_guarded(_run_build))

    from .download import DownloadConfig
    from .sources import DOWNLOADS

    fetch = commands.add_parser("download", help="fetch a corpus's raw files from upstream into the cache (checksums verified)",
                                formatter_class=_FORMATTER)
    fetch.add_argument("name", choices=list(DOWNLOADS) + ["all"])
    fetch.add_argument("--cache", default=None, help="target folder (default: $GLINER_BIOMED_CORPORA, else $HF_HOME/gliner-biomed/corpora)")
    fetch.add_argument("--timeout", type=float, default=DownloadConfig().timeout_s, help="seconds a network read may stall")
    fetch.add_argument("--quiet", action="store_true", help="no progress bars")
    fetch.set_defaults(func=_guarded(_run_download))

    push = commands.add_parser("push", help="upload a built folder to the Hugging Face Hub",
                                  description="Uploads the folder in place with the upload of `gliner-biomed publish --dataset` "
                                  "(which also stages a copy and loads it back offline first).", formatter_class=_FORMATTER)
    push.add_argument("folder")
    push.add_argument("--repo", required=True, help="org/name of the dataset repo")
    push.add_argument("--token", default=None, help=TOKEN_OPTION_HELP)
    push.add_argument("--private", action="store_true", help="create the repo as private")
    push.set_defaults(func=_guarded(_run_push))
