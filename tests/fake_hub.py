"""A loopback stand-in for the Hugging Face Hub HTTP API, for tests without network.

There is no local Hub on PyPI, so tests that push to / pull from the Hub talk to this server
instead. It speaks the subset of the Hub HTTP API that huggingface_hub 1.x, transformers 5 and
datasets 5 use for creating repos, committing files, listing trees and downloading files (see
`FakeHub` for the list of endpoints). Requests outside that subset are answered 404 with the path
in the body and recorded in `FakeHub.unhandled`, so a test can assert that nothing unexpected was
called.

Hub libraries read HF_ENDPOINT and friends into module constants at import time, so the client
side of a test runs in a subprocess with the environment set before any import: `run_client`.

Uploads follow the Hub's rules: the preupload endpoint answers uploadMode "lfs" for files that
match a `filter=lfs` pattern of the repo's .gitattributes (*.safetensors, *.parquet, ... as in a
new Hub repo) or are 10 MiB or larger, and "regular" otherwise. Regular files travel base64 in the
NDJSON commit; LFS files go through the LFS batch API (basic transfer: one PUT per object) before
the commit references them by sha256. LFS cannot be skipped: `datasets.push_to_hub` pre-uploads
each Parquet shard from a temporary file that is deleted before the commit is sent. Xet is not
implemented, so clients must run with HF_HUB_DISABLE_XET=1 (`run_client` sets it). Everything is
held in memory per request: fine for test files of tens of MB, not for GB-sized checkpoints.

Usage:
    with FakeHub() as hub:
        run_client("from huggingface_hub import HfApi; HfApi().create_repo('org/x')", hub)
        assert hub.list_files("org/x") == [".gitattributes"]
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

REPO_TYPES = ("model", "dataset", "space")
# URL prefix of web/resolve URLs per repo type (models have none), as on huggingface.co.
URL_PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}
DEFAULT_BRANCH = "main"
LFS_SIZE_THRESHOLD = 10 * 1024 * 1024  # the Hub stores files this large in LFS whatever .gitattributes says
FAKE_USER = "fake-hub-user"

# What huggingface.co puts in the first commit of every new repo.
INITIAL_GITATTRIBUTES = b"""*.7z filter=lfs diff=lfs merge=lfs -text
*.arrow filter=lfs diff=lfs merge=lfs -text
*.bin filter=lfs diff=lfs merge=lfs -text
*.ckpt filter=lfs diff=lfs merge=lfs -text
*.gz filter=lfs diff=lfs merge=lfs -text
*.h5 filter=lfs diff=lfs merge=lfs -text
*.onnx filter=lfs diff=lfs merge=lfs -text
*.parquet filter=lfs diff=lfs merge=lfs -text
*.pt filter=lfs diff=lfs merge=lfs -text
*.pth filter=lfs diff=lfs merge=lfs -text
*.safetensors filter=lfs diff=lfs merge=lfs -text
*.zip filter=lfs diff=lfs merge=lfs -text
"""

# Env vars that would redirect or disable the client's Hub access; run_client drops them.
_CLIENT_ENV_TO_DROP = (
    "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE",
    "HF_DATASETS_CACHE",
    "HF_ASSETS_CACHE",
    "HF_XET_CACHE",
    "TRANSFORMERS_CACHE",
    "HF_TOKEN_PATH",
    "HF_STORED_TOKENS_PATH",
    "HF_HUB_ENABLE_HF_TRANSFER",
    "HUGGING_FACE_HUB_TOKEN",
)


def git_blob_oid(content: bytes) -> str:
    """The git object id of a blob, which is what the Hub reports as `oid`/ETag of regular files."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The git-lfs pointer file that git stores in place of an LFS file."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def lfs_patterns(gitattributes: bytes) -> list[str]:
    """Patterns of a .gitattributes file that route files through LFS (`filter=lfs`)."""
    patterns = []
    for line in gitattributes.decode("utf-8", errors="replace").splitlines():
        parts = line.split()
        if len(parts) >= 2 and not parts[0].startswith("#") and "filter=lfs" in parts[1:]:
            patterns.append(parts[0])
    return patterns


def matches_lfs_pattern(path: str, patterns: list[str]) -> bool:
    # git semantics, simplified: patterns without "/" match the file name at any depth.
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(path if "/" in p else name, p.lstrip("/")) for p in patterns)


def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass(frozen=True)
class StoredFile:
    """One file of a commit's tree; the content lives in the hub's blob folder under `sha256`.

    `git_oid` is what git would store: the blob of the content, or of the LFS pointer if `lfs`.
    """

    sha256: str
    git_oid: str
    size: int
    lfs: bool = False

    @property
    def etag(self) -> str:
        # The Hub's ETag for a download: sha256 for LFS files (X-Linked-Etag), git oid otherwise.
        return self.sha256 if self.lfs else self.git_oid


@dataclass
class Commit:
    """A commit as recorded by the fake hub (also the entries of `FakeHub.commits`)."""

    repo_id: str
    repo_type: str
    sha: str
    parent: str | None
    message: str
    description: str
    date: str
    branch: str
    files: dict[str, StoredFile]  # full tree after the commit: path -> file
    added: list[str]  # paths written by this commit (new or changed content)
    deleted: list[str]  # paths removed by this commit


@dataclass
class Repo:
    repo_id: str
    repo_type: str
    private: bool
    created_at: str
    sdk: str | None = None
    branches: dict[str, str] = field(default_factory=dict)  # branch -> commit sha
    commits: dict[str, Commit] = field(default_factory=dict)  # sha -> commit

    @property
    def url_path(self) -> str:
        return URL_PREFIXES[self.repo_type] + self.repo_id


class HubHTTPError(Exception):
    """Raised inside a handler to answer with a Hub-style error (JSON body + X-Error-Code)."""

    def __init__(self, status: int, message: str, error_code: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_code = error_code
        self.extra = extra or {}  # more JSON body fields (the Hub's 409 on create names the repo url)


class FakeHub:
    """Loopback Hugging Face Hub for tests; use as a context manager.

    Attributes:
        endpoint: base URL to use as HF_ENDPOINT (http://127.0.0.1:PORT).
        token: a token string to pass as HF_TOKEN (any "Bearer ..." is accepted; writes need one).
        commits: every commit made, in order, including the "initial commit" of each new repo.
        unhandled: "METHOD /path" of every request the fake hub does not implement.
        requests: "METHOD /path" of every request received (for debugging).

    Implemented endpoints (repo_id must be "namespace/name"; TYPE is models|datasets|spaces):
        GET  /api/whoami-v2
        POST /api/repos/create                 (409 if it exists)
        POST /api/repos/delete
        POST /api/validate-yaml                (parses README front matter with yaml.safe_load)
        GET  /api/TYPE/{repo_id}[/revision/{rev}]   (repo info, siblings, sha, cardData)
        GET  /api/TYPE/{repo_id}/tree/{rev}[/{path}]?recursive=&expand=
        POST /api/TYPE/{repo_id}/paths-info/{rev}   (form or JSON: paths=..., expand=...)
        POST /api/TYPE/{repo_id}/preupload/{rev}    (uploadMode "lfs" or "regular", as the Hub)
        POST /api/TYPE/{repo_id}/commit/{rev}       (NDJSON: header, file, lfsFile, deletedFile,
                                                     deletedFolder; parentCommit checked)
        GET  /api/TYPE/{repo_id}/refs
        GET  /api/TYPE/{repo_id}/commits/{rev}
        POST /api/TYPE/{repo_id}/branch/{branch}    (create a branch from main or "startingPoint")
        POST /[datasets/|spaces/]{repo_id}.git/info/lfs/objects/batch (upload, basic transfer)
        PUT  /_fake_lfs/{sha256}, POST /_fake_lfs/{sha256}/verify     (LFS object upload)
        HEAD/GET /[datasets/|spaces/]{repo_id}/resolve/{rev}/{path}   (ETag, X-Repo-Commit,
                                      X-Linked-Etag/Size for LFS, Content-Length, Range requests)
    """

    def __init__(self, root: str | os.PathLike | None = None, token: str = "hf_fake_hub_token"):
        self._tempdir = None if root is not None else tempfile.TemporaryDirectory(prefix="fake_hub_")
        self.root = Path(root) if root is not None else Path(self._tempdir.name)
        self.blob_dir = self.root / "blobs"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.token = token
        self.repos: dict[tuple[str, str], Repo] = {}
        self.commits: list[Commit] = []
        self.unhandled: list[str] = []
        self.requests: list[str] = []
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> FakeHub:
        handler = type("FakeHubHandler", (_Handler,), {"hub": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-hub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeHub is not started (use `with FakeHub() as hub:` or hub.start())")
        return self._server.server_address[1]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client_env(self, hf_home: str | os.PathLike) -> dict[str, str]:
        """Environment for a client process that talks to this hub, with its own cache in `hf_home`."""
        env = {k: v for k, v in os.environ.items() if k not in _CLIENT_ENV_TO_DROP}
        env.update(
            HF_ENDPOINT=self.endpoint,
            HF_TOKEN=self.token,
            HF_HOME=str(hf_home),
            HF_HUB_DISABLE_XET="1",
            HF_HUB_OFFLINE="0",
            HF_DATASETS_OFFLINE="0",
            TRANSFORMERS_OFFLINE="0",
            HF_HUB_DISABLE_TELEMETRY="1",
            HF_HUB_DISABLE_IMPLICIT_TOKEN="0",
            # The hub is on loopback: never route it through a proxy from the outer environment.
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        return env

    # ------------------------------------------------------------ test helpers
    def get_repo(self, repo_id: str, repo_type: str = "model") -> Repo:
        with self._lock:
            try:
                return self.repos[(repo_type, repo_id)]
            except KeyError:
                raise KeyError(f"fake hub has no {repo_type} repo {repo_id!r}; repos: {sorted(self.repos)}") from None

    def list_files(self, repo_id: str, repo_type: str = "model", revision: str = DEFAULT_BRANCH) -> list[str]:
        """Sorted paths of the files in `repo_id` at `revision`."""
        repo = self.get_repo(repo_id, repo_type)
        with self._lock:
            return sorted(self._resolve_commit(repo, revision).files)

    def read_file(self, repo_id: str, path: str, repo_type: str = "model", revision: str = DEFAULT_BRANCH) -> bytes:
        """Content of `path` in `repo_id` at `revision`."""
        return self._blob_path(self.stored_file(repo_id, path, repo_type, revision).sha256).read_bytes()

    def stored_file(
        self, repo_id: str, path: str, repo_type: str = "model", revision: str = DEFAULT_BRANCH
    ) -> StoredFile:
        """How `path` is stored (sha256, git oid, size, whether it went through LFS)."""
        repo = self.get_repo(repo_id, repo_type)
        with self._lock:
            files = self._resolve_commit(repo, revision).files
            if path not in files:
                raise KeyError(f"{path!r} not in {repo_type} repo {repo_id!r} at {revision!r}; files: {sorted(files)}")
            return files[path]

    def commits_of(self, repo_id: str, repo_type: str = "model") -> list[Commit]:
        """Commits of one repo, oldest first."""
        with self._lock:
            return [c for c in self.commits if c.repo_id == repo_id and c.repo_type == repo_type]

    # ------------------------------------------------------------ repo storage
    def _blob_path(self, sha256: str) -> Path:
        return self.blob_dir / sha256

    def _store_blob(self, content: bytes) -> str:
        """Write `content` to the content-addressed blob folder; returns its sha256."""
        sha256 = hashlib.sha256(content).hexdigest()
        path = self._blob_path(sha256)
        if not path.exists():
            tmp = path.with_suffix(f".tmp{threading.get_ident()}")
            tmp.write_bytes(content)
            os.replace(tmp, path)  # atomic: concurrent readers never see a partial blob
        return sha256

    def _store_regular(self, content: bytes) -> StoredFile:
        return StoredFile(sha256=self._store_blob(content), git_oid=git_blob_oid(content), size=len(content))

    def _stored_lfs(self, sha256: str) -> StoredFile:
        size = self._blob_path(sha256).stat().st_size
        return StoredFile(sha256=sha256, git_oid=git_blob_oid(lfs_pointer(sha256, size)), size=size, lfs=True)

    def _upload_mode(self, commit: Commit, path: str, size: int) -> str:
        gitattributes = commit.files.get(".gitattributes")
        patterns = lfs_patterns(self._blob_path(gitattributes.sha256).read_bytes()) if gitattributes else []
        return "lfs" if size >= LFS_SIZE_THRESHOLD or matches_lfs_pattern(path, patterns) else "regular"

    def _find_repo(self, repo_type: str, repo_id: str) -> Repo:
        repo = self.repos.get((repo_type, repo_id))
        if repo is None:
            raise HubHTTPError(404, f"Repository Not Found for {repo_type} {repo_id}", "RepoNotFound")
        return repo

    def _resolve_commit(self, repo: Repo, revision: str) -> Commit:
        if revision in repo.branches:
            return repo.commits[repo.branches[revision]]
        if revision in repo.commits:
            return repo.commits[revision]
        raise HubHTTPError(404, f"Invalid rev id: {revision}", "RevisionNotFound")

    def _make_commit(
        self,
        repo: Repo,
        branch: str,
        message: str,
        description: str,
        files: dict[str, StoredFile],
        added: list[str],
        deleted: list[str],
    ) -> Commit:
        parent = repo.branches.get(branch)
        seed = f"{repo.repo_type}/{repo.repo_id}\n{parent}\n{message}\n{time.time_ns()}\n{len(self.commits)}\n"
        seed += "\n".join(f"{p} {f.git_oid}" for p, f in sorted(files.items()))
        sha = hashlib.sha1(seed.encode()).hexdigest()
        commit = Commit(
            repo_id=repo.repo_id,
            repo_type=repo.repo_type,
            sha=sha,
            parent=parent,
            message=message,
            description=description,
            date=_now_iso(),
            branch=branch,
            files=files,
            added=added,
            deleted=deleted,
        )
        repo.commits[sha] = commit
        repo.branches[branch] = sha
        self.commits.append(commit)
        return commit

    def create_repo(self, repo_id: str, repo_type: str = "model", private: bool = False, sdk: str | None = None) -> Repo:
        """Create a repo (with the usual initial .gitattributes commit); also used by POST /api/repos/create."""
        if repo_type not in REPO_TYPES:
            raise HubHTTPError(400, f"Invalid repo type {repo_type!r}")
        if repo_id.count("/") != 1 or not all(repo_id.split("/")):
            raise HubHTTPError(400, f"The fake hub needs repo ids of the form 'namespace/name', got {repo_id!r}")
        with self._lock:
            if (repo_type, repo_id) in self.repos:
                existing = self.repos[(repo_type, repo_id)]
                raise HubHTTPError(
                    409, f"You already created this {repo_type} repo: {repo_id}", extra={"url": self._repo_url(existing)}
                )
            repo = Repo(repo_id=repo_id, repo_type=repo_type, private=private, created_at=_now_iso(), sdk=sdk)
            self.repos[(repo_type, repo_id)] = repo
            gitattributes = self._store_regular(INITIAL_GITATTRIBUTES)
            self._make_commit(repo, DEFAULT_BRANCH, "initial commit", "", {".gitattributes": gitattributes}, [".gitattributes"], [])
            return repo

    # ---------------------------------------------------------- JSON shapes
    def _repo_url(self, repo: Repo) -> str:
        return f"{self.endpoint}/{repo.url_path}"

    def _card_data(self, commit: Commit) -> dict | None:
        readme = commit.files.get("README.md")
        if readme is None:
            return None
        text = self._blob_path(readme.sha256).read_text(encoding="utf-8", errors="replace")
        match = re.match(r"^---\s*\n(.*?)\n---\s*(\n|$)", text, re.DOTALL)
        if not match:
            return None
        try:
            data = yaml.safe_load(match.group(1))
        except yaml.YAMLError:
            return None
        return data if isinstance(data, dict) else None

    def _repo_info_json(self, repo: Repo, commit: Commit, with_blobs: bool) -> dict:
        siblings = []
        for path, stored in sorted(commit.files.items()):
            sibling: dict = {"rfilename": path}
            if with_blobs:
                sibling.update(size=stored.size, blobId=stored.git_oid)
            siblings.append(sibling)
        info = {
            "_id": hashlib.sha1(f"{repo.repo_type}/{repo.repo_id}".encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "author": repo.repo_id.split("/")[0],
            "sha": commit.sha,
            "lastModified": commit.date,
            "createdAt": repo.created_at,
            "private": repo.private,
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": siblings,
        }
        card_data = self._card_data(commit)
        if card_data is not None:
            info["cardData"] = card_data
        if repo.repo_type == "model":
            info["modelId"] = repo.repo_id
        if repo.repo_type == "space":
            info["sdk"] = repo.sdk
            info["runtime"] = {"stage": "NO_APP_FILE", "hardware": {"current": None, "requested": None}}
        return info

    @staticmethod
    def _last_commit_json(commit: Commit) -> dict:
        # Simplification: names the commit listed, not the last one that touched the path.
        return {"id": commit.sha, "title": commit.message, "date": commit.date}

    def _tree_entry(self, commit: Commit, path: str, expand: bool) -> dict | None:
        """The /tree and /paths-info JSON of `path` (file or folder), or None if it does not exist."""
        path = path.strip("/")
        if path in commit.files:
            stored = commit.files[path]
            entry = {"type": "file", "oid": stored.git_oid, "size": stored.size, "path": path}
            if stored.lfs:
                pointer_size = len(lfs_pointer(stored.sha256, stored.size))
                entry["lfs"] = {"oid": stored.sha256, "size": stored.size, "pointerSize": pointer_size}
        else:
            children = sorted((p, f.git_oid) for p, f in commit.files.items() if p.startswith(path + "/"))
            if not children:
                return None
            tree_oid = hashlib.sha1(repr(children).encode()).hexdigest()
            entry = {"type": "directory", "oid": tree_oid, "size": 0, "path": path}
        if expand:
            entry["lastCommit"] = self._last_commit_json(commit)
        return entry

    def _tree_listing(self, commit: Commit, folder: str, recursive: bool, expand: bool) -> list[dict]:
        folder = folder.strip("/")
        prefix = folder + "/" if folder else ""
        if folder and self._tree_entry(commit, folder, False) is None:
            raise HubHTTPError(404, f"{folder} does not exist on {commit.branch}", "EntryNotFound")
        if folder in commit.files:
            raise HubHTTPError(400, f"{folder} is a file, not a folder")
        paths: set[str] = set()
        for file_path in commit.files:
            if not file_path.startswith(prefix):
                continue
            rest = file_path[len(prefix) :].split("/")
            depth = len(rest) if recursive else 1
            for i in range(1, depth + 1):
                paths.add(prefix + "/".join(rest[:i]))
        # Hub order: folders before files at each level is not guaranteed by clients; sort by path.
        return [self._tree_entry(commit, p, expand) for p in sorted(paths)]

    # ---------------------------------------------------------------- commits
    def _apply_commit(self, repo: Repo, branch: str, ndjson: bytes, create_pr: bool) -> Commit:
        if create_pr:
            raise HubHTTPError(400, "The fake hub does not implement pull requests (create_pr=True)")
        lines = [json.loads(line) for line in ndjson.splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubHTTPError(400, "Commit payload must start with a 'header' line")
        header = lines[0]["value"]
        if branch not in repo.branches:
            raise HubHTTPError(404, f"Invalid rev id: {branch} (commits go to branches)", "RevisionNotFound")
        head = repo.commits[repo.branches[branch]]
        parent_commit = header.get("parentCommit")
        if parent_commit is not None and parent_commit != head.sha:
            raise HubHTTPError(412, f"A commit has happened since {parent_commit}; head of {branch} is {head.sha}")
        files = dict(head.files)
        added: list[str] = []
        deleted: list[str] = []
        for line in lines[1:]:
            key, value = line.get("key"), line.get("value", {})
            path = value.get("path", "")
            if key == "file":
                if value.get("encoding") != "base64":
                    raise HubHTTPError(400, f"Unsupported encoding {value.get('encoding')!r} for {path}")
                files[path] = self._store_regular(base64.b64decode(value["content"]))
                added.append(path)
            elif key == "lfsFile":
                # The object must have been uploaded through the LFS batch API (or be known already).
                sha256 = value.get("oid", "")
                if not re.fullmatch(r"[0-9a-f]{64}", sha256) or not self._blob_path(sha256).exists():
                    raise HubHTTPError(
                        400,
                        f"lfsFile {path}: LFS object {sha256!r} was never uploaded to the fake hub"
                        " (Xet uploads are not implemented: is HF_HUB_DISABLE_XET=1 set?)",
                    )
                files[path] = self._stored_lfs(sha256)
                added.append(path)
            elif key == "deletedFile":
                if path not in files:
                    raise HubHTTPError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                del files[path]
                deleted.append(path)
            elif key == "deletedFolder":
                folder = path.strip("/") + "/"
                gone = [p for p in files if p.startswith(folder)]
                if not gone:
                    raise HubHTTPError(404, f"A folder with this name doesn't exist: {path}", "EntryNotFound")
                for p in gone:
                    del files[p]
                deleted.extend(sorted(gone))
            else:
                raise HubHTTPError(400, f"Unsupported commit operation {key!r}")
        return self._make_commit(repo, branch, header.get("summary", ""), header.get("description", ""), files, added, deleted)


_REPO_API = re.compile(r"^/api/(models|datasets|spaces)/([^/]+)/([^/]+)(?:/([^/]+)(?:/(.*))?)?$")
_RESOLVE = re.compile(r"^/(?:(datasets|spaces)/)?([^/]+)/([^/]+)/resolve/([^/]+)/(.+)$")
_REPO_ACTIONS = {None, "revision", "tree", "paths-info", "preupload", "commit", "refs", "commits", "branch"}
_LFS_BATCH = re.compile(r"^/(?:(datasets|spaces)/)?([^/]+)/([^/]+?)\.git/info/lfs/objects/batch$")
_LFS_OBJECT = re.compile(r"^/_fake_lfs/([0-9a-f]{64})(/verify)?$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub
    protocol_version = "HTTP/1.1"

    # ------------------------------------------------------------- plumbing
    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr access log
        pass

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes = b"", content_type: str = "application/json", headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _send_json(self, data, status: int = 200, headers: dict | None = None):
        self._send(status, json.dumps(data).encode(), headers=headers)

    def _send_error(self, error: HubHTTPError):
        headers = {"X-Error-Message": error.message.encode("ascii", "replace").decode()}
        if error.error_code:
            headers["X-Error-Code"] = error.error_code
        self._send_json({"error": error.message, **error.extra}, status=error.status, headers=headers)

    def _dispatch(self):
        hub = self.hub
        url = urlsplit(self.path)
        request_line = f"{self.command} {url.path}"
        with hub._lock:
            hub.requests.append(request_line)
        body = self._read_body() if self.command in ("POST", "PUT", "PATCH", "DELETE") else b""
        try:
            handled = self._route(url.path, parse_qs(url.query), body)
        except HubHTTPError as error:
            self._send_error(error)
            return
        except Exception as error:  # a bug in the fake hub: make it loud on the client side
            self._send_error(HubHTTPError(500, f"fake hub crashed on {request_line}: {error!r}"))
            raise
        if not handled:
            with hub._lock:
                hub.unhandled.append(request_line)
            self._send_error(HubHTTPError(404, f"fake hub does not implement {request_line}"))

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _dispatch

    def _require_token(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[len("Bearer ") :].strip():
            raise HubHTTPError(401, "Invalid credentials in Authorization header (writes need a token)")

    # --------------------------------------------------------------- routes
    def _route(self, path: str, query: dict, body: bytes) -> bool:
        hub, method = self.hub, self.command
        if path == "/api/whoami-v2" and method == "GET":
            self._require_token()
            self._send_json(
                {
                    "type": "user",
                    "id": "0" * 24,
                    "name": FAKE_USER,
                    "fullname": "Fake Hub User",
                    "orgs": [],
                    "auth": {"type": "access_token", "accessToken": {"displayName": "fake", "role": "write"}},
                }
            )
            return True
        if path == "/api/repos/create" and method == "POST":
            return self._create_repo(json.loads(body or b"{}"))
        if path == "/api/repos/delete" and method in ("DELETE", "POST"):
            self._require_token()
            payload = json.loads(body or b"{}")
            repo_id = f"{payload['organization']}/{payload['name']}" if payload.get("organization") else payload["name"]
            with hub._lock:
                hub._find_repo(payload.get("type") or "model", repo_id)
                del hub.repos[(payload.get("type") or "model", repo_id)]
            self._send(200)
            return True
        if path == "/api/validate-yaml" and method == "POST":
            return self._validate_yaml(json.loads(body or b"{}"))
        match = _REPO_API.match(path)
        if match:
            repo_type = match.group(1)[:-1]
            repo_id = f"{unquote(match.group(2))}/{unquote(match.group(3))}"
            action, rest = match.group(4), match.group(5)
            return self._repo_api(method, repo_type, repo_id, action, rest, query, body)
        match = _LFS_BATCH.match(path)
        if match and method == "POST":
            repo_type = {"datasets": "dataset", "spaces": "space", None: "model"}[match.group(1)]
            return self._lfs_batch(repo_type, f"{unquote(match.group(2))}/{unquote(match.group(3))}", json.loads(body))
        match = _LFS_OBJECT.match(path)
        if match and method == "PUT" and not match.group(2):
            return self._lfs_put(match.group(1), body)
        if match and method == "POST" and match.group(2):
            return self._lfs_verify(match.group(1), json.loads(body))
        match = _RESOLVE.match(path)
        if match and method in ("GET", "HEAD"):
            repo_type = {"datasets": "dataset", "spaces": "space", None: "model"}[match.group(1)]
            repo_id = f"{unquote(match.group(2))}/{unquote(match.group(3))}"
            return self._resolve(repo_type, repo_id, unquote(match.group(4)), unquote(match.group(5)))
        return False

    def _create_repo(self, payload: dict) -> bool:
        self._require_token()
        name, organization = payload.get("name"), payload.get("organization")
        if not name:
            raise HubHTTPError(400, "create repo: 'name' is required")
        if not organization:
            organization = FAKE_USER
        repo_type = payload.get("type") or "model"
        repo = self.hub.create_repo(f"{organization}/{name}", repo_type, bool(payload.get("private")), payload.get("sdk"))
        self._send_json({"url": self.hub._repo_url(repo), "name": repo.repo_id, "id": repo.repo_id})
        return True

    def _validate_yaml(self, payload: dict) -> bool:
        content = payload.get("content", "")
        match = re.match(r"^---\s*\n(.*?)\n---\s*(\n|$)", content, re.DOTALL)
        if match:
            try:
                data = yaml.safe_load(match.group(1))
            except yaml.YAMLError as error:
                self._send_json({"errors": [{"message": f"Invalid YAML: {error}"}], "warnings": []}, status=400)
                return True
            if data is not None and not isinstance(data, dict):
                self._send_json({"errors": [{"message": "metadata must be a YAML mapping"}], "warnings": []}, status=400)
                return True
        self._send_json({"errors": [], "warnings": []})
        return True

    def _repo_api(self, method, repo_type, repo_id, action, rest, query, body) -> bool:
        hub = self.hub
        flag = lambda name: query.get(name, ["false"])[-1].lower() in ("1", "true")  # noqa: E731
        if action not in _REPO_ACTIONS:
            return False  # recorded as unhandled even if the repo does not exist
        with hub._lock:
            repo = hub._find_repo(repo_type, repo_id)
            if action is None or action == "revision":
                if method != "GET":
                    return False
                revision = unquote(rest) if action == "revision" and rest else DEFAULT_BRANCH
                commit = hub._resolve_commit(repo, revision)
                self._send_json(hub._repo_info_json(repo, commit, with_blobs=flag("blobs")))
                return True
            if action == "tree" and method == "GET" and rest:
                revision, _, folder = rest.partition("/")
                commit = hub._resolve_commit(repo, unquote(revision))
                listing = hub._tree_listing(commit, unquote(folder), flag("recursive"), flag("expand"))
                self._send_json(listing)
                return True
            if action == "paths-info" and method == "POST" and rest:
                commit = hub._resolve_commit(repo, unquote(rest))
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    payload = json.loads(body or b"{}")
                    paths, expand = payload.get("paths", []), bool(payload.get("expand"))
                else:
                    form = parse_qs(body.decode(), keep_blank_values=True)
                    paths, expand = form.get("paths", []), form.get("expand", ["false"])[-1].lower() == "true"
                entries = [hub._tree_entry(commit, p, expand) for p in paths]
                self._send_json([e for e in entries if e is not None])
                return True
            if action == "preupload" and method == "POST" and rest:
                self._require_token()
                commit = hub._resolve_commit(repo, unquote(rest))
                files = json.loads(body)["files"]
                answer = []
                for f in files:
                    mode = hub._upload_mode(commit, f["path"], int(f["size"]))
                    remote = commit.files.get(f["path"])
                    # The client compares this oid to sha256 (lfs) or git oid (regular) to skip unchanged files.
                    remote_oid = None if remote is None else (remote.sha256 if mode == "lfs" else remote.git_oid)
                    answer.append({"path": f["path"], "uploadMode": mode, "shouldIgnore": False, "oid": remote_oid})
                self._send_json({"files": answer, "commitOid": commit.sha})
                return True
            if action == "commit" and method == "POST" and rest:
                self._require_token()
                commit = hub._apply_commit(repo, unquote(rest), body, create_pr=flag("create_pr"))
                self._send_json(
                    {
                        "success": True,
                        "commitOid": commit.sha,
                        "commitUrl": f"{hub._repo_url(repo)}/commit/{commit.sha}",
                        "pullRequestUrl": None,
                        "hookOutput": "",
                    }
                )
                return True
            if action == "refs" and method == "GET":
                branches = [
                    {"name": name, "ref": f"refs/heads/{name}", "targetCommit": sha} for name, sha in repo.branches.items()
                ]
                self._send_json({"branches": branches, "tags": [], "converts": []})
                return True
            if action == "commits" and method == "GET" and rest:
                commit = hub._resolve_commit(repo, unquote(rest))
                history = []
                while commit is not None:
                    history.append(
                        {
                            "id": commit.sha,
                            "title": commit.message,
                            "message": commit.description,
                            "authors": [{"user": FAKE_USER}],
                            "date": commit.date,
                        }
                    )
                    commit = repo.commits.get(commit.parent) if commit.parent else None
                self._send_json(history)
                return True
            if action == "branch" and method == "POST" and rest:
                self._require_token()
                branch = unquote(rest)
                payload = json.loads(body or b"{}")
                if branch in repo.branches:
                    raise HubHTTPError(409, f"Reference already exists: refs/heads/{branch}")
                start = hub._resolve_commit(repo, payload.get("startingPoint") or DEFAULT_BRANCH)
                repo.branches[branch] = start.sha
                self._send(200)
                return True
        return False

    def _lfs_batch(self, repo_type: str, repo_id: str, payload: dict) -> bool:
        """git-lfs batch API (upload only), basic transfer: one PUT per missing object, then verify."""
        self._require_token()
        hub = self.hub
        with hub._lock:
            hub._find_repo(repo_type, repo_id)
        if payload.get("operation") != "upload":
            raise HubHTTPError(400, f"fake hub LFS batch supports operation 'upload' only, got {payload.get('operation')!r}")
        if "basic" not in payload.get("transfers", ["basic"]):
            raise HubHTTPError(400, f"fake hub LFS batch supports the 'basic' transfer only, got {payload['transfers']}")
        objects = []
        for obj in payload.get("objects", []):
            oid, size = obj["oid"], int(obj["size"])
            answer = {"oid": oid, "size": size, "authenticated": True}
            if not hub._blob_path(oid).exists():
                href = f"{hub.endpoint}/_fake_lfs/{oid}"
                answer["actions"] = {
                    "upload": {"href": href, "header": {}},
                    "verify": {"href": f"{href}/verify", "header": {}},
                }
            objects.append(answer)
        self._send_json({"transfer": "basic", "objects": objects, "hash_algo": "sha256"})
        return True

    def _lfs_put(self, sha256: str, body: bytes) -> bool:
        actual = hashlib.sha256(body).hexdigest()
        if actual != sha256:
            raise HubHTTPError(400, f"LFS upload content has sha256 {actual}, not the announced {sha256}")
        self.hub._store_blob(body)
        self._send(200)
        return True

    def _lfs_verify(self, sha256: str, payload: dict) -> bool:
        path = self.hub._blob_path(sha256)
        if not path.exists() or path.stat().st_size != int(payload.get("size", -1)):
            raise HubHTTPError(404, f"LFS object {sha256} of size {payload.get('size')} was not uploaded")
        self._send_json({"success": True})
        return True

    def _resolve(self, repo_type: str, repo_id: str, revision: str, path: str) -> bool:
        hub = self.hub
        with hub._lock:
            repo = hub._find_repo(repo_type, repo_id)
            commit = hub._resolve_commit(repo, revision)
            stored = commit.files.get(path)
            if stored is None:
                raise HubHTTPError(404, f"Entry not found: {path} in {repo_type} {repo_id}@{revision}", "EntryNotFound")
        size = stored.size
        headers = {
            "ETag": f'"{stored.etag}"',
            "X-Repo-Commit": commit.sha,
            "Accept-Ranges": "bytes",
        }
        if stored.lfs:  # the Hub would redirect to its CDN and name the LFS object in these headers
            headers.update({"X-Linked-Etag": f'"{stored.sha256}"', "X-Linked-Size": str(size)})
        start, end = 0, size - 1
        status = 200
        range_header = self.headers.get("Range")
        if range_header:
            match = _RANGE.match(range_header.strip())
            if not match or (not match.group(1) and not match.group(2)):
                raise HubHTTPError(416, f"Unsupported Range header {range_header!r}")
            if match.group(1):
                start = int(match.group(1))
                end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
            else:  # suffix range: last N bytes
                start = max(size - int(match.group(2)), 0)
            if start >= size or start > end:
                headers["Content-Range"] = f"bytes */{size}"
                self._send(416, b"", "text/plain", headers)
                return True
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        with open(hub._blob_path(stored.sha256), "rb") as blob:
            blob.seek(start)
            content = blob.read(end - start + 1) if size else b""
        self._send(status, content, "application/octet-stream", headers)
        return True


def run_client(
    code: str,
    hub: FakeHub,
    cwd: str | os.PathLike | None = None,
    extra_env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess:
    """Run `python -c code` against `hub`, with a fresh HF_HOME (no cache shared between calls).

    The Hub env vars are set before the interpreter starts, so huggingface_hub/transformers/datasets
    see the fake hub from their first import. Raises AssertionError with the code, stdout, stderr and
    the hub's unhandled requests if the process fails; returns the CompletedProcess (text mode).
    """
    with tempfile.TemporaryDirectory(prefix="fake_hub_client_home_") as hf_home:
        env = hub.client_env(hf_home)
        env.update(extra_env or {})
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,  # a library prompt (e.g. "run custom code? [y/N]") must fail, not hang
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    if result.returncode != 0:
        raise AssertionError(
            f"client process failed with exit code {result.returncode} against {hub.endpoint}\n"
            f"--- code ---\n{code}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}\n"
            f"--- requests the fake hub does not implement ---\n{hub.unhandled}"
        )
    return result
