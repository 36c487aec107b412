"""Staging: the exact folder that would be uploaded, per repo kind.

Each `stage_*` writes a fresh folder (assembled under a temporary name, renamed at the end) that
holds exactly the files of the Hub repo: what `--dry-run` lists and what `upload_folder` sends.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ..atomic_files import atomic_folder
from ..errors import BadInputError
from ..trainers.adapter_format import is_adapter_package
from .local_state import find_local_state, scrub_model_folder
from .model_card import ModelCardOptions, render_model_card

SPACE_NAME = "gliner-biomed"
# Never part of a repo, and not worth a word: caches and editor/OS debris.
IGNORED_NAMES = {"__pycache__", ".cache", ".git", ".DS_Store", ".ipynb_checkpoints", "screenshot.png"}
IGNORED_SUFFIXES = (".pyc", ".tmp")

# What each repo kind is made of (shell patterns on the path inside the source folder; "*" also
# crosses "/"). Anything else is left out and named in the notes: a source folder is often a
# working folder with more in it than the repo should show.
ALLOWED_FILES = {
    "model": ("*.json", "*.safetensors", "*.py", "*.model", "*.txt", "*.md"),
    "dataset": ("*.md", "*.parquet", "*.json", "*.yaml"),
    "metric": ("*.py", "*.md", "*.txt"),
    "space": ("*.py", "*.md", "*.txt", "*.json", "*.yaml", "*.css", "*.png", "*.jpg", "*.svg"),
}
# Secrets are refused even where a pattern above would take them (a credentials.json is JSON too).
SECRET_NAMES = ("id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "*.pem", "*.key", "*.p12", "*.pfx", "*.keystore",
                "*.jks", "token", "token.json", "*.token", "hf_token*", "*credentials*", "*secret*", "*.netrc", "*.pgpass", "*.htpasswd")


class StagingError(BadInputError):
    """The source folder is not what the repo kind needs (names the folder and the file)."""


@dataclass(frozen=True)
class RepoKind:
    name: str  # model | dataset | metric | space
    repo_type: str  # the Hub's repo type
    space_sdk: Optional[str] = None


REPO_KINDS = {
    "model": RepoKind("model", "model"),
    "dataset": RepoKind("dataset", "dataset"),
    # evaluate metrics live on the Hub as Spaces (tagged "evaluate", "metric").
    "metric": RepoKind("metric", "space", space_sdk="gradio"),
    "space": RepoKind("space", "space", space_sdk="gradio"),
}


@dataclass
class StagedRepo:
    kind: RepoKind
    folder: Path
    source: Path
    notes: List[str] = field(default_factory=list)

    def files(self) -> List[str]:
        return sorted(str(path.relative_to(self.folder)) for path in self.folder.rglob("*") if path.is_file())


def default_metric_dir() -> Path:
    return Path(str(resources.files("gliner_biomed.metrics") / "span_ner"))


def default_space_dir() -> Path:
    return Path(str(resources.files("gliner_biomed.spaces") / SPACE_NAME))


def select_files(source: Path, kind: str) -> Tuple[List[str], List[str]]:
    """(files to stage, refusals) for ``source`` as a ``kind`` repo: paths relative to it. Never
    staged, each named in a refusal: dotfiles and dot-folders (``.env``, ``.huggingface/token``),
    secret-looking names (keys, tokens, credentials), anything reached through a symlink (it may
    lead out of the folder), and files the repo kind is not made of."""
    selected: List[str] = []
    refused: List[str] = []
    for directory, folders, files in os.walk(source, followlinks=False):
        here = Path(directory)
        for name in sorted(folders):
            if name in IGNORED_NAMES:
                folders.remove(name)
            elif name.startswith(".") or (here / name).is_symlink():
                refused.append(f"{(here / name).relative_to(source)}/ ({'symlink' if (here / name).is_symlink() else 'hidden folder'})")
                folders.remove(name)
        for name in sorted(files):
            relative = (here / name).relative_to(source).as_posix()
            reason = _refusal(here / name, relative, kind)
            if reason == "ignored":
                continue
            if reason:
                refused.append(f"{relative} ({reason})")
            else:
                selected.append(relative)
    return selected, refused


def _refusal(path: Path, relative: str, kind: str) -> Optional[str]:
    name = path.name
    if name in IGNORED_NAMES or name.endswith(IGNORED_SUFFIXES):
        return "ignored"
    if path.is_symlink():
        return "symlink"
    if name.startswith("."):
        return "hidden file"
    if any(fnmatch.fnmatch(name.lower(), pattern) for pattern in SECRET_NAMES):
        return "looks like a key or credential"
    if not path.is_file():
        return "not a regular file"
    if not any(fnmatch.fnmatch(relative, pattern) for pattern in ALLOWED_FILES[kind]):
        return f"not part of a {kind} repo"
    return None


def _refusal_note(source: Path, refused: Sequence[str]) -> str:
    return f"not staged from {source}: {'; '.join(refused)}"


def _build_atomically(out: Path, fill: Callable[[Path], None]) -> Path:
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise StagingError(f"staging folder {out} exists and is not empty; remove it or choose another --stage-dir")
    with atomic_folder(out) as temporary:
        fill(temporary)
        refuse_local_state(temporary, out)
    return out


def _copy_allowed(source: Path, target: Path, kind: str, notes: List[str]) -> None:
    """The files of ``source`` that a ``kind`` repo is made of, copied into ``target``; what was
    left out is added to ``notes`` (printed by `publish`)."""
    selected, refused = select_files(source, kind)
    for relative in selected:
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / relative, target / relative, follow_symlinks=False)
    if refused:
        notes.append(_refusal_note(source, refused))


def refuse_local_state(folder: Path, shown_as: Path) -> None:
    """A repo must not carry this machine's paths or local-only flags (see local_state)."""
    findings = find_local_state(folder)
    if findings:
        raise StagingError(f"{shown_as}: local state in files of the repo:\n  " + "\n  ".join(findings))


def _require(folder: Path, names: Sequence[str], hint: str) -> None:
    if not folder.is_dir():
        raise StagingError(f"{folder} is not a folder")
    missing = [name for name in names if not (folder / name).exists()]
    if missing:
        raise StagingError(f"{folder}: missing {', '.join(missing)}; {hint}")


# ------------------------------------------------------------------------------------ model
def stage_model(source, out, card: ModelCardOptions) -> StagedRepo:
    """A full model folder (AutoModel + trust_remote_code) with its rendered card. An adapter
    package (like the shipped default model) is exported with the adapter merged, because the
    Hub's remote code cannot assemble it over a base encoder."""
    source = Path(source)
    _require(source, ["config.json"], "is this a model folder written by `gliner-biomed convert` or the trainer?")
    adapter = is_adapter_package(source)
    if not adapter:
        _require(source, ["configuration_gliner.py"], "the folder lacks the modeling code; re-save it with `gliner-biomed convert`")

    notes: List[str] = []
    scrubbed: List[str] = []

    def fill(folder: Path) -> None:
        if adapter:
            from ..trainers.packaging import export_full_model  # torch and the modeling code

            export_full_model(source, folder / "model")
            for path in (folder / "model").iterdir():
                os.replace(path, folder / path.name)
            (folder / "model").rmdir()
        else:
            _copy_allowed(source, folder, "model", notes)
        scrubbed.extend(scrub_model_folder(folder, card.base_encoder))
        rendered = render_model_card(folder, card, training_source=source)
        for name, path in rendered.extra_files.items():
            shutil.copyfile(path, folder / name)
        rendered.card.save(folder / "README.md")

    staged = StagedRepo(REPO_KINDS["model"], _build_atomically(out, fill), source, notes)
    if adapter:
        staged.notes.append(f"{source} is an adapter package: staged as a standalone model with the LoRA adapter merged")
    staged.notes.extend(scrubbed)
    return staged


# ---------------------------------------------------------------------------------- dataset
def built_dataset(source) -> StagedRepo:
    """A folder written by `gliner-biomed datasets build` (Parquet shards + card) as the dataset
    repo, in place: `gliner-biomed datasets push` uploads it as it is."""
    source = Path(source)
    _require(source, ["README.md", "data"], "build it first with `gliner-biomed datasets build NAME --out DIR`")
    if not any((source / "data").rglob("*.parquet")):
        raise StagingError(f"{source}/data holds no Parquet shard")
    refuse_local_state(source, source)
    return StagedRepo(REPO_KINDS["dataset"], source, source)


def check_uploadable_in_place(staged: StagedRepo) -> StagedRepo:
    """A folder uploaded as it is (`datasets push`) must hold nothing that staging would leave
    out: no secret, symlink or stray file is sent."""
    _, refused = select_files(staged.folder, staged.kind.name)
    if refused:
        raise StagingError(f"{_refusal_note(staged.folder, refused)}; remove them, or stage a clean copy with "
                           f"`gliner-biomed publish --{staged.kind.name} {staged.folder}`")
    return staged


def stage_dataset(source, out) -> StagedRepo:
    """A copy of a `gliner-biomed datasets build` folder (see built_dataset), without caches."""
    source = built_dataset(source).folder
    return _stage_copy("dataset", source, out)


def _stage_copy(kind: str, source: Path, out) -> StagedRepo:
    notes: List[str] = []
    folder = _build_atomically(out, lambda folder: _copy_allowed(source, folder, kind, notes))
    return StagedRepo(REPO_KINDS[kind], folder, source, notes)


# ----------------------------------------------------------------------------------- metric
def stage_metric(source, out) -> StagedRepo:
    """The evaluate module folder (span_ner.py, its metric card README.md, app.py, requirements.txt)."""
    source = Path(source) if source else default_metric_dir()
    scripts = [path.name for path in source.glob("*.py") if path.name != "app.py"]
    _require(source, ["README.md", "app.py", "requirements.txt"], "a metric Space needs its card, app.py and requirements.txt")
    if len(scripts) != 1:
        raise StagingError(f"{source}: expected one metric script beside app.py, found {scripts}")
    return _stage_copy("metric", source, out)


# ------------------------------------------------------------------------------------ space
def stage_space(source, out, model_repos: Dict[str, str], dataset_repos: Sequence[str] = (), examples: Optional[List[Dict]] = None) -> StagedRepo:
    """The demo Space: app.py, requirements.txt, README.md (header `models:`/`datasets:` set to the
    repos it uses), space_config.json (display name -> model repo) and examples.json (abstracts
    from the real corpora, taken at staging time)."""
    from huggingface_hub import RepoCard

    source = Path(source) if source else default_space_dir()
    _require(source, ["app.py", "requirements.txt", "README.md"], "a Space needs app.py, requirements.txt and README.md")
    if not model_repos:
        raise StagingError("a Space needs at least one model repo (--model-repo ORG/NAME): it cannot ship the local default model")
    for repo_id in model_repos.values():
        if repo_id.count("/") != 1:
            raise StagingError(f"--model-repo must be a Hub repo id 'org/name', got {repo_id!r}")
    if examples is None:
        from .space_examples import corpus_examples

        examples = corpus_examples()

    notes: List[str] = []

    def fill(folder: Path) -> None:
        _copy_allowed(source, folder, "space", notes)
        for stale in ("space_config.json", "examples.json"):
            (folder / stale).unlink(missing_ok=True)
        card = RepoCard.load(folder / "README.md")
        card.data.models = list(model_repos.values())
        if dataset_repos:
            card.data.datasets = list(dataset_repos)
        card.save(folder / "README.md")
        (folder / "space_config.json").write_text(json.dumps({"models": model_repos}, indent=1) + "\n", encoding="utf-8")
        (folder / "examples.json").write_text(json.dumps(examples, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    return StagedRepo(REPO_KINDS["space"], _build_atomically(out, fill), source, notes)
