"""`gliner-biomed publish` (stage, validate, upload a model, dataset, metric or Space repo) and
`gliner-biomed space` (the demo Space, locally)."""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

from ..errors import BadInputError, bad_input_from
from ..log import get_logger
from .staging import SPACE_NAME, default_space_dir
from .upload import TOKEN_OPTION_HELP

_FORMATTER = argparse.ArgumentDefaultsHelpFormatter

logger = get_logger(__name__)


def register(subparsers) -> None:
    publish = subparsers.add_parser(
        "publish",
        help="stage, validate and upload a model, dataset, metric or Space repo to the Hugging Face Hub",
        formatter_class=_FORMATTER,
        description="Stages the exact folder that would be uploaded, validates it offline in a fresh interpreter "
        "(model: AutoModel + trust_remote_code; dataset: load_dataset; metric: evaluate.load; Space: the app builds its "
        "Blocks), then uploads it with create_repo + upload_folder. --dry-run stops after validation.",
    )
    what = publish.add_mutually_exclusive_group(required=True)
    what.add_argument("--model", metavar="DIR", help="model folder (convert/trainer output, or an adapter package: merged)")
    what.add_argument("--dataset", metavar="DIR", help="dataset repo folder written by `gliner-biomed datasets build`")
    what.add_argument("--metric", metavar="DIR", nargs="?", const="", help="evaluate module folder (default: the span_ner metric)")
    what.add_argument("--space", metavar="DIR", nargs="?", const="", help=f"Space folder (default: spaces/{SPACE_NAME})")
    publish.add_argument("--repo", required=True, help="target repo id, org/name")
    publish.add_argument("--dry-run", action="store_true", help="stop after validation and list the staged files")
    publish.add_argument("--stage-dir", type=Path, default=None, help="where to stage (must not exist or be empty; default: a new temporary folder, kept)")
    publish.add_argument("--token", default=None, help=TOKEN_OPTION_HELP)
    publish.add_argument("--private", action="store_true", help="create the repo as private")
    publish.add_argument("--commit-message", default=None, help="commit message (default: 'Upload KIND with gliner-biomed publish')")
    card = publish.add_argument_group("model card (--model)")
    card.add_argument("--results", action="append", default=[], metavar="JSON", help="results.json of `gliner-biomed evaluate` (repeatable)")
    card.add_argument("--few-shot-curve", default=None, metavar="DIR", help="output folder of `gliner-biomed few-shot-curve`")
    card.add_argument("--license", default="apache-2.0", help="license of the model repo")
    card.add_argument("--base-encoder", default=None, help="Hub id of the base encoder, if the config only records a local path")
    card.add_argument("--title", default=None, help="card title (default: the repo name)")
    space = publish.add_argument_group("Space (--space) and card metadata")
    space.add_argument("--model-repo", action="append", default=[], metavar="[NAME=]ORG/MODEL",
                       help="model repo the Space offers (repeatable; the first is preselected)")
    space.add_argument("--dataset-repo", action="append", default=[], metavar="ORG/DATASET",
                       help="dataset repo to list in the card metadata (repeatable)")
    publish.set_defaults(func=run_publish)

    demo = subparsers.add_parser("space", help="run the demo Space locally (offline)", formatter_class=_FORMATTER)
    demo.add_argument("--model", action="append", default=[], help="model folder or Hub repo id (repeatable; default: the embedded default model)")
    demo.add_argument("--host", default=None, help="address to listen on; default: $GRADIO_SERVER_NAME, else 127.0.0.1")
    demo.add_argument("--port", type=int, default=None, help="port; default: $GRADIO_SERVER_PORT, else 7860")
    demo.add_argument("--max-characters", type=int, default=100_000, help="longest text accepted")
    demo.set_defaults(func=run_space)


def parse_model_repos(values: List[str]) -> Dict[str, str]:
    repos = {}
    for value in values:
        name, _, repo_id = value.rpartition("=")
        repos[name or repo_id] = repo_id
    return repos


def _stage(args: argparse.Namespace, out: Path):
    from . import staging
    from .model_card import ModelCardOptions

    if args.model is not None:
        options = ModelCardOptions(repo_id=args.repo, results=tuple(args.results), few_shot_curve=args.few_shot_curve,
                                   license=args.license, base_encoder=args.base_encoder, title=args.title,
                                   datasets=tuple(args.dataset_repo))
        return staging.stage_model(args.model, out, options)
    if args.dataset is not None:
        return staging.stage_dataset(args.dataset, out)
    if args.metric is not None:
        return staging.stage_metric(args.metric or None, out)
    return staging.stage_space(args.space or None, out, parse_model_repos(args.model_repo), args.dataset_repo)


def run_publish(args: argparse.Namespace) -> int:
    from .upload import upload_staged, warn_if_token_option

    if args.model is None and (args.results or args.few_shot_curve):
        raise BadInputError("--results and --few-shot-curve go with --model")
    warn_if_token_option(args.token)
    out = args.stage_dir or Path(tempfile.mkdtemp(prefix="gliner_biomed_publish_")) / args.repo.replace("/", "__")
    with bad_input_from(ValueError):
        staged = _stage(args, out)
        for note in staged.notes:
            logger.warning(f"note: {note}")
        logger.info(f"staged {staged.kind.name} repo {args.repo} in {staged.folder}")
        from .validation import validate

        summary = validate(staged)
        logger.info(f"validated: {summary}")
        if args.dry_run:
            print(f"dry run: would upload {len(staged.files())} files to {staged.kind.repo_type} repo {args.repo}:")
            for path in staged.files():
                print(f"  {path}")
            return 0
        url = upload_staged(staged, args.repo, token=args.token, private=args.private, commit_message=args.commit_message)
        print(f"uploaded {len(staged.files())} files to {args.repo}: {url}")
        return 0


def load_space_app(folder: Path = None):
    """The Space's app.py as a module (it is a file of the Space repo, not a package module)."""
    path = Path(folder or default_space_dir()) / "app.py"
    if not path.is_file():
        raise FileNotFoundError(f"Space app not found: {path}")
    spec = importlib.util.spec_from_file_location("gliner_biomed_space_app", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def run_space(args: argparse.Namespace) -> int:
    app = load_space_app()
    argv = [item for model in args.model for item in ("--model", model)]
    # Host and port only when given: otherwise gradio reads GRADIO_SERVER_NAME / GRADIO_SERVER_PORT.
    argv += [item for flag, value in (("--host", args.host), ("--port", args.port)) if value is not None for item in (flag, str(value))]
    argv += ["--max-characters", str(args.max_characters)]
    return app.main(argv)
