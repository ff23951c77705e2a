"""The local Hub test server, exercised only through huggingface_hub's own client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationDelete,
    HfApi,
    constants,
    hf_hub_download,
    snapshot_download,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tests.hub.hubserver import HubServer, client_env, use_endpoint

pytestmark = [
    # huggingface_hub's LFS PUT passes a file object as `data=`, which httpx2 deprecates
    pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning"),
    # the shared `hub` fixture (tests/conftest.py) also asserts `server.errors == []`
    pytest.mark.strict_hub,
]

TOKEN = "hf_test_token"
REPO = "user/tiny-net"


def _model_folder(root: Path) -> Path:
    import torch
    from safetensors.torch import save_file

    folder = root / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"arch": "tiny", "num_classes": 10}))
    (folder / "README.md").write_text("---\nlicense: apache-2.0\n---\n# tiny-net\n")
    save_file({"fc.weight": torch.randn(50, 1000)}, str(folder / "model.safetensors"))
    assert 190_000 < (folder / "model.safetensors").stat().st_size < 210_000
    return folder


def _upload(api: HfApi, folder: Path, message: str = "Upload tiny-net") -> str:
    api.create_repo(REPO, token=TOKEN, exist_ok=True)
    return api.upload_folder(
        repo_id=REPO, folder_path=folder, commit_message=message, token=TOKEN
    ).oid


def test_upload_folder_then_download(hub, tmp_path):
    folder = _model_folder(tmp_path)
    api = HfApi()
    assert api.create_repo(REPO, token=TOKEN).repo_id == REPO
    with pytest.raises(HfHubHTTPError) as exc:  # already exists: 409 (exist_ok=False)
        api.create_repo(REPO, token=TOKEN)
    assert exc.value.response.status_code == 409
    sha = _upload(api, folder)  # create_repo(exist_ok=True) then upload_folder

    assert len(sha) == 40 and hub.branches(REPO)["main"] == sha
    assert hub.lfs_entries(REPO) == {"model.safetensors"}  # config/README went inline
    paths = [p for _, p in hub.requests]
    assert f"/{REPO}.git/info/lfs/objects/batch" in paths
    assert any(p.startswith("/_lfs/upload/") for p in paths)  # basic transfer: PUT of the bytes

    info = api.model_info(REPO, files_metadata=True)
    assert info.sha == sha
    siblings = {s.rfilename: s for s in info.siblings}
    assert set(siblings) == {".gitattributes", "config.json", "README.md", "model.safetensors"}
    st = siblings["model.safetensors"]
    assert st.lfs is not None and st.lfs.size == (folder / "model.safetensors").stat().st_size

    snap = Path(snapshot_download(REPO, cache_dir=tmp_path / "fresh-cache"))
    assert snap.name == sha
    for name in ("config.json", "README.md", "model.safetensors"):
        assert (snap / name).read_bytes() == (folder / name).read_bytes()

    for revision in (sha, "main"):
        path = hf_hub_download(REPO, "model.safetensors", revision=revision)
        assert Path(path).read_bytes() == (folder / "model.safetensors").read_bytes()
        assert f"/snapshots/{sha}/" in Path(path).as_posix()

    local = hf_hub_download(REPO, "config.json", local_dir=tmp_path / "out")
    assert Path(local).read_bytes() == (folder / "config.json").read_bytes()

    from safetensors.torch import load_file

    assert load_file(path)["fc.weight"].shape == (50, 1000)


def test_new_commit_keeps_old_revision(hub, tmp_path):
    folder = _model_folder(tmp_path)
    api = HfApi()
    first = _upload(api, folder)
    old_config = (folder / "config.json").read_bytes()
    (folder / "config.json").write_text(json.dumps({"arch": "tiny", "num_classes": 3}))
    hub.reset_requests()
    second = _upload(api, folder, message="Fewer classes")

    assert second != first
    # the LFS object is already stored: the batch API answers without an upload action
    assert not any(p.startswith("/_lfs/upload/") for _, p in hub.requests)
    new_config = (folder / "config.json").read_bytes()
    assert Path(hf_hub_download(REPO, "config.json", revision=first)).read_bytes() == old_config
    assert Path(hf_hub_download(REPO, "config.json")).read_bytes() == new_config
    assert hub.repo_files(REPO, first)["config.json"] == old_config

    commits = api.list_repo_commits(REPO)
    assert [c.commit_id for c in commits[:2]] == [second, first]
    assert commits[0].title == "Fewer classes"
    assert hub.commit(REPO, second).parent == first

    # create_commit on another branch (created from main), with a deletion
    dev = api.create_commit(
        REPO,
        operations=[
            CommitOperationAdd("notes.txt", b"dev only\n"),
            CommitOperationDelete("README.md"),
        ],
        commit_message="dev work",
        revision="dev",
        token=TOKEN,
    ).oid
    assert set(api.list_repo_files(REPO, revision="dev")) == {
        ".gitattributes",
        "config.json",
        "model.safetensors",
        "notes.txt",
    }
    assert "notes.txt" not in api.list_repo_files(REPO)
    assert {b.name: b.target_commit for b in api.list_repo_refs(REPO).branches} == {
        "main": second,
        "dev": dev,
    }


def test_errors_map_to_client_exceptions(hub):
    sha = hub.add_repo(REPO, {"config.json": b"{}"})
    api = HfApi()
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("user/missing", "config.json")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("user/missing")
    with pytest.raises(RepositoryNotFoundError):  # only model repos exist
        hf_hub_download(REPO, "config.json", repo_type="dataset")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(REPO, "missing.bin")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(REPO, "missing.bin", revision=sha)
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(REPO, "config.json", revision="no-such-branch")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(REPO, "config.json", revision="0" * 40)
    with pytest.raises(RevisionNotFoundError):
        snapshot_download(REPO, revision="no-such-branch")
    with pytest.raises(RevisionNotFoundError):
        api.model_info(REPO, revision="no-such-branch")


def test_offline_mode_is_served_from_cache_without_requests(hub, monkeypatch):
    hub.add_repo(REPO, {"config.json": b'{"a": 1}', "model.safetensors": os.urandom(4096)})
    online = hf_hub_download(REPO, "model.safetensors")
    snap = snapshot_download(REPO)
    before = len(hub.requests)

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert hf_hub_download(REPO, "model.safetensors") == online
    assert snapshot_download(REPO) == snap
    assert len(hub.requests) == before


def test_truncated_download_is_resumed_with_range(hub):
    # huggingface_hub only writes 10 MB chunks, so a resume needs more than 10 MB received
    data = os.urandom(12 * 1024 * 1024)
    hub.add_repo(REPO, {"model.safetensors": data})
    hub.truncate_next_download = True
    hub.truncate_keep_bytes = 11 * 1024 * 1024
    path = hf_hub_download(REPO, "model.safetensors")
    assert Path(path).read_bytes() == data
    gets = [r for r in hub.records if r.method == "GET"]
    assert len(gets) == 2
    assert gets[1].headers.get("range") == f"bytes={10 * 1024 * 1024}-"


def test_interrupted_download_raises_and_leaves_no_partial_blob(hub, tmp_path):
    data = os.urandom(200_000)
    hub.add_repo(REPO, {"model.safetensors": data})
    hub.truncate_downloads = 100  # every attempt dies: the client retries, then gives up
    hub.truncate_keep_bytes = 0
    cache = tmp_path / "interrupted-cache"
    # the client retries 5 times (1 s apart) before re-raising httpx's RemoteProtocolError
    with pytest.raises(Exception, match="peer closed connection"):
        hf_hub_download(REPO, "model.safetensors", cache_dir=cache)
    assert len(hub.requests) == 1 + 6  # HEAD + 6 truncated GETs
    storage = cache / "models--user--tiny-net"
    assert [p.name for p in (storage / "blobs").iterdir()] == []  # no partial / .incomplete
    assert not any(p.is_file() for p in (storage / "snapshots").rglob("*"))

    hub.truncate_downloads = 0
    path = hf_hub_download(REPO, "model.safetensors", cache_dir=cache)
    assert Path(path).read_bytes() == data


def test_regular_only_server_avoids_xet(tmp_path, monkeypatch):
    with HubServer(lfs="never") as server:
        use_endpoint(monkeypatch, server.url, tmp_path / "cache", disable_xet=False)
        api = HfApi(token=TOKEN)
        api.create_repo(REPO)
        blob = os.urandom(3000)
        api.upload_file(path_or_fileobj=blob, path_in_repo="w.safetensors", repo_id=REPO)
        assert server.repo_files(REPO)["w.safetensors"] == blob
        assert server.lfs_entries(REPO) == set()
        assert not any("xet" in p or "lfs" in p for _, p in server.requests)
        assert server.errors == []


def test_top_level_functions_and_tokens(tmp_path, monkeypatch):
    import huggingface_hub

    with HubServer(require_token=True, cdn_redirect=True) as server:
        use_endpoint(monkeypatch, server.url, tmp_path / "cache")
        with pytest.raises(HfHubHTTPError) as exc:
            huggingface_hub.create_repo(REPO)  # implicit tokens are disabled
        assert exc.value.response.status_code == 401
        # module-level functions use the `huggingface_hub.hf_api.api` singleton
        huggingface_hub.create_repo(REPO, token=TOKEN)
        blob = os.urandom(5000)
        huggingface_hub.upload_file(
            path_or_fileobj=blob, path_in_repo="weights.bin", repo_id=REPO, token=TOKEN
        )
        assert server.lfs_entries(REPO) == {"weights.bin"}
        server.reset_requests()
        path = hf_hub_download(REPO, "weights.bin", token=TOKEN)
        assert Path(path).read_bytes() == blob
        head, get = server.records
        # LFS files: 302 to a "CDN" on another origin, which gets no Authorization header
        assert head.method == "HEAD" and head.headers["authorization"] == f"Bearer {TOKEN}"
        assert get.path.startswith("/_cdn/") and "authorization" not in get.headers
        assert server.errors == []


def test_client_env_for_subprocesses(tmp_path):
    with HubServer() as server:
        server.add_repo(REPO, {"config.json": b'{"fresh": true}'})
        env = {**os.environ, **client_env(server.url, tmp_path / "cache")}
        env.pop("HF_TOKEN", None)
        code = (
            "from huggingface_hub import hf_hub_download;"
            f"print(open(hf_hub_download({REPO!r}, 'config.json')).read())"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == '{"fresh": true}'
        assert ("GET", f"/{REPO}/resolve/main/config.json") in server.requests
        assert (tmp_path / "cache" / "models--user--tiny-net").is_dir()
