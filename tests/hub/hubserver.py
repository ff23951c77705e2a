"""A small, real, Hub-compatible HTTP server for tests (stdlib only).

`HubServer` listens on ``127.0.0.1`` (random free port, background thread) and speaks enough
of the Hugging Face Hub protocol that ``huggingface_hub``'s *own* client really downloads from
and uploads to it: ``hf_hub_download``, ``snapshot_download``, ``HfApi.create_repo``,
``upload_folder``/``upload_file``/``create_commit`` (inline "regular" files and the Git LFS
batch API with the "basic" transfer), ``model_info``/``repo_info``, ``list_repo_tree``,
``list_repo_files``, ``list_repo_refs``, ``list_repo_commits``, ``create_branch``,
``get_paths_info``, ``delete_repo``, ``whoami``.  Files are stored per repo and per commit and
served byte for byte; every commit gets a fresh 40-hex sha and old shas keep serving old bytes.
Only model repos exist: dataset/space URLs answer a clear JSON 404 (``RepoNotFound``) or 400.

Most tests just take the shared ``hub`` fixture (``tests/conftest.py``): a started server,
huggingface_hub pointed at it (`use_endpoint`, cache in ``tmp_path / "hf-cache"``) and
``CNNZOO_LOCK`` unset. Mark a module or test ``@pytest.mark.strict_hub`` to also fail when
the server logged an unexpected error (``hub.errors``)::

    def test_pull(hub):
        hub.add_repo("user/net", {"config.json": b"{}"})
        ...

Usage without the fixture (other server options, several servers)::

    from tests.hub.hubserver import HubServer, use_endpoint

    def test_push_and_pull(tmp_path, monkeypatch):
        with HubServer() as hub:
            use_endpoint(monkeypatch, hub.url, tmp_path / "hf-cache")
            api = HfApi()                       # or HfApi(endpoint=hub.url, token="x")
            api.create_repo("user/net")
            api.upload_folder(repo_id="user/net", folder_path=..., token="x")
            path = hf_hub_download("user/net", "model.safetensors")
            assert hub.requests                # [(method, path), ...]

    # or without a client at all:
    with HubServer() as hub:
        sha = hub.add_repo("user/net", {"config.json": b"{}"})

Repos made with ``create_repo`` live under ``HubServer(username="user")`` unless an
organization is given, and start with an "initial commit" holding a ``.gitattributes``.
``hub.truncate_next_download = True`` makes the next file GET send fewer bytes than its
``Content-Length`` and drop the connection (``truncate_downloads``/``truncate_keep_bytes`` for
more control); ``hub.requests``/``hub.records`` show what the client sent.

Redirecting an *already imported* ``huggingface_hub``
-----------------------------------------------------
``huggingface_hub.constants`` reads ``HF_ENDPOINT`` (and ``HF_HOME``, ``HF_HUB_CACHE``,
``HF_HUB_OFFLINE``, ``HF_HUB_DISABLE_XET``, ...) once, at import time, so
``monkeypatch.setenv("HF_ENDPOINT", hub.url)`` alone only helps subprocesses.  In-process,
`use_endpoint` patches every place that captured the value:

* ``constants.ENDPOINT`` -- read at call time by ``HfApi()`` (new instances), ``hf_hub_url``,
  ``snapshot_download``...;
* ``constants.HUGGINGFACE_CO_URL_TEMPLATE`` -- the ``/resolve/`` URL template used by
  ``hf_hub_url`` (``hf_hub_download``); it embeds the endpoint *string*;
* ``huggingface_hub.hf_api.api.endpoint`` -- the module-level ``HfApi`` instance behind the
  top-level functions (``huggingface_hub.create_repo``, ``upload_folder``, ``model_info``...):
  it froze ``ENDPOINT`` when it was built;
* cache/token locations (``HF_HUB_CACHE``, ``HF_HOME``, ``HF_TOKEN_PATH``, ``HF_XET_CACHE``,
  ``HF_ASSETS_CACHE`` and the copies imported by ``utils._cache_manager``/``_cache_assets``),
  ``HF_HUB_OFFLINE=False``, ``HF_HUB_DISABLE_TELEMETRY=True``,
  ``HF_HUB_DISABLE_IMPLICIT_TOKEN=True`` (a developer's real token is never sent) and
  ``HF_HUB_DISABLE_XET=True`` (see below).  The environment variables are set as well, so
  subprocesses (CLI tests) see the same configuration; `client_env` returns them as a dict.

Toggle offline mode at runtime with
``monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)``.  Alternatively,
skip the monkeypatching and pass ``endpoint=hub.url`` (plus ``cache_dir=``) explicitly to
``HfApi``, ``hf_hub_download`` and ``snapshot_download``.

Xet
---
With ``hf_xet`` installed, huggingface_hub (2.4 here) uploads *every* file the server marks as
"lfs" through Xet storage, with no fallback: the choice is made client-side
(``_commit_api._upload_files`` -> ``utils._runtime.is_xet_available()``).  This server has
no Xet CAS: its Xet token endpoints answer 501.  Two ways to stay on plain HTTP:

* ``HF_HUB_DISABLE_XET`` on the client (`use_endpoint` does it) -> LFS files use the batch API
  with the "basic" transfer (``POST {repo}.git/info/lfs/objects/batch``, ``PUT``, verify);
* ``HubServer(lfs="never")`` -> preupload answers ``uploadMode: "regular"`` for every file, so
  everything travels inline (base64) in the commit call and Xet is never attempted.

Downloads never use Xet: responses carry no ``X-Xet-Hash`` header and trees no ``xetHash``.

Deliberate differences from the real Hub: committing to a branch that does not exist creates
it from ``main`` (``autocreate_branches=True``; the Hub answers ``RevisionNotFound``); there is
no access control beyond the optional ``require_token`` (401 for writes without a bearer
token); ``README.md`` metadata is not validated.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import importlib
import json
import os
import re
import secrets
import socket
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote

__all__ = [
    "DEFAULT_GITATTRIBUTES",
    "HubServer",
    "RequestRecord",
    "client_env",
    "hub_server",
    "use_endpoint",
]

# What the Hub puts in the `.gitattributes` of a new model repo (trimmed to the common lines).
DEFAULT_GITATTRIBUTES = """\
*.7z filter=lfs diff=lfs merge=lfs -text
*.arrow filter=lfs diff=lfs merge=lfs -text
*.bin filter=lfs diff=lfs merge=lfs -text
*.bz2 filter=lfs diff=lfs merge=lfs -text
*.ckpt filter=lfs diff=lfs merge=lfs -text
*.ftz filter=lfs diff=lfs merge=lfs -text
*.gz filter=lfs diff=lfs merge=lfs -text
*.h5 filter=lfs diff=lfs merge=lfs -text
*.joblib filter=lfs diff=lfs merge=lfs -text
*.lfs.* filter=lfs diff=lfs merge=lfs -text
*.mlmodel filter=lfs diff=lfs merge=lfs -text
*.model filter=lfs diff=lfs merge=lfs -text
*.msgpack filter=lfs diff=lfs merge=lfs -text
*.npy filter=lfs diff=lfs merge=lfs -text
*.npz filter=lfs diff=lfs merge=lfs -text
*.onnx filter=lfs diff=lfs merge=lfs -text
*.ot filter=lfs diff=lfs merge=lfs -text
*.parquet filter=lfs diff=lfs merge=lfs -text
*.pb filter=lfs diff=lfs merge=lfs -text
*.pickle filter=lfs diff=lfs merge=lfs -text
*.pkl filter=lfs diff=lfs merge=lfs -text
*.pt filter=lfs diff=lfs merge=lfs -text
*.pth filter=lfs diff=lfs merge=lfs -text
*.rar filter=lfs diff=lfs merge=lfs -text
*.safetensors filter=lfs diff=lfs merge=lfs -text
saved_model/**/* filter=lfs diff=lfs merge=lfs -text
*.tar.* filter=lfs diff=lfs merge=lfs -text
*.tar filter=lfs diff=lfs merge=lfs -text
*.tflite filter=lfs diff=lfs merge=lfs -text
*.tgz filter=lfs diff=lfs merge=lfs -text
*.wasm filter=lfs diff=lfs merge=lfs -text
*.xz filter=lfs diff=lfs merge=lfs -text
*.zip filter=lfs diff=lfs merge=lfs -text
*.zst filter=lfs diff=lfs merge=lfs -text
*tfevents* filter=lfs diff=lfs merge=lfs -text
"""

LFS_SIZE_THRESHOLD = 10 * 1024 * 1024  # the Hub refuses inline ("regular") files above 10 MB
_SHA1_RE = re.compile(r"[0-9a-f]{40}")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_API_ACTIONS = frozenset(
    {"revision", "tree", "preupload", "commit", "commits", "refs", "paths-info", "branch"}
    | {"xet-write-token", "xet-read-token", "discussions"}
)
_REPO_TYPES_PLURAL = {
    "models": "model",
    "datasets": "dataset",
    "spaces": "space",
    "kernels": "kernel",
}


class HubError(Exception):
    """An HTTP error answered as the Hub does: JSON body + ``X-Error-Code``/``X-Error-Message``."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class FileEntry:
    """One file of a commit's tree; content lives in the server's content store (by sha256)."""

    sha256: str
    size: int
    lfs: bool

    @property
    def pointer(self) -> bytes:
        return (
            f"version https://git-lfs.github.com/spec/v1\noid sha256:{self.sha256}\n"
            f"size {self.size}\n"
        ).encode()

    def git_oid(self, content: bytes) -> str:
        """The git blob id: of the content for regular files, of the LFS pointer for LFS files."""
        return _git_blob_sha1(self.pointer if self.lfs else content)


@dataclass
class Commit:
    sha: str
    parent: str | None
    summary: str
    description: str
    author: str
    date: str
    tree: dict[str, FileEntry]


@dataclass
class Repo:
    repo_id: str
    created_at: str
    private: bool = False
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)
    num_prs: int = 0


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str  # raw (percent-encoded) path, without the query string
    query: str
    headers: dict[str, str]  # lower-cased names


@dataclass
class _Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    truncate_to: int | None = None  # send only this many body bytes, then drop the connection


def _git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> _Response:
    return _Response(status=status, body=json.dumps(data).encode(), headers=dict(headers or {}))


def _lfs_patterns(gitattributes: bytes | None) -> list[str]:
    if not gitattributes:
        return []
    patterns = []
    for line in gitattributes.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) >= 2 and not parts[0].startswith("#") and "filter=lfs" in parts[1:]:
            patterns.append(parts[0])
    return patterns


def _matches(path: str, pattern: str) -> bool:
    """gitattributes/gitignore-style match: slash-less patterns match the basename."""
    pattern = pattern.lstrip("/")
    if pattern.endswith("/"):
        return path.startswith(pattern)
    if "/" not in pattern:
        return fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], pattern)
    return fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(
        path, pattern.replace("/**/", "/")
    )


class HubServer:
    """A Hub-compatible endpoint on ``127.0.0.1`` for tests (see the module docstring).

    Args:
        require_token: answer 401 to write requests (create/delete repo, preupload, commit, LFS
            batch/verify, branch) that carry no ``Authorization: Bearer ...`` header.  Any
            token value is accepted.
        username: namespace used by ``create_repo("name")`` and returned by ``whoami``.
        lfs: how preupload classifies files.  ``"auto"`` (like the Hub): LFS if the path
            matches an ``filter=lfs`` pattern of the revision's ``.gitattributes``, is >= 10 MB
            or looks binary (NUL byte in the 512-byte sample); ``"never"``: always "regular"
            (inline base64, never Xet); ``"always"``: LFS for every non-empty file.
        cdn_redirect: serve LFS files like the Hub does, with a 302 from ``/resolve/`` to a
            "CDN" URL on another origin (``http://localhost:<port>/_cdn/<sha256>``) carrying
            ``X-Linked-Etag``/``X-Linked-Size``.  Default: served directly with a 200.
        gitattributes: ``create_repo`` makes an initial commit with `DEFAULT_GITATTRIBUTES`,
            as the Hub does.  `add_repo` never adds it implicitly.
        autocreate_branches: committing to an unknown branch creates it from ``main``.

    Attributes (thread-safe): ``requests`` ``[(method, path)]``, ``records``
    (`RequestRecord`), ``errors`` (tracebacks of unexpected server errors, should stay empty).
    ``truncate_next_download = True`` (or ``truncate_downloads = n``) cuts the body of the
    next (n) ``/resolve/`` or CDN GET responses after ``truncate_keep_bytes`` bytes (default:
    half of the body) and closes the connection, although ``Content-Length`` announced all.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        require_token: bool = False,
        username: str = "user",
        lfs: str = "auto",
        cdn_redirect: bool = False,
        cdn_host: str = "localhost",
        gitattributes: bool = True,
        autocreate_branches: bool = True,
    ) -> None:
        if lfs not in ("auto", "never", "always"):
            raise ValueError(f"lfs must be 'auto', 'never' or 'always', got {lfs!r}")
        self.host = host
        self.port = port
        self.require_token = require_token
        self.username = username
        self.lfs = lfs
        self.cdn_redirect = cdn_redirect
        self.cdn_host = cdn_host
        self.gitattributes = gitattributes
        self.autocreate_branches = autocreate_branches
        self.truncate_downloads = 0
        self.truncate_keep_bytes: int | None = None
        self.errors: list[str] = []

        self._lock = threading.RLock()
        self._records: list[RequestRecord] = []
        self._repos: dict[str, Repo] = {}
        self._content: dict[str, bytes] = {}  # sha256 hex -> bytes (all file contents)
        self._lfs_objects: set[str] = set()  # sha256 of objects present in "LFS storage"
        self._pending_uploads: dict[str, tuple[str, int]] = {}  # nonce -> (oid, size)
        self._commit_counter = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> HubServer:
        if self._httpd is not None:
            return self
        hub = self

        class _Server(ThreadingHTTPServer):
            daemon_threads = True

            def process_request(self, request, client_address):
                with hub._lock:
                    hub._connections.add(request)
                super().process_request(request, client_address)

            def shutdown_request(self, request):
                with hub._lock:
                    hub._connections.discard(request)
                super().shutdown_request(request)

        class _Handler(_HubRequestHandler):
            server_obj = hub

        self._httpd = _Server((self.host, self.port), _Handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"HubServer:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # idle keep-alive connections of the client's pool
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("HubServer is not running (use `with HubServer() as hub:`)")
        return f"http://{self.host}:{self.port}"

    # ------------------------------------------------------------------ observability
    @property
    def requests(self) -> list[tuple[str, str]]:
        """Snapshot of the requests received so far, as ``(method, raw path)`` tuples."""
        with self._lock:
            return [(r.method, r.path) for r in self._records]

    @property
    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def reset_requests(self) -> None:
        with self._lock:
            self._records.clear()

    @property
    def truncate_next_download(self) -> bool:
        return self.truncate_downloads > 0

    @truncate_next_download.setter
    def truncate_next_download(self, value: bool) -> None:
        with self._lock:
            self.truncate_downloads = 1 if value else 0

    def _take_truncation(self, body_len: int) -> int | None:
        with self._lock:
            if self.truncate_downloads <= 0:
                return None
            self.truncate_downloads -= 1
            keep = self.truncate_keep_bytes
        keep = body_len // 2 if keep is None else keep
        return max(0, min(keep, body_len - 1)) if body_len else None

    # ------------------------------------------------------------------ direct access
    def add_repo(
        self,
        repo_id: str,
        files: Mapping[str, bytes],
        *,
        branch: str = "main",
        commit_message: str = "Add files",
        deletions: tuple[str, ...] = (),
    ) -> str:
        """Create ``repo_id`` if needed and commit ``files`` on ``branch``; return the sha.

        Files are added on top of the branch's current tree (nothing implicit such as a
        ``.gitattributes`` is added); LFS-ness follows the same rules as preupload.
        """
        with self._lock:
            repo = self._repos.get(repo_id)
            if repo is None:
                repo = self._repos[repo_id] = Repo(repo_id=repo_id, created_at=_now())
            parent = repo.branches.get(branch) or repo.branches.get("main")
            tree = dict(repo.commits[parent].tree) if parent else {}
            attrs = files.get(".gitattributes") or self._read(tree.get(".gitattributes"))
            for path in deletions:
                if tree.pop(path, None) is None:
                    raise KeyError(f"{path} not in {repo_id}@{branch}")
            for path, data in files.items():
                data = bytes(data)
                lfs = self._is_lfs(path, len(data), data[:512], attrs)
                tree[path] = self._store(data, lfs=lfs)
            return self._new_commit(repo, branch, parent, tree, commit_message, "")

    def repo_files(self, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        """What the server stores for ``repo_id`` at ``revision`` (branch or commit sha)."""
        with self._lock:
            commit = self._resolve(self._get_repo(repo_id), revision)
            return {path: self._content[e.sha256] for path, e in commit.tree.items()}

    def commit(self, repo_id: str, revision: str = "main") -> Commit:
        with self._lock:
            return self._resolve(self._get_repo(repo_id), revision)

    def branches(self, repo_id: str) -> dict[str, str]:
        with self._lock:
            return dict(self._get_repo(repo_id).branches)

    def lfs_entries(self, repo_id: str, revision: str = "main") -> set[str]:
        """Paths stored as LFS files at ``revision``."""
        with self._lock:
            commit = self._resolve(self._get_repo(repo_id), revision)
            return {path for path, e in commit.tree.items() if e.lfs}

    # ------------------------------------------------------------------ storage helpers
    def _store(self, data: bytes, *, lfs: bool) -> FileEntry:
        sha = hashlib.sha256(data).hexdigest()
        self._content[sha] = data
        if lfs:
            self._lfs_objects.add(sha)
        return FileEntry(sha256=sha, size=len(data), lfs=lfs)

    def _read(self, entry: FileEntry | None) -> bytes | None:
        return None if entry is None else self._content[entry.sha256]

    def _is_lfs(self, path: str, size: int, sample: bytes, gitattributes: bytes | None) -> bool:
        if size == 0 or self.lfs == "never":
            return False
        if self.lfs == "always" or size >= LFS_SIZE_THRESHOLD or b"\0" in sample:
            return True
        return any(_matches(path, p) for p in _lfs_patterns(gitattributes))

    def _new_commit(
        self,
        repo: Repo,
        branch: str,
        parent: str | None,
        tree: dict[str, FileEntry],
        summary: str,
        description: str,
    ) -> str:
        self._commit_counter += 1
        payload = json.dumps(
            {
                "repo": repo.repo_id,
                "parent": parent,
                "tree": sorted((p, e.sha256, e.lfs) for p, e in tree.items()),
                "summary": summary,
                "description": description,
                "n": self._commit_counter,
                "t": time.time_ns(),
            }
        )
        sha = hashlib.sha1(payload.encode()).hexdigest()
        repo.commits[sha] = Commit(
            sha=sha,
            parent=parent,
            summary=summary,
            description=description,
            author=self.username,
            date=_now(),
            tree=tree,
        )
        repo.branches[branch] = sha
        return sha

    def _get_repo(self, repo_id: str) -> Repo:
        repo = self._repos.get(repo_id)
        if repo is None:
            raise HubError(404, f"Repository not found: {repo_id}", "RepoNotFound")
        return repo

    def _resolve(self, repo: Repo, revision: str) -> Commit:
        sha = repo.branches.get(revision)
        if sha is None and _SHA1_RE.fullmatch(revision) and revision in repo.commits:
            sha = revision
        if sha is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return repo.commits[sha]

    # ------------------------------------------------------------------ request routing
    def _dispatch(
        self,
        method: str,
        raw_path: str,
        query: dict[str, list[str]],
        body: bytes,
        headers: Mapping[str, str],
    ) -> _Response:
        segs = raw_path.strip("/").split("/")
        authorized = headers.get("authorization", "").lower().startswith("bearer ")

        def need_token() -> None:
            if self.require_token and not authorized:
                raise HubError(401, "Invalid username or password.")

        if segs[0] == "api":
            return self._dispatch_api(method, segs[1:], query, body, need_token)
        if segs[0] == "_lfs" and len(segs) == 3 and segs[1] == "upload" and method == "PUT":
            return self._lfs_put(segs[2], query, body)
        if segs[0] == "_cdn" and len(segs) == 2 and method in ("GET", "HEAD"):
            with self._lock:
                data = self._content.get(segs[1])
            if data is None or segs[1] not in self._lfs_objects:
                raise HubError(404, "No such object")
            return self._file_response(data, {"ETag": f'"{segs[1]}"'}, headers, method)

        # Git LFS batch API: /{repo}.git/info/lfs/objects/(batch|verify)
        joined = "/".join(segs)
        m = re.fullmatch(
            r"(?:(datasets|spaces|kernels)/)?(.+)\.git/info/lfs/objects/(batch|verify)", joined
        )
        if m and method == "POST":
            if m.group(1):
                raise HubError(
                    404, "Only model repos are supported by this test Hub", "RepoNotFound"
                )
            need_token()
            repo_id = unquote(m.group(2))
            with self._lock:
                self._get_repo(repo_id)
            payload = _parse_json(body)
            if m.group(3) == "batch":
                return self._lfs_batch(payload, repo_id)
            return self._lfs_verify(payload)

        # /{repo_id}/resolve/{revision}/{path}
        if segs[0] in ("datasets", "spaces", "kernels"):
            raise HubError(404, "Only model repos are supported by this test Hub", "RepoNotFound")
        for n in (2, 1):
            if len(segs) > n + 2 and segs[n] == "resolve":
                if method not in ("GET", "HEAD"):
                    raise HubError(405, f"{method} not allowed on /resolve/")
                repo_id = "/".join(unquote(s) for s in segs[:n])
                revision = unquote(segs[n + 1])
                path = unquote("/".join(segs[n + 2 :]))
                return self._resolve_file(method, repo_id, revision, path, headers)
        raise HubError(404, f"Not found: {method} {raw_path}")

    def _dispatch_api(self, method, segs, query, body, need_token) -> _Response:
        if segs == ["whoami-v2"] and method == "GET":
            need_token()
            return _json(
                {
                    "type": "user",
                    "id": "0" * 24,
                    "name": self.username,
                    "fullname": self.username,
                    "email": None,
                    "orgs": [],
                    "auth": {
                        "type": "access_token",
                        "accessToken": {"displayName": "test", "role": "write"},
                    },
                }
            )
        if segs == ["validate-yaml"] and method == "POST":
            return _json({"errors": [], "warnings": []})
        if segs == ["repos", "create"] and method == "POST":
            need_token()
            return self._create_repo(_parse_json(body))
        if segs == ["repos", "delete"] and method == "DELETE":
            need_token()
            return self._delete_repo(_parse_json(body))
        if not segs or segs[0] not in _REPO_TYPES_PLURAL:
            raise HubError(404, f"Unknown API route: /api/{'/'.join(segs)}")
        if segs[0] != "models":
            raise HubError(
                404,
                f"Only model repos are supported by this test Hub, not "
                f"{_REPO_TYPES_PLURAL[segs[0]]} repos",
                "RepoNotFound",
            )
        rest = segs[1:]
        if len(rest) >= 3 and rest[2] in _API_ACTIONS:
            repo_parts, tail = rest[:2], rest[2:]
        elif len(rest) >= 2 and rest[1] in _API_ACTIONS:
            repo_parts, tail = rest[:1], rest[1:]
        elif 1 <= len(rest) <= 2:
            repo_parts, tail = rest, []
        else:
            raise HubError(404, f"Unknown API route: /api/{'/'.join(segs)}")
        repo_id = "/".join(unquote(p) for p in repo_parts)
        action = tail[0] if tail else None
        arg = unquote(tail[1]) if len(tail) > 1 else None
        extra = unquote("/".join(tail[2:])) if len(tail) > 2 else ""

        with self._lock:
            repo = self._get_repo(repo_id)
            if action is None and method == "GET":
                return self._model_info(repo, "main", query)
            if action == "revision" and arg is not None and method == "GET":
                return self._model_info(repo, unquote("/".join(tail[1:])), query)
            if action == "tree" and arg is not None and method == "GET":
                return self._tree(repo, arg, extra, query)
            if action == "paths-info" and arg is not None and method == "POST":
                return self._paths_info(repo, arg, body)
            if action == "commits" and arg is not None and method == "GET":
                return self._commits(repo, arg)
            if action == "refs" and method == "GET":
                return self._refs(repo, query)
            if action == "branch" and arg is not None and method in ("POST", "DELETE"):
                need_token()
                return self._branch(repo, unquote("/".join(tail[1:])), method, body)
            if action == "preupload" and arg is not None and method == "POST":
                need_token()
                return self._preupload(repo, arg, body)
            if action == "commit" and arg is not None and method == "POST":
                need_token()
                return self._commit(repo, arg, query, body)
            if action in ("xet-write-token", "xet-read-token"):
                raise HubError(
                    501,
                    "This test Hub has no Xet storage. Disable Xet on the client "
                    "(HF_HUB_DISABLE_XET=1 / huggingface_hub.constants.HF_HUB_DISABLE_XET = True,"
                    " done by tests/hubserver.py:use_endpoint) or start HubServer(lfs='never').",
                )
        raise HubError(404, f"Unknown API route: {method} /api/{'/'.join(segs)}")

    # ------------------------------------------------------------------ repos
    def _create_repo(self, payload: dict) -> _Response:
        repo_type = payload.get("type") or "model"
        if repo_type != "model":
            raise HubError(400, f"Only model repos are supported by this test Hub, not {repo_type}")
        name = payload.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[\w.\-]{1,96}", name):
            raise HubError(400, f"Invalid repo name: {name!r}")
        repo_id = f"{payload.get('organization') or self.username}/{name}"
        url = f"{self.url}/{repo_id}"
        with self._lock:
            if repo_id in self._repos:
                return _json({"error": "You already created this model repo", "url": url}, 409)
            repo = self._repos[repo_id] = Repo(
                repo_id=repo_id,
                created_at=_now(),
                private=payload.get("visibility") == "private" or bool(payload.get("private")),
            )
            tree = {}
            if self.gitattributes:
                tree[".gitattributes"] = self._store(DEFAULT_GITATTRIBUTES.encode(), lfs=False)
            self._new_commit(repo, "main", None, tree, "initial commit", "")
        return _json(
            {"url": url, "name": repo_id, "id": hashlib.sha1(repo_id.encode()).hexdigest()[:24]}
        )

    def _delete_repo(self, payload: dict) -> _Response:
        if (payload.get("type") or "model") != "model":
            raise HubError(404, "Only model repos are supported by this test Hub", "RepoNotFound")
        repo_id = f"{payload.get('organization') or self.username}/{payload.get('name')}"
        with self._lock:
            self._get_repo(repo_id)
            del self._repos[repo_id]
        return _json({})

    def _model_info(self, repo: Repo, revision: str, query) -> _Response:
        commit = self._resolve(repo, revision)
        blobs = query.get("blobs", ["false"])[0].lower() in ("1", "true")
        siblings = []
        for path in sorted(commit.tree):
            entry = commit.tree[path]
            sibling: dict[str, Any] = {"rfilename": path}
            if blobs:
                sibling.update(self._file_json(path, entry))
                sibling.pop("path")
                sibling.pop("type")
                sibling["blobId"] = sibling.pop("oid")
                if entry.lfs:
                    sibling["lfs"] = {
                        "sha256": entry.sha256,
                        "size": entry.size,
                        "pointerSize": len(entry.pointer),
                    }
            siblings.append(sibling)
        name = repo.repo_id.split("/")
        return _json(
            {
                "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
                "id": repo.repo_id,
                "modelId": repo.repo_id,
                "author": name[0] if len(name) == 2 else None,
                "sha": commit.sha,
                "lastModified": commit.date,
                "createdAt": repo.created_at,
                "private": repo.private,
                "gated": False,
                "disabled": False,
                "downloads": 0,
                "likes": 0,
                "tags": [],
                "library_name": None,
                "siblings": siblings,
                "spaces": [],
            }
        )

    def _file_json(self, path: str, entry: FileEntry) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": "file",
            "oid": entry.git_oid(self._content[entry.sha256]),
            "size": entry.size,
            "path": path,
        }
        if entry.lfs:
            data["lfs"] = {
                "oid": entry.sha256,
                "size": entry.size,
                "pointerSize": len(entry.pointer),
            }
        return data

    def _folder_json(self, path: str, tree: dict[str, FileEntry]) -> dict[str, Any]:
        prefix = path + "/"
        listing = sorted((p, e.sha256) for p, e in tree.items() if p.startswith(prefix))
        oid = hashlib.sha1(json.dumps(listing).encode()).hexdigest()
        return {"type": "directory", "oid": oid, "size": 0, "path": path}

    def _tree(self, repo: Repo, revision: str, path: str, query) -> _Response:
        commit = self._resolve(repo, revision)
        recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
        path = path.strip("/")
        if path and path in commit.tree:
            raise HubError(404, f"{path} is a file, not a directory", "EntryNotFound")
        prefix = path + "/" if path else ""
        files: dict[str, FileEntry] = {}
        folders: set[str] = set()
        for p, entry in commit.tree.items():
            if not p.startswith(prefix):
                continue
            rel = p[len(prefix) :].split("/")
            if recursive:
                files[p] = entry
                for i in range(1, len(rel)):
                    folders.add(prefix + "/".join(rel[:i]))
            elif len(rel) == 1:
                files[p] = entry
            else:
                folders.add(prefix + rel[0])
        if path and not files and not folders:
            raise HubError(404, f"{path} does not exist on {revision}", "EntryNotFound")
        items = [self._folder_json(f, commit.tree) for f in sorted(folders)]
        items += [self._file_json(p, files[p]) for p in sorted(files)]
        return _json(items)

    def _paths_info(self, repo: Repo, revision: str, body: bytes) -> _Response:
        commit = self._resolve(repo, revision)
        form = parse_qs(body.decode())
        items = []
        for path in form.get("paths", []):
            path = path.strip("/")
            if path in commit.tree:
                items.append(self._file_json(path, commit.tree[path]))
            elif any(p.startswith(path + "/") for p in commit.tree):
                items.append(self._folder_json(path, commit.tree))
        return _json(items)

    def _commits(self, repo: Repo, revision: str) -> _Response:
        commit: Commit | None = self._resolve(repo, revision)
        items = []
        while commit is not None:
            items.append(
                {
                    "id": commit.sha,
                    "title": commit.summary,
                    "message": commit.description,
                    "authors": [{"user": commit.author, "avatar": None}],
                    "date": commit.date,
                    "parents": [commit.parent] if commit.parent else [],
                }
            )
            commit = repo.commits.get(commit.parent) if commit.parent else None
        return _json(items)

    def _refs(self, repo: Repo, query) -> _Response:
        def ref(name: str, sha: str) -> dict[str, str]:
            full = name if name.startswith("refs/") else f"refs/heads/{name}"
            return {"name": name, "ref": full, "targetCommit": sha}

        branches = [ref(n, s) for n, s in repo.branches.items() if not n.startswith("refs/pr/")]
        data: dict[str, Any] = {"branches": branches, "tags": [], "converts": []}
        if query.get("include_prs"):
            data["pullRequests"] = [
                ref(n, s) for n, s in repo.branches.items() if n.startswith("refs/pr/")
            ]
        return _json(data)

    def _branch(self, repo: Repo, branch: str, method: str, body: bytes) -> _Response:
        if method == "DELETE":
            if branch == "main" or branch not in repo.branches:
                raise HubError(
                    404 if branch != "main" else 403,
                    f"Cannot delete branch {branch}",
                    "RevisionNotFound" if branch != "main" else None,
                )
            del repo.branches[branch]
            return _json({})
        if branch in repo.branches:
            raise HubError(409, f"Reference already exists: refs/heads/{branch}")
        payload = _parse_json(body) if body else {}
        start = payload.get("startingPoint") or "main"
        repo.branches[branch] = self._resolve(repo, start).sha
        return _json({})

    # ------------------------------------------------------------------ uploads
    def _target(self, repo: Repo, revision: str, create_pr: bool) -> Commit | None:
        """Head commit a commit on ``revision`` builds upon (None: new branch from nothing)."""
        if revision in repo.branches:
            return repo.commits[repo.branches[revision]]
        if _SHA1_RE.fullmatch(revision):
            if create_pr and revision in repo.commits:
                return repo.commits[revision]
            raise HubError(400, f"Cannot commit to a commit sha ({revision}): use a branch")
        if self.autocreate_branches and not create_pr and not revision.startswith("refs/"):
            main = repo.branches.get("main")
            return repo.commits[main] if main else None
        raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")

    def _preupload(self, repo: Repo, revision: str, body: bytes) -> _Response:
        head = self._target(repo, revision, create_pr=False)
        tree = head.tree if head else {}
        payload = _parse_json(body)
        files = payload.get("files")
        if not isinstance(files, list):
            raise HubError(400, "preupload: 'files' must be a list")
        attrs = self._read(tree.get(".gitattributes"))
        ignore = payload.get("gitIgnore")
        if ignore is None:
            ignore = (self._read(tree.get(".gitignore")) or b"").decode("utf-8", "replace")
        ignore_patterns = [
            line.strip()
            for line in ignore.splitlines()
            if line.strip() and not line.strip().startswith(("#", "!"))
        ]
        out = []
        for f in files:
            path, size = f.get("path"), f.get("size")
            if not isinstance(path, str) or not isinstance(size, int):
                raise HubError(400, f"preupload: malformed file entry {f!r}")
            sample = base64.b64decode(f.get("sample") or "")
            lfs = self._is_lfs(path, size, sample, attrs)
            remote = tree.get(path)
            oid = None
            if remote is not None and remote.lfs == lfs:
                # what the client compares with its `_local_oid`: sha256 for LFS, git sha1 else
                oid = remote.sha256 if lfs else remote.git_oid(self._content[remote.sha256])
            out.append(
                {
                    "path": path,
                    "uploadMode": "lfs" if lfs else "regular",
                    "shouldIgnore": any(_matches(path, p) for p in ignore_patterns),
                    "oid": oid,
                }
            )
        return _json({"files": out, "commitOid": head.sha if head else None})

    def _lfs_batch(self, payload: dict, repo_id: str) -> _Response:
        operation = payload.get("operation")
        transfers = payload.get("transfers") or ["basic"]
        if "basic" not in transfers:
            raise HubError(400, f"Only the 'basic' LFS transfer is supported, got {transfers}")
        objects = payload.get("objects")
        if operation not in ("upload", "download") or not isinstance(objects, list):
            raise HubError(400, "Malformed LFS batch request")
        out = []
        with self._lock:
            for obj in objects:
                oid, size = obj.get("oid"), obj.get("size")
                if (
                    not isinstance(oid, str)
                    or not _SHA256_RE.fullmatch(oid)
                    or not isinstance(size, int)
                ):
                    raise HubError(400, f"Malformed LFS object {obj!r}")
                present = oid in self._lfs_objects and len(self._content[oid]) == size
                item: dict[str, Any] = {"oid": oid, "size": size, "authenticated": True}
                if operation == "download":
                    if present:
                        item["actions"] = {"download": {"href": f"{self.url}/_cdn/{oid}"}}
                    else:
                        item["error"] = {"code": 404, "message": "Object does not exist"}
                elif not present:
                    nonce = secrets.token_hex(16)
                    self._pending_uploads[nonce] = (oid, size)
                    item["actions"] = {
                        "upload": {"href": f"{self.url}/_lfs/upload/{oid}?token={nonce}"},
                        "verify": {
                            "href": f"{self.url}/{quote(repo_id)}.git/info/lfs/objects/verify"
                        },
                    }
                out.append(item)
        return _Response(
            body=json.dumps({"transfer": "basic", "objects": out, "hash_algo": "sha256"}).encode(),
            content_type="application/vnd.git-lfs+json",
        )

    def _lfs_put(self, oid: str, query, body: bytes) -> _Response:
        nonce = query.get("token", [""])[0]
        with self._lock:
            pending = self._pending_uploads.get(nonce)
            if pending is None or pending[0] != oid:
                raise HubError(403, "Invalid or expired upload URL")
            size = pending[1]
        if len(body) != size:
            raise HubError(400, f"Size mismatch: expected {size} bytes, got {len(body)}")
        if hashlib.sha256(body).hexdigest() != oid:
            raise HubError(400, "Content does not match its sha256 oid")
        with self._lock:
            self._pending_uploads.pop(nonce, None)
            self._store(body, lfs=True)
        return _Response(status=200, content_type="text/plain")

    def _lfs_verify(self, payload: dict) -> _Response:
        oid, size = payload.get("oid"), payload.get("size")
        with self._lock:
            ok = oid in self._lfs_objects and len(self._content[oid]) == size
        if not ok:
            raise HubError(404, f"LFS object {oid} (size {size}) was not uploaded")
        return _json({"success": True})

    def _commit(self, repo: Repo, revision: str, query, body: bytes) -> _Response:
        create_pr = query.get("create_pr", ["0"])[0] in ("1", "true", "True")
        head = self._target(repo, revision, create_pr)
        try:
            lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        except ValueError as e:
            raise HubError(400, f"Commit payload is not valid NDJSON: {e}") from e
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "The first line of a commit payload must be the 'header'")
        header = lines[0].get("value") or {}
        summary = header.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            raise HubError(400, "Commit summary (commit_message) is required")
        parent_commit = header.get("parentCommit")
        if parent_commit is not None and (head is None or parent_commit != head.sha):
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        tree = dict(head.tree) if head else {}
        for line in lines[1:]:
            key, value = line.get("key"), line.get("value") or {}
            path = value.get("path")
            if (
                not isinstance(path, str)
                or not path
                or path.startswith("/")
                or ".." in path.split("/")
            ):
                raise HubError(400, f"Invalid path in commit operation: {path!r}")
            if key == "file":
                if value.get("encoding", "base64") != "base64":
                    raise HubError(400, f"Unsupported encoding {value.get('encoding')!r}")
                tree[path] = self._store(base64.b64decode(value.get("content", "")), lfs=False)
            elif key == "lfsFile":
                oid = value.get("oid")
                if value.get("algo", "sha256") != "sha256" or oid not in self._lfs_objects:
                    raise HubError(400, f"LFS object {oid} for {path} was never uploaded")
                if value.get("size") is not None and value["size"] != len(self._content[oid]):
                    raise HubError(400, f"Size mismatch for LFS file {path}")
                tree[path] = FileEntry(sha256=oid, size=len(self._content[oid]), lfs=True)
            elif key == "deletedFile":
                if tree.pop(path, None) is None:
                    raise HubError(
                        404, f"A file with this name doesn't exist: {path}", "EntryNotFound"
                    )
            elif key == "deletedFolder":
                prefix = path.rstrip("/") + "/"
                doomed = [p for p in tree if p.startswith(prefix)]
                if not doomed:
                    raise HubError(
                        404, f"A folder with this name doesn't exist: {path}", "EntryNotFound"
                    )
                for p in doomed:
                    del tree[p]
            else:
                raise HubError(400, f"Unknown commit operation {key!r}")
        pr_url = None
        branch = revision
        if create_pr:
            repo.num_prs += 1
            branch = f"refs/pr/{repo.num_prs}"
            pr_url = f"{self.url}/{repo.repo_id}/discussions/{repo.num_prs}"
        sha = self._new_commit(
            repo, branch, head.sha if head else None, tree, summary, header.get("description") or ""
        )
        return _json(
            {
                "success": True,
                "commitOid": sha,
                "commitUrl": f"{self.url}/{repo.repo_id}/commit/{sha}",
                "hookOutput": "",
                "pullRequestUrl": pr_url,
            }
        )

    # ------------------------------------------------------------------ downloads
    def _resolve_file(self, method, repo_id, revision, path, headers) -> _Response:
        with self._lock:
            commit = self._resolve(self._get_repo(repo_id), revision)
            entry = commit.tree.get(path)
            if entry is None:
                raise HubError(
                    404, f"Entry not found: {path}", "EntryNotFound", {"X-Repo-Commit": commit.sha}
                )
            data = self._content[entry.sha256]
        extra = {"X-Repo-Commit": commit.sha, "ETag": f'"{entry.git_oid(data)}"'}
        if entry.lfs:
            extra.update({"X-Linked-Etag": f'"{entry.sha256}"', "X-Linked-Size": str(entry.size)})
            if self.cdn_redirect:
                extra["Location"] = f"http://{self.cdn_host}:{self.port}/_cdn/{entry.sha256}"
                return _json({"redirect": extra["Location"]}, 302, extra)
        return self._file_response(data, extra, headers, method)

    def _file_response(self, data: bytes, extra: dict[str, str], headers, method) -> _Response:
        extra = {**extra, "Accept-Ranges": "bytes"}
        size = len(data)
        rng = headers.get("range")
        status = 200
        if rng:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
            if not m or (not m.group(1) and not m.group(2)):
                raise HubError(
                    416, f"Unsupported Range {rng!r}", headers={"Content-Range": f"bytes */{size}"}
                )
            if m.group(1):
                start = int(m.group(1))
                end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            else:  # suffix range: last N bytes
                start, end = max(0, size - int(m.group(2))), size - 1
            if start >= size or start > end:
                raise HubError(
                    416,
                    f"Range {rng!r} not satisfiable",
                    headers={"Content-Range": f"bytes */{size}"},
                )
            data = data[start : end + 1]
            extra["Content-Range"] = f"bytes {start}-{end}/{size}"
            status = 206
        response = _Response(status, data, extra, "application/octet-stream")
        if method == "GET":
            response.truncate_to = self._take_truncation(len(data))
        return response


def _parse_json(body: bytes) -> dict:
    try:
        data = json.loads(body or b"{}")
    except ValueError as e:
        raise HubError(400, f"Invalid JSON body: {e}") from e
    if not isinstance(data, dict):
        raise HubError(400, "JSON body must be an object")
    return data


class _HubRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real Hub (client uses a pooled session)
    server_obj: HubServer
    timeout = 60

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr logging
        pass

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self, method: str) -> None:
        hub = self.server_obj
        raw_path, _, query_string = self.path.partition("?")
        headers = {k.lower(): v for k, v in self.headers.items()}
        with hub._lock:
            hub._records.append(RequestRecord(method, raw_path, query_string, headers))
        body = self._read_body() if method in ("POST", "PUT", "DELETE", "PATCH") else b""
        try:
            response = hub._dispatch(method, raw_path, parse_qs(query_string), body, headers)
        except HubError as e:
            response = _json({"error": e.message}, e.status, e.headers)
            if e.code:
                response.headers["X-Error-Code"] = e.code
            response.headers["X-Error-Message"] = e.message
        except Exception:
            tb = traceback.format_exc()
            with hub._lock:
                hub.errors.append(tb)
            response = _json({"error": f"Internal test-server error:\n{tb}"}, 500)
        self._send(method, response)

    def _send(self, method: str, r: _Response) -> None:
        self.send_response(r.status)
        self.send_header("Content-Type", r.content_type)
        self.send_header("Content-Length", str(len(r.body)))
        self.send_header("X-Request-Id", secrets.token_hex(8))
        for key, value in r.headers.items():
            self.send_header(key, value)
        if r.truncate_to is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        if method == "HEAD":
            return
        if r.truncate_to is not None:
            self.wfile.write(r.body[: r.truncate_to])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(r.body)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")


@contextmanager
def hub_server(**kwargs: Any) -> Iterator[HubServer]:
    """``with hub_server() as hub:`` -- a started `HubServer`, stopped on exit."""
    with HubServer(**kwargs) as hub:
        yield hub


def client_env(
    url: str, cache_dir: str | os.PathLike[str], *, disable_xet: bool = True
) -> dict[str, str]:
    """Environment variables pointing a *fresh* huggingface_hub process at ``url``.

    ``cache_dir`` becomes ``HF_HUB_CACHE``; ``HF_HOME`` is its sibling ``hf-home`` directory (so
    no real token / config of the developer is read).
    """
    cache_dir = Path(cache_dir)
    home = cache_dir.parent / "hf-home"
    env = {
        "HF_ENDPOINT": url,
        "HF_HOME": str(home),
        "HF_HUB_CACHE": str(cache_dir),
        "HF_XET_CACHE": str(home / "xet"),
        "HF_ASSETS_CACHE": str(home / "assets"),
        "HF_TOKEN_PATH": str(home / "token"),
        "HF_HUB_OFFLINE": "0",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_HUB_DISABLE_UPDATE_CHECK": "1",
    }
    if disable_xet:
        env["HF_HUB_DISABLE_XET"] = "1"
    return env


def use_endpoint(
    monkeypatch: Any,
    url: str,
    cache_dir: str | os.PathLike[str],
    *,
    disable_xet: bool = True,
) -> None:
    """Point the already-imported huggingface_hub (and subprocesses) at ``url``.

    Uses pytest's ``monkeypatch`` so everything is restored after the test.  ``cache_dir``
    becomes the hub cache (``HF_HUB_CACHE``); ``HF_HOME`` goes to a sibling ``hf-home``
    directory.  Implicit tokens, telemetry and (by default) Xet are disabled; offline mode is
    switched off.  Pass ``token="..."`` explicitly where a token is needed.
    """
    from huggingface_hub import constants, hf_api
    from huggingface_hub.utils import _cache_assets, _cache_manager

    # `huggingface_hub.utils.tqdm` the attribute is the class; the module is shadowed
    hf_tqdm = importlib.import_module("huggingface_hub.utils.tqdm")

    url = url.rstrip("/")
    env = client_env(url, cache_dir, disable_xet=disable_xet)
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    home = Path(env["HF_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    Path(cache_dir).mkdir(parents=True, exist_ok=True)

    monkeypatch.setattr(constants, "ENDPOINT", url)
    monkeypatch.setattr(
        constants, "HUGGINGFACE_CO_URL_TEMPLATE", url + "/{repo_id}/resolve/{revision}/{filename}"
    )
    monkeypatch.setattr(hf_api.api, "endpoint", url)  # singleton behind the top-level functions
    paths = {
        "HF_HOME": str(home),
        "HF_HUB_CACHE": str(cache_dir),
        "HUGGINGFACE_HUB_CACHE": str(cache_dir),
        "HF_XET_CACHE": env["HF_XET_CACHE"],
        "HF_ASSETS_CACHE": env["HF_ASSETS_CACHE"],
        "HF_TOKEN_PATH": env["HF_TOKEN_PATH"],
        "HF_STORED_TOKENS_PATH": str(home / "stored_tokens"),
    }
    for name, value in paths.items():
        if hasattr(constants, name):
            monkeypatch.setattr(constants, name, value)
    monkeypatch.setattr(_cache_manager, "HF_HUB_CACHE", str(cache_dir))
    monkeypatch.setattr(_cache_assets, "HF_ASSETS_CACHE", env["HF_ASSETS_CACHE"])
    monkeypatch.setattr(hf_tqdm, "HF_HUB_DISABLE_PROGRESS_BARS", True)  # quiet test output
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_IMPLICIT_TOKEN", True)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_UPDATE_CHECK", True)
    if disable_xet:
        monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
