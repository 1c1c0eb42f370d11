"""Drives the local Hub-compatible server with the official huggingface_hub client.

Run through `cargo test -p hub-server --test python_client`, which runs it once per transfer
mode of the client (HUB_TEST_TRANSFER: "xet", the default with hf_xet installed, and "lfs",
with HF_HUB_DISABLE_XET=1), each time against two fresh servers (one plain, one whose LFS
downloads redirect to another port), and sets:
  HF_ENDPOINT, HF_TOKEN, HF_HOME/HF_HUB_CACHE/HF_XET_CACHE (temp dirs), HUB_TEST_TRANSFER,
  HUB_TEST_REDIRECT_ENDPOINT, HUB_TEST_MULTIPART_THRESHOLD, HUB_TEST_TREE_PAGE_SIZE.
Every download is checked byte for byte with sha256.
"""

import hashlib
import json
import os
import urllib.error
import urllib.request
import uuid

import pytest

import hf_xet
import huggingface_hub
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationCopy,
    CommitOperationDelete,
    HfApi,
    hf_hub_download,
    snapshot_download,
)
from huggingface_hub.errors import (
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)


def _env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: run this suite through "
            "`cargo test -p hub-server --test python_client`, which starts the server"
        )
    return value


ENDPOINT = os.environ.get("HF_ENDPOINT", "")
TOKEN = os.environ.get("HF_TOKEN", "")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def xet_hash(data: bytes, tmp_path) -> str:
    """The Xet file hash of `data`, as the official implementation computes it."""
    path = tmp_path / f"xet-hash-{uuid.uuid4().hex[:8]}"
    path.write_bytes(data)
    return hf_xet.hash_files([str(path)])[0].hash


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def pseudo_random(n: int, seed: int) -> bytes:
    """Deterministic incompressible bytes (sha256 in counter mode)."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%d:%d" % (seed, i)).digest()
        i += 1
    return bytes(out[:n])


MODE = os.environ.get("HUB_TEST_TRANSFER", "")


@pytest.fixture(scope="session")
def api():
    assert _env("HF_ENDPOINT") == huggingface_hub.constants.ENDPOINT
    from huggingface_hub.utils._runtime import is_xet_available

    if _env("HUB_TEST_TRANSFER") == "lfs":
        assert os.environ.get("HF_HUB_DISABLE_XET") == "1"
        # hf_xet is installed with huggingface_hub; the switch must keep every transfer on LFS.
        assert huggingface_hub.constants.HF_HUB_DISABLE_XET is True
        assert is_xet_available() is False
    else:
        assert MODE == "xet", f"unknown transfer mode {MODE!r}: use xet or lfs"
        # As people install it: hf_xet present and nothing switching it off.
        assert "HF_HUB_DISABLE_XET" not in os.environ
        assert huggingface_hub.constants.HF_HUB_DISABLE_XET is False
        assert is_xet_available() is True
        assert _env("HF_XET_CACHE")
    assert "HUGGINGFACE_CO_STAGING" not in os.environ
    return HfApi(endpoint=ENDPOINT, token=_env("HF_TOKEN"))


@pytest.fixture(scope="session")
def user(api):
    return api.whoami()["name"]


@pytest.fixture
def repo(api, user):
    repo_id = f"{user}/t-{uuid.uuid4().hex[:10]}"
    api.create_repo(repo_id)
    yield repo_id
    api.delete_repo(repo_id, missing_ok=True)


def head_commit(api, repo_id, rev="main"):
    return api.model_info(repo_id, revision=rev).sha


def raw(method, url, body=None, headers=None, token=True):
    """A plain HTTP request (stdlib only): returns (status, headers, body bytes)."""
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {TOKEN}"
    data = json.dumps(body).encode() if body is not None else None
    if data is not None:
        headers.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_whoami(api, user):
    info = api.whoami()
    assert info["name"] == user == "local"
    assert info["auth"]["accessToken"]["role"] == "write"
    with pytest.raises(HfHubHTTPError) as e:
        HfApi(endpoint=ENDPOINT, token="hf_wrong").whoami()
    assert e.value.response.status_code == 401


def test_create_repo_conflict_and_exist_ok(api, user):
    repo_id = f"{user}/created-{uuid.uuid4().hex[:8]}"
    url = api.create_repo(repo_id)
    assert url == f"{ENDPOINT}/{repo_id}"
    assert url.repo_id == repo_id
    with pytest.raises(HfHubHTTPError) as e:
        api.create_repo(repo_id)
    assert e.value.response.status_code == 409
    assert e.value.response.json()["url"] == f"{ENDPOINT}/{repo_id}"
    assert api.create_repo(repo_id, exist_ok=True) == url
    # A new repo holds one commit, by the user who created it (as on the Hub), with the
    # default .gitattributes.
    commits = api.list_repo_commits(repo_id)
    assert [c.title for c in commits] == ["initial commit"]
    assert commits[0].authors == [user]
    attrs = open(hf_hub_download(repo_id, ".gitattributes"), encoding="utf-8").read()
    assert "*.gguf filter=lfs diff=lfs merge=lfs -text" in attrs
    api.delete_repo(repo_id)


def test_upload_small_text_file(api, repo, tmp_path):
    data = b"hello from the local hub\n"
    (tmp_path / "hello.txt").write_bytes(data)
    info = api.upload_file(path_or_fileobj=str(tmp_path / "hello.txt"), path_in_repo="hello.txt", repo_id=repo)
    assert info.oid == head_commit(api, repo)
    assert info.commit_url == f"{ENDPOINT}/{repo}/commit/{info.oid}"
    entry = api.get_paths_info(repo, ["hello.txt"])[0]
    assert entry.lfs is None
    assert entry.blob_id == git_blob_sha1(data)
    assert entry.size == len(data)
    path = hf_hub_download(repo, "hello.txt")
    assert file_sha256(path) == sha256(data)
    # Regular files are cached under their git blob id (their ETag).
    assert os.path.basename(os.path.realpath(path)) == git_blob_sha1(data)


def test_upload_lfs_basic(api, repo, tmp_path):
    data = pseudo_random(1_500_008, 1)
    (tmp_path / "m.gguf").write_bytes(data)
    api.upload_file(path_or_fileobj=str(tmp_path / "m.gguf"), path_in_repo="m.gguf", repo_id=repo)
    entry = api.get_paths_info(repo, ["m.gguf"])[0]
    assert entry.lfs is not None
    assert entry.lfs.sha256 == sha256(data)
    assert entry.lfs.size == len(data)
    assert entry.lfs.pointer_size == 132
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256(data)}\nsize {len(data)}\n".encode()
    assert entry.blob_id == git_blob_sha1(pointer)
    path = hf_hub_download(repo, "m.gguf")
    assert file_sha256(path) == sha256(data)
    # The cache blob is named by the sha256 (the ETag of LFS files).
    assert os.path.basename(os.readlink(path)) == sha256(data)
    if MODE == "xet":
        # A Xet download lands in the client's shared store, named by the Xet hash, which
        # the blob links to.
        assert os.path.basename(os.path.realpath(path)) == xet_hash(data, tmp_path)
    else:
        assert os.path.basename(os.path.realpath(path)) == sha256(data)


def test_upload_lfs_multipart(api, repo, tmp_path):
    threshold = int(_env("HUB_TEST_MULTIPART_THRESHOLD"))
    data = pseudo_random(threshold * 2 + 12345, 2)
    # The batch endpoint offers multipart for this size: header.chunk_size plus part URLs.
    status, _, body = raw(
        "POST",
        f"{ENDPOINT}/{repo}.git/info/lfs/objects/batch",
        {"operation": "upload", "transfers": ["basic", "multipart"], "objects": [{"oid": sha256(data), "size": len(data)}], "hash_algo": "sha256"},
        {"Accept": "application/vnd.git-lfs+json"},
    )
    assert status == 200
    obj = json.loads(body)["objects"][0]
    header = obj["actions"]["upload"]["header"]
    chunk = int(header["chunk_size"])
    parts = [k for k in header if k.isdigit()]
    assert len(parts) == -(-len(data) // chunk) >= 2
    (tmp_path / "big.bin").write_bytes(data)
    api.upload_file(path_or_fileobj=str(tmp_path / "big.bin"), path_in_repo="weights/big.bin", repo_id=repo)
    path = hf_hub_download(repo, "weights/big.bin")
    assert file_sha256(path) == sha256(data)


def test_reupload_identical_makes_no_commit(api, repo, tmp_path):
    (tmp_path / "a.txt").write_bytes(b"same\n")
    (tmp_path / "b.gguf").write_bytes(pseudo_random(200_000, 3))
    first = api.upload_folder(folder_path=str(tmp_path), repo_id=repo)
    before = len(api.list_repo_commits(repo))
    again = api.upload_file(path_or_fileobj=str(tmp_path / "a.txt"), path_in_repo="a.txt", repo_id=repo)
    again_lfs = api.upload_file(path_or_fileobj=str(tmp_path / "b.gguf"), path_in_repo="b.gguf", repo_id=repo)
    assert again.oid == again_lfs.oid == first.oid
    assert len(api.list_repo_commits(repo)) == before


def test_upload_folder(api, repo, tmp_path):
    files = {
        "README.md": b"---\nlicense: apache-2.0\n---\n# Test\n",
        "config.json": b'{"a": 1}\n',
        "sub/deep/x.txt": b"x\n",
        "sub/model.gguf": pseudo_random(300_000, 4),
    }
    for name, data in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    before = len(api.list_repo_commits(repo))
    api.upload_folder(folder_path=str(tmp_path), repo_id=repo, commit_message="Add folder")
    commits = api.list_repo_commits(repo)
    assert len(commits) == before + 1  # One commit for the whole folder.
    assert commits[0].title == "Add folder"
    for name, data in files.items():
        assert file_sha256(hf_hub_download(repo, name)) == sha256(data)
    info = api.model_info(repo, files_metadata=True)
    gguf = next(s for s in info.siblings if s.rfilename == "sub/model.gguf")
    assert gguf.lfs is not None and gguf.lfs.sha256 == sha256(files["sub/model.gguf"])
    readme = next(s for s in info.siblings if s.rfilename == "README.md")
    assert readme.lfs is None and readme.blob_id == git_blob_sha1(files["README.md"])


def test_stale_parent_commit_is_412(api, repo):
    base = head_commit(api, repo)
    api.create_commit(repo, [CommitOperationAdd("one.txt", b"1")], commit_message="one", parent_commit=base)
    with pytest.raises(HfHubHTTPError) as e:
        api.create_commit(repo, [CommitOperationAdd("two.txt", b"2")], commit_message="two", parent_commit=base)
    assert e.value.response.status_code == 412
    assert "two.txt" not in [f for f in api.list_repo_files(repo)]


def test_tags_branches_refs(api, repo):
    c1 = api.create_commit(repo, [CommitOperationAdd("v.txt", b"v1\n")], commit_message="v1").oid
    api.create_tag(repo, tag="v1.0", revision=c1, tag_message="first")
    with pytest.raises(HfHubHTTPError) as e:
        api.create_tag(repo, tag="v1.0")
    assert e.value.response.status_code == 409
    api.create_tag(repo, tag="v1.0", exist_ok=True)
    api.create_branch(repo, branch="dev")
    with pytest.raises(HfHubHTTPError) as e:
        api.create_branch(repo, branch="dev")
    assert e.value.response.status_code == 409
    api.create_branch(repo, branch="dev", exist_ok=True)
    c2 = api.create_commit(repo, [CommitOperationAdd("v.txt", b"v2 on dev\n")], commit_message="v2", revision="dev").oid
    refs = api.list_repo_refs(repo)
    assert refs.converts == []
    branches = {b.name: b.target_commit for b in refs.branches}
    assert branches == {"main": c1, "dev": c2}
    assert {t.name: t.target_commit for t in refs.tags} == {"v1.0": c1}
    assert refs.tags[0].ref == "refs/tags/v1.0"
    # A branch may share its name with a tag.
    api.create_branch(repo, branch="v1.0")
    assert "v1.0" in {b.name for b in api.list_repo_refs(repo).branches}


def test_model_info_with_metadata_and_at_a_tag(api, repo):
    c1 = api.create_commit(repo, [CommitOperationAdd("f.txt", b"one\n")], commit_message="c1").oid
    api.create_tag(repo, tag="t1")
    api.create_commit(repo, [CommitOperationAdd("g.txt", b"two\n")], commit_message="c2")
    at_tag = api.model_info(repo, revision="t1", files_metadata=True)
    assert at_tag.sha == c1
    assert sorted(s.rfilename for s in at_tag.siblings) == [".gitattributes", "f.txt"]
    f = next(s for s in at_tag.siblings if s.rfilename == "f.txt")
    assert f.size == 4 and f.blob_id == git_blob_sha1(b"one\n")
    now = api.model_info(repo)
    assert now.sha != c1 and "g.txt" in {s.rfilename for s in now.siblings}
    assert now.id == repo and now.private is False


def test_list_repo_tree_recursive_subpath_and_pages(api, repo):
    page = int(_env("HUB_TEST_TREE_PAGE_SIZE"))
    n = page * 2 + 3
    ops = [CommitOperationAdd(f"many/f{i:03}.txt", b"%d\n" % i) for i in range(n)]
    ops += [CommitOperationAdd("a/b/c.txt", b"c\n"), CommitOperationAdd("top.txt", b"t\n")]
    api.create_commit(repo, ops, commit_message="many files")
    sub = list(api.list_repo_tree(repo, path_in_repo="many"))
    assert len(sub) == n  # Crosses pages (Link rel=next).
    assert sorted(e.path for e in sub) == sorted(f"many/f{i:03}.txt" for i in range(n))
    # The Link header is absolute and built from the request's Host.
    status, headers, _ = raw("GET", f"{ENDPOINT}/api/models/{repo}/tree/main/many")
    assert status == 200 and headers["Link"].startswith(f"<{ENDPOINT}/api/models/{repo}/tree/main/many?")
    top = {e.path: type(e).__name__ for e in api.list_repo_tree(repo)}
    assert top == {".gitattributes": "RepoFile", "top.txt": "RepoFile", "many": "RepoFolder", "a": "RepoFolder"}
    rec = {e.path for e in api.list_repo_tree(repo, recursive=True)}
    assert {"a", "a/b", "a/b/c.txt", "many/f000.txt"} <= rec
    assert len(rec) == n + 6
    nested = [e.path for e in api.list_repo_tree(repo, path_in_repo="a/b")]
    assert nested == ["a/b/c.txt"]
    with pytest.raises(RemoteEntryNotFoundError):
        list(api.list_repo_tree(repo, path_in_repo="nope"))


def test_get_paths_info(api, repo):
    data = pseudo_random(100_000, 5)
    api.create_commit(
        repo,
        [CommitOperationAdd("d/x.txt", b"x\n"), CommitOperationAdd("w.safetensors", data)],
        commit_message="paths",
    )
    infos = {e.path: e for e in api.get_paths_info(repo, ["d", "d/x.txt", "w.safetensors", "missing.txt"])}
    assert set(infos) == {"d", "d/x.txt", "w.safetensors"}
    assert type(infos["d"]).__name__ == "RepoFolder"
    assert infos["d/x.txt"].blob_id == git_blob_sha1(b"x\n")
    assert infos["w.safetensors"].lfs.sha256 == sha256(data)


def test_list_repo_commits(api, repo):
    ids = [api.create_commit(repo, [CommitOperationAdd(f"c{i}.txt", b"%d" % i)], commit_message=f"commit {i}").oid for i in range(3)]
    commits = api.list_repo_commits(repo)
    assert [c.commit_id for c in commits[:3]] == ids[::-1]  # Newest first.
    assert [c.title for c in commits] == ["commit 2", "commit 1", "commit 0", "initial commit"]
    assert all(len(c.commit_id) == 40 for c in commits)
    formatted = api.list_repo_commits(repo, formatted=True)
    assert formatted[0].formatted_title == "commit 2"


def test_download_at_branch_tag_and_commit(api, repo, tmp_path):
    v1, v2 = pseudo_random(50_000, 6), pseudo_random(60_000, 7)
    c1 = api.create_commit(repo, [CommitOperationAdd("m.gguf", v1)], commit_message="v1").oid
    api.create_tag(repo, tag="v1")
    api.create_branch(repo, branch="old")
    c2 = api.create_commit(repo, [CommitOperationAdd("m.gguf", v2)], commit_message="v2").oid
    cache = str(tmp_path / "cache")
    assert file_sha256(hf_hub_download(repo, "m.gguf", cache_dir=cache)) == sha256(v2)
    assert file_sha256(hf_hub_download(repo, "m.gguf", revision="old", cache_dir=cache)) == sha256(v1)
    assert file_sha256(hf_hub_download(repo, "m.gguf", revision="v1", cache_dir=cache)) == sha256(v1)
    assert file_sha256(hf_hub_download(repo, "m.gguf", revision=c1, cache_dir=cache)) == sha256(v1)
    p2 = hf_hub_download(repo, "m.gguf", revision=c2, cache_dir=cache)
    assert f"/snapshots/{c2}/" in p2 and file_sha256(p2) == sha256(v2)
    # local_dir downloads too.
    p = hf_hub_download(repo, "m.gguf", revision="v1", local_dir=str(tmp_path / "local"))
    assert file_sha256(p) == sha256(v1)


def test_snapshot_download(api, repo, tmp_path):
    files = {"README.md": b"# hi\n", "s/a.bin": pseudo_random(70_000, 8), "s/t/b.txt": b"b\n"}
    api.create_commit(repo, [CommitOperationAdd(k, v) for k, v in files.items()], commit_message="snap")
    root = snapshot_download(repo, cache_dir=str(tmp_path / "c"))
    for name, data in files.items():
        assert file_sha256(os.path.join(root, name)) == sha256(data)
    assert os.path.basename(root) == head_commit(api, repo)


def test_error_classes(api, repo, user):
    with pytest.raises(RepositoryNotFoundError):
        api.model_info(f"{user}/does-not-exist")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(f"{user}/does-not-exist", "x.txt")
    with pytest.raises(RevisionNotFoundError):
        api.model_info(repo, revision="no-such-branch")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(repo, ".gitattributes", revision="no-such-branch")
    with pytest.raises(RemoteEntryNotFoundError):
        hf_hub_download(repo, "no/such/file.txt")
    # Raw errors carry X-Error-Code and a JSON body.
    status, headers, body = raw("GET", f"{ENDPOINT}/{repo}/resolve/main/nope.txt")
    assert status == 404 and headers["X-Error-Code"] == "EntryNotFound"
    assert headers["X-Repo-Commit"] == head_commit(api, repo)
    assert "error" in json.loads(body)


def test_private_repo_is_hidden(api, user):
    repo_id = f"{user}/private-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo_id, private=True)
    api.create_commit(repo_id, [CommitOperationAdd("s.txt", b"secret\n")], commit_message="s")
    assert api.model_info(repo_id).private is True
    anonymous = HfApi(endpoint=ENDPOINT, token=False)
    with pytest.raises(RepositoryNotFoundError):
        anonymous.model_info(repo_id)
    status, headers, _ = raw("GET", f"{ENDPOINT}/{repo_id}/resolve/main/s.txt", token=False)
    assert status == 401 and headers["X-Error-Code"] == "RepoNotFound"
    with pytest.raises(HfHubHTTPError) as e:
        anonymous.create_commit(f"{user}/whatever", [CommitOperationAdd("x", b"x")], commit_message="x")
    assert e.value.response.status_code == 401
    api.delete_repo(repo_id)


def test_range_requests(api, repo, tmp_path):
    data = pseudo_random(10_000, 9)
    api.create_commit(repo, [CommitOperationAdd("r.bin", data)], commit_message="r")
    url = f"{ENDPOINT}/{repo}/resolve/main/r.bin"
    status, headers, body = raw("GET", url, headers={"Range": "bytes=100-199"})
    assert status == 206 and body == data[100:200]
    assert headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    status, _, body = raw("GET", url, headers={"Range": "bytes=-10"})
    assert status == 206 and body == data[-10:]
    status, headers, _ = raw("GET", url, headers={"Range": "bytes=20000-"})
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(data)}"
    status, headers, _ = raw("HEAD", url)
    assert status == 200 and headers["X-Linked-Size"] == str(len(data))
    # Whichever way it was uploaded, the file is stored in xorbs and can be fetched through Xet.
    assert headers["ETag"] == f'"{sha256(data)}"'
    assert headers["X-Xet-Hash"] == xet_hash(data, tmp_path)
    commit = headers["X-Repo-Commit"]
    assert headers["Link"] == f'<{ENDPOINT}/api/models/{repo}/xet-read-token/{commit}>; rel="xet-auth"'
    # A plain GET still returns the bytes; so do ranges (above).
    status, _, body = raw("GET", url)
    assert status == 200 and body == data
    entry = api.get_paths_info(repo, ["r.bin"])[0]
    assert entry.xet_hash == headers["X-Xet-Hash"]


def test_lfs_redirect_to_other_port_drops_token(tmp_path):
    endpoint = _env("HUB_TEST_REDIRECT_ENDPOINT")
    api = HfApi(endpoint=endpoint, token=TOKEN)
    repo_id = f"{api.whoami()['name']}/redir-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo_id)
    data = pseudo_random(400_000, 10)
    api.create_commit(repo_id, [CommitOperationAdd("r.gguf", data), CommitOperationAdd("t.txt", b"t\n")], commit_message="r")
    # hf_hub_download reads HF_ENDPOINT at import time, so pass the endpoint explicitly.
    p = hf_hub_download(repo_id, "r.gguf", endpoint=endpoint, cache_dir=str(tmp_path))
    assert file_sha256(p) == sha256(data)
    p = hf_hub_download(repo_id, "t.txt", endpoint=endpoint, cache_dir=str(tmp_path))
    assert file_sha256(p) == sha256(b"t\n")
    # Without following redirects: a 302 to another port carrying the Hub's metadata headers.
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    req = urllib.request.Request(f"{endpoint}/{repo_id}/resolve/main/r.gguf", method="HEAD")
    with pytest.raises(urllib.error.HTTPError) as e:
        opener.open(req)
    assert e.value.code == 302
    location = e.value.headers["Location"]
    assert not location.startswith(endpoint) and "/lfs-cdn/" in location
    assert e.value.headers["X-Linked-Etag"] == f'"{sha256(data)}"'
    assert e.value.headers["X-Linked-Size"] == str(len(data))
    with urllib.request.urlopen(location) as r:
        assert hashlib.sha256(r.read()).hexdigest() == sha256(data)


def test_delete_tag_branch_and_repo(api, user):
    repo_id = f"{user}/del-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo_id)
    api.create_tag(repo_id, tag="t")
    api.create_branch(repo_id, branch="b")
    api.delete_tag(repo_id, tag="t")
    api.delete_branch(repo_id, branch="b")
    refs = api.list_repo_refs(repo_id)
    assert refs.tags == [] and [b.name for b in refs.branches] == ["main"]
    with pytest.raises(RevisionNotFoundError):
        api.delete_tag(repo_id, tag="t")
    with pytest.raises(HfHubHTTPError):
        api.delete_branch(repo_id, branch="main")
    api.delete_repo(repo_id)
    with pytest.raises(RepositoryNotFoundError):
        api.model_info(repo_id)
    with pytest.raises(RepositoryNotFoundError):
        api.delete_repo(repo_id)
    api.delete_repo(repo_id, missing_ok=True)


def test_pull_request_commit(api, repo):
    info = api.create_commit(repo, [CommitOperationAdd("pr.txt", b"proposal\n")], commit_message="proposal", create_pr=True)
    assert info.pr_url.startswith(f"{ENDPOINT}/{repo}/discussions/")
    assert info.pr_revision == f"refs/pr/{info.pr_num}"
    assert "pr.txt" not in api.list_repo_files(repo)
    refs = api.list_repo_refs(repo, include_pull_requests=True)
    assert [(p.ref, p.target_commit) for p in refs.pull_requests] == [(info.pr_revision, info.oid)]
    path = hf_hub_download(repo, "pr.txt", revision=info.pr_revision)
    assert file_sha256(path) == sha256(b"proposal\n")


def test_tree_expand_reports_last_commit(api, repo):
    c1 = api.create_commit(repo, [CommitOperationAdd(f"e/{i}.txt", b"%d" % i) for i in range(5)], commit_message="five").oid
    c2 = api.create_commit(repo, [CommitOperationAdd("e/0.txt", b"changed")], commit_message="change one").oid
    entries = {e.path: e for e in api.list_repo_tree(repo, path_in_repo="e", expand=True)}
    assert len(entries) == 5  # More than one page of 3 with expand.
    assert entries["e/0.txt"].last_commit.oid == c2
    assert entries["e/1.txt"].last_commit.oid == c1
    assert entries["e/1.txt"].last_commit.title == "five"
    folder = api.get_paths_info(repo, ["e"], expand=True)[0]
    assert folder.last_commit.oid == c2


def test_dataset_repo_and_odd_file_names(api, user, tmp_path):
    repo_id = f"{user}/ds-{uuid.uuid4().hex[:8]}"
    url = api.create_repo(repo_id, repo_type="dataset")
    assert url == f"{ENDPOINT}/datasets/{repo_id}"
    data = pseudo_random(20_000, 11)
    name = "data dir/train ünïcode #1.parquet"
    api.upload_file(path_or_fileobj=data, path_in_repo=name, repo_id=repo_id, repo_type="dataset")
    assert name in api.list_repo_files(repo_id, repo_type="dataset")
    path = hf_hub_download(repo_id, name, repo_type="dataset", cache_dir=str(tmp_path))
    assert file_sha256(path) == sha256(data)
    info = api.dataset_info(repo_id, files_metadata=True)
    assert next(s for s in info.siblings if s.rfilename == name).lfs.sha256 == sha256(data)
    with pytest.raises(RepositoryNotFoundError):
        api.model_info(repo_id)  # The same name as a model does not exist.
    api.delete_repo(repo_id, repo_type="dataset")


def test_copy_and_delete_operations(api, repo, tmp_path):
    data = pseudo_random(123_456, 12)
    api.create_commit(
        repo,
        [CommitOperationAdd("src/w.gguf", data), CommitOperationAdd("src/n.txt", b"note\n"), CommitOperationAdd("old/a.txt", b"a")],
        commit_message="sources",
    )
    # Copies: the LFS file travels as lfsFile without size, the regular one is re-sent inline.
    api.create_commit(
        repo,
        [
            CommitOperationCopy("src/w.gguf", "dst/w.gguf"),
            CommitOperationCopy("src/n.txt", "dst/n.txt"),
            CommitOperationDelete("old/"),
            CommitOperationDelete("src/n.txt"),
        ],
        commit_message="copy and delete",
    )
    files = set(api.list_repo_files(repo))
    assert {"dst/w.gguf", "dst/n.txt", "src/w.gguf"} <= files
    assert "src/n.txt" not in files and not any(f.startswith("old/") for f in files)
    assert file_sha256(hf_hub_download(repo, "dst/w.gguf", cache_dir=str(tmp_path))) == sha256(data)
    assert file_sha256(hf_hub_download(repo, "dst/n.txt", cache_dir=str(tmp_path))) == sha256(b"note\n")
    with pytest.raises(RemoteEntryNotFoundError):
        api.create_commit(repo, [CommitOperationDelete("missing.txt")], commit_message="nope")
    # upload_folder with delete_patterns removes what the folder no longer has.
    (tmp_path / "up").mkdir()
    (tmp_path / "up" / "keep.txt").write_bytes(b"k")
    api.upload_folder(folder_path=str(tmp_path / "up"), path_in_repo="dst", repo_id=repo, delete_patterns="*.gguf")
    files = set(api.list_repo_files(repo))
    assert "dst/keep.txt" in files and "dst/w.gguf" not in files and "dst/n.txt" in files


def test_list_models(api, user):
    name = f"listed-{uuid.uuid4().hex[:8]}"
    api.create_repo(f"{user}/{name}")
    api.create_repo(f"{user}/{name}-hidden", private=True)
    found = [m.id for m in api.list_models(author=user, search=name)]
    assert found == [f"{user}/{name}", f"{user}/{name}-hidden"]
    anonymous = [m.id for m in HfApi(endpoint=ENDPOINT, token=False).list_models(search=name)]
    assert anonymous == [f"{user}/{name}"]
    api.delete_repo(f"{user}/{name}")
    api.delete_repo(f"{user}/{name}-hidden")


# The Hub's edges (issue 19): what the official client expects where the Hub's answers are
# less common. Each test checks the answer the client turns the server's reply into.


def test_exists_helpers_answer_false_for_missing_and_unqualified_ids(api, repo, user):
    assert api.repo_exists(repo) is True
    assert api.repo_exists("repo-that-does-not-exist") is False
    assert api.repo_exists(f"{user}/repo-that-does-not-exist") is False
    assert api.revision_exists(repo, "main") is True
    assert api.revision_exists(repo, "no-such-branch") is False
    assert api.revision_exists("repo-that-does-not-exist", "main") is False
    assert api.file_exists(repo, ".gitattributes") is True
    assert api.file_exists(repo, "nope.txt") is False
    assert api.file_exists(repo, ".gitattributes", revision="no-such-branch") is False
    assert api.file_exists("repo-that-does-not-exist", "config.json") is False
    assert api.file_exists(f"{user}/repo-that-does-not-exist", "config.json") is False
    with pytest.raises(RepositoryNotFoundError):
        list(api.list_repo_tree("repo-that-does-not-exist"))
    with pytest.raises(RepositoryNotFoundError):
        api.list_repo_commits("repo-that-does-not-exist")
    with pytest.raises(RepositoryNotFoundError):
        api.get_paths_info("repo-that-does-not-exist", ["a"])
    with pytest.raises(RepositoryNotFoundError):
        api.create_commit("repo-that-does-not-exist", [CommitOperationAdd("a.txt", b"a")], commit_message="x")
    # Every per-repo path of an unqualified id, whatever follows it, is RepoNotFound.
    for method, path in [
        ("GET", "/api/models/repo-that-does-not-exist"),
        ("GET", "/api/models/repo-that-does-not-exist/revision/main"),
        ("GET", "/api/models/repo-that-does-not-exist/tree/main"),
        ("GET", "/api/models/repo-that-does-not-exist/commits/main"),
        ("POST", "/api/models/repo-that-does-not-exist/paths-info/main"),
        ("POST", "/api/models/repo-that-does-not-exist/preupload/main"),
        ("GET", "/repo-that-does-not-exist/resolve/main/config.json"),
        ("GET", "/datasets/repo-that-does-not-exist/resolve/main/data.csv"),
    ]:
        status, headers, _ = raw(method, ENDPOINT + path, {} if method == "POST" else None)
        assert (status, headers["X-Error-Code"]) == (404, "RepoNotFound"), path


def test_errors_carry_a_request_id_and_the_message_header(api, repo):
    with pytest.raises(RevisionNotFoundError) as e:
        api.model_info(repo, revision="no-such-branch")
    assert "(Request ID: " in str(e.value)
    assert e.value.request_id
    status, headers, _ = raw("GET", f"{ENDPOINT}/api/models/{repo}")
    assert status == 200 and headers["X-Request-Id"]
    # A HEAD answer has no body: the message travels in X-Error-Message.
    status, headers, _ = raw("HEAD", f"{ENDPOINT}/{repo}/resolve/main/nope.txt")
    assert status == 404 and headers["X-Error-Message"] == "Entry not found: nope.txt"
    # The id the client sent as its trace id comes back.
    status, headers, _ = raw("GET", f"{ENDPOINT}/api/models/{repo}", headers={"X-Amzn-Trace-Id": "Root=1-test-42"})
    assert headers["X-Request-Id"] == "Root=1-test-42"


def test_gated_setting_round_trips_and_gates_downloads(api, repo):
    from huggingface_hub.errors import GatedRepoError

    api.upload_file(path_or_fileobj=b"weights\n", path_in_repo="w.txt", repo_id=repo)
    assert api.model_info(repo).gated is False
    for mode in ["manual", "auto", False]:
        api.update_repo_settings(repo, gated=mode)
        assert api.model_info(repo).gated == mode
    api.update_repo_settings(repo, gated="manual")
    anonymous = HfApi(endpoint=ENDPOINT, token=False)
    assert anonymous.model_info(repo).gated == "manual"  # The info stays public.
    assert anonymous.repo_exists(repo) is True
    with pytest.raises(GatedRepoError):
        hf_hub_download(repo, "w.txt", token=False)
    with pytest.raises(GatedRepoError):
        anonymous.file_exists(repo, "w.txt")
    assert file_sha256(hf_hub_download(repo, "w.txt")) == sha256(b"weights\n")  # The owner reads.
    status, _, body = raw("PUT", f"{ENDPOINT}/api/models/{repo}/settings", {"gated": "sometimes"})
    assert status == 400 and "auto" in json.loads(body)["error"]
    assert api.model_info(repo).gated == "manual"
    api.update_repo_settings(repo, private=True)
    assert api.model_info(repo).private is True and api.model_info(repo).gated == "manual"


def test_gitignore_decides_should_ignore(api, repo, tmp_path):
    api.upload_file(path_or_fileobj=b"nested/*\n*.tmp\n", path_in_repo=".gitignore", repo_id=repo)
    folder = tmp_path / "up"
    (folder / "nested").mkdir(parents=True)
    (folder / "nested" / "file.bin").write_bytes(b"skip me")
    (folder / "scratch.tmp").write_bytes(b"skip me too")
    (folder / "kept.txt").write_bytes(b"kept")
    api.upload_folder(folder_path=str(folder), repo_id=repo)
    files = set(api.list_repo_files(repo))
    assert "kept.txt" in files and "nested/file.bin" not in files and "scratch.tmp" not in files
    # The .gitignore of the commit itself applies too (the client sends it as gitIgnore).
    api.create_commit(
        repo,
        [
            CommitOperationAdd(".gitignore", b"other/\n"),
            CommitOperationAdd("other/x.bin", b"x"),
            CommitOperationAdd("nested/now.bin", b"n"),
        ],
        commit_message="new rules",
    )
    files = set(api.list_repo_files(repo))
    assert "other/x.bin" not in files and "nested/now.bin" in files


def test_repo_ids_are_case_insensitive(api, user, tmp_path):
    canonical = f"{user}/MyRepo-{uuid.uuid4().hex[:6]}"
    api.create_repo(canonical)
    lower = canonical.lower()
    assert api.model_info(lower).id == canonical
    assert api.repo_exists(f"{user}/{canonical.split('/')[1].upper()}") is True
    api.upload_file(path_or_fileobj=b"via the lower-case id\n", path_in_repo="x.txt", repo_id=lower)
    weights = pseudo_random(50_000, 14)
    api.upload_file(path_or_fileobj=weights, path_in_repo="w.gguf", repo_id=lower)  # LFS too.
    assert "x.txt" in api.list_repo_files(canonical)
    assert api.get_paths_info(canonical, ["w.gguf"])[0].lfs.sha256 == sha256(weights)
    assert file_sha256(hf_hub_download(lower, "x.txt", cache_dir=str(tmp_path))) == sha256(b"via the lower-case id\n")
    with pytest.raises(HfHubHTTPError) as e:
        api.create_repo(lower)
    assert e.value.response.status_code == 409
    assert api.create_repo(lower, exist_ok=True) == f"{ENDPOINT}/{canonical}"
    assert [m.id for m in api.list_models(author=user.upper(), search=lower)] == [canonical]
    api.delete_repo(lower)
    assert api.repo_exists(canonical) is False


def test_short_commit_ids_resolve_and_refs_win(api, repo):
    c1 = api.create_commit(repo, [CommitOperationAdd("a.txt", b"1")], commit_message="one").oid
    c2 = api.create_commit(repo, [CommitOperationAdd("a.txt", b"2")], commit_message="two").oid
    assert api.revision_exists(repo, c1[:7]) is True
    assert api.model_info(repo, revision=c1[:7]).sha == c1
    api.create_tag(repo, tag="from-short", revision=c1[:7])
    assert {t.name: t.target_commit for t in api.list_repo_refs(repo).tags}["from-short"] == c1
    assert open(hf_hub_download(repo, "a.txt", revision=c1[:10]), "rb").read() == b"1"
    # A branch named like a prefix of c1 but pointing at c2: the ref wins, as in git.
    api.create_branch(repo, branch=c1[:8], revision=c2)
    assert api.model_info(repo, revision=c1[:8]).sha == c2
    assert api.model_info(repo, revision=c1[:9]).sha == c1  # A longer prefix still reaches c1.
    assert api.revision_exists(repo, "0000000") is False


def test_deleting_a_folder_without_a_trailing_slash(api, repo):
    api.create_commit(
        repo,
        [CommitOperationAdd("folder/a.txt", b"a"), CommitOperationAdd("folder/sub/b.txt", b"b"), CommitOperationAdd("folderx.txt", b"x")],
        commit_message="folder",
    )
    api.create_commit(repo, [CommitOperationDelete("folder")], commit_message="drop folder")
    files = set(api.list_repo_files(repo))
    assert not any(f.startswith("folder/") for f in files) and "folderx.txt" in files
    with pytest.raises(RemoteEntryNotFoundError):
        api.create_commit(repo, [CommitOperationDelete("folder")], commit_message="again")


def test_card_warnings_and_licence_ids(api, repo):
    import warnings

    from huggingface_hub import ModelCard

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        api.upload_file(path_or_fileobj=b"# A card with no metadata\n", path_in_repo="README.md", repo_id=repo)
    assert any(
        issubclass(w.category, UserWarning) and "empty or missing yaml metadata" in str(w.message) for w in caught
    ), [str(w.message) for w in caught]
    with pytest.raises(ValueError) as e:
        ModelCard("---\nlicense: asdf\n---\n# x\n").validate()
    assert '- Error: "license" must be one of [apache-2.0, mit,' in str(e.value)
    with pytest.raises(ValueError) as e:
        api.upload_file(path_or_fileobj=b"---\nlicense: asdf\n---\n", path_in_repo="README.md", repo_id=repo)
    assert '"license" must be one of' in str(e.value)
    ModelCard("---\nlicense: llama3.1\n---\n# x\n").validate()
    api.upload_file(path_or_fileobj=b"---\nlicense: mit\nlibrary_name: gguf\ntags:\n- q4\n---\n", path_in_repo="README.md", repo_id=repo)
    info = api.model_info(repo)
    assert info.card_data["license"] == "mit" and info.library_name == "gguf" and info.tags == ["q4"]


def test_new_space_has_a_readme_naming_its_sdk(api, user):
    space = f"{user}/space-{uuid.uuid4().hex[:8]}"
    api.create_repo(space, repo_type="space", space_sdk="static")
    info = api.space_info(space)
    assert info.sdk == "static"
    assert info.card_data["sdk"] == "static"
    assert sorted(api.list_repo_files(space, repo_type="space")) == [".gitattributes", "README.md"]
    assert [c.authors for c in api.list_repo_commits(space, repo_type="space")] == [[user]]
    status, _, body = raw("POST", f"{ENDPOINT}/api/repos/create", {"name": "no-sdk", "type": "space"})
    assert status == 400 and "sdk" in json.loads(body)["error"]
    api.delete_repo(space, repo_type="space")


def test_pull_requests_need_a_branch_and_tags_check_the_revision_first(api, repo):
    oid = head_commit(api, repo)
    api.create_tag(repo, tag="t")
    for base in [oid, "t", "no-such-branch"]:
        with pytest.raises(RevisionNotFoundError):
            api.create_commit(repo, [CommitOperationAdd("p.txt", b"p")], commit_message="pr", revision=base, create_pr=True)
    assert api.list_repo_refs(repo, include_pull_requests=True).pull_requests == []
    with pytest.raises(RevisionNotFoundError):
        api.create_tag(repo, tag="invalid tag", revision="foobar")
    with pytest.raises(HfHubHTTPError) as e:
        api.create_tag(repo, tag="invalid tag")
    assert e.value.response.status_code == 400


def test_model_info_expand(api, repo):
    from huggingface_hub.errors import BadRequestError

    api.upload_file(path_or_fileobj=b"---\nlicense: mit\n---\n", path_in_repo="README.md", repo_id=repo)
    info = api.model_info(repo, expand=["sha", "cardData"])
    assert info.id == repo and info.sha == head_commit(api, repo)
    assert info.card_data["license"] == "mit"
    assert info.siblings is None and info.private is None and info.gated is None
    info = api.model_info(repo, expand=["gated", "private"])
    assert info.gated is False and info.private is False and info.sha is None
    with pytest.raises(BadRequestError) as e:
        api.model_info(repo, expand=["bogus"])
    assert "must be one of" in str(e.value)


def test_backslash_paths_are_refused_on_purpose(api, repo):
    # A deliberate difference from the Hub (which stores them): see the server's docs.
    for ops in ([CommitOperationAdd("a\\b.txt", b"x")], [CommitOperationAdd("w\\m.gguf", pseudo_random(2000, 13))]):
        with pytest.raises(HfHubHTTPError) as e:
            api.create_commit(repo, ops, commit_message="backslash")
        assert e.value.response.status_code == 422
        assert "use '/' between folders" in str(e.value)
    assert api.list_repo_files(repo) == [".gitattributes"]
