"""Upload of a staged (and validated) folder with huggingface_hub: create_repo + upload_folder."""

from __future__ import annotations

from typing import Optional

from ..errors import BadInputError
from ..log import get_logger
from .staging import StagedRepo

logger = get_logger(__name__)

TOKEN_OPTION_HELP = "deprecated: a token on the command line is seen by other users (ps, shell history); set HF_TOKEN or run `hf auth login` (default: those)"


def warn_if_token_option(token: Optional[str]) -> None:
    if token:
        logger.warning("--token is deprecated: a token on the command line is seen by other users of this machine "
                       "(ps, shell history); set HF_TOKEN or run `hf auth login` instead")


class PublishError(BadInputError):
    """The upload could not be done (no token, Hub unreachable, refused); says what and where."""


def upload_staged(staged: StagedRepo, repo_id: str, token: Optional[str] = None, private: bool = False,
                  commit_message: Optional[str] = None) -> str:
    """Creates ``repo_id`` if needed and commits the staged folder; returns the commit URL."""
    from huggingface_hub import HfApi, constants, get_token

    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise PublishError(f"--repo must be 'org/name', got {repo_id!r}")
    token = token or get_token()
    if not token:
        raise PublishError(
            f"no Hugging Face token: set HF_TOKEN, run `hf auth login` or pass --token (deprecated) "
            f"(the staged {staged.kind.name} at {staged.folder} passed validation and was not uploaded)"
        )
    api = HfApi(token=token)
    message = commit_message or f"Upload {staged.kind.name} with gliner-biomed publish"
    try:
        api.create_repo(repo_id, repo_type=staged.kind.repo_type, private=private, exist_ok=True, space_sdk=staged.kind.space_sdk)
        commit = api.upload_folder(folder_path=str(staged.folder), repo_id=repo_id, repo_type=staged.kind.repo_type,
                                   commit_message=message)
    except Exception as error:  # offline mode, connection refused, 401/403...: one clear line
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise PublishError(
            f"upload of {staged.folder} to {staged.kind.repo_type} repo {repo_id} at {constants.ENDPOINT} failed: "
            f"{type(error).__name__}: {reason} (the staged folder passed validation; rerun when the Hub is reachable)"
        ) from error
    return str(getattr(commit, "commit_url", commit))
