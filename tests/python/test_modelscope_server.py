"""Cross-checks the ModelScope mode of hub-server with the official `modelscope` SDK.

Run by crates/hub-server/tests/modelscope_sdk.rs with MODELSCOPE_ENDPOINT pointing at the
server, MODELSCOPE_API_TOKEN set and MODELSCOPE_CACHE in a temporary directory.
"""

import hashlib
import os
import pathlib

import pytest
import requests

from modelscope.hub.api import HubApi
from modelscope.hub.file_download import model_file_download
from modelscope.hub.snapshot_download import snapshot_download

ENDPOINT = os.environ["MODELSCOPE_ENDPOINT"]
TOKEN = os.environ["MODELSCOPE_API_TOKEN"]
OWNER = "ruvnet"


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@pytest.fixture(scope="module")
def api():
    api = HubApi()
    api.login(TOKEN)
    return api


def test_endpoint_is_the_local_server(api):
    assert api.endpoint == ENDPOINT
    assert api.endpoint.startswith("http://127.0.0.1:")


def test_login_rejects_a_wrong_token():
    with pytest.raises(Exception):
        HubApi().login("ms-wrong-token")


def test_create_model_then_exists_and_duplicate(api):
    repo = f"{OWNER}/ms-create"
    url = api.create_model(repo, visibility=5, license="apache-2.0")
    assert repo in url
    assert api.repo_exists(repo, repo_type="model")
    assert not api.repo_exists(f"{OWNER}/ms-missing", repo_type="model")
    # A second create fails with the SDK's "already exists" error; exist_ok hides it.
    with pytest.raises(Exception) as err:
        api.create_model(repo)
    assert "already exists" in str(err.value).lower()
    assert api.create_repo(repo, exist_ok=True) is None


def test_upload_file_small_and_lfs_then_list_and_download(api, tmp_path):
    repo = f"{OWNER}/ms-files"
    api.create_model(repo)
    small = tmp_path / "config.json"
    small.write_text('{"model_type": "ruvltra"}\n')
    big = tmp_path / "model.gguf"
    # Over the SDK's 64 KiB force-LFS threshold and with an LFS suffix: goes through the batch.
    big.write_bytes(os.urandom(3 * 1024 * 1024 + 7))
    api.upload_file(path_or_fileobj=str(small), path_in_repo="config.json", repo_id=repo)
    api.upload_file(path_or_fileobj=str(big), path_in_repo="weights/model.gguf", repo_id=repo)

    files = {f["Path"]: f for f in api.get_model_files(repo, recursive=True)}
    assert set(files) == {".gitattributes", "config.json", "weights/model.gguf"}
    assert files["weights/model.gguf"]["Size"] == big.stat().st_size
    raw = api.list_repo_files(repo, "model", revision="master", recursive=True)
    by_path = {f.path: f for f in raw}
    assert by_path["weights/model.gguf"].sha256 == sha256_of(big)
    assert by_path["config.json"].sha256 == sha256_of(small)
    top = api.list_repo_files(repo, "model", recursive=False)
    assert {f.path for f in top} == {".gitattributes", "config.json", "weights"}

    got = model_file_download(repo, "weights/model.gguf")
    assert sha256_of(got) == sha256_of(big)
    got = model_file_download(repo, "config.json", revision="master")
    assert pathlib.Path(got).read_text() == small.read_text()


def test_upload_folder_snapshot_download_and_tag(api, tmp_path):
    repo = f"{OWNER}/ms-folder"
    folder = tmp_path / "release"
    (folder / "sub").mkdir(parents=True)
    (folder / "README.md").write_text("---\ntasks:\n- text-generation\n---\n# demo\n")
    (folder / "sub" / "a.bin").write_bytes(os.urandom(200_000))
    (folder / "b.gguf").write_bytes(os.urandom(1_000_000))
    # upload_folder creates the model when it is missing.
    api.upload_folder(repo_id=repo, folder_path=str(folder), commit_message="release 1")
    files = {f["Path"] for f in api.get_model_files(repo)}
    assert {"README.md", "sub/a.bin", "b.gguf"} <= files

    # Re-uploading the same content asks the batch endpoint, which answers "present": no PUT.
    api.upload_folder(repo_id=repo, folder_path=str(folder), commit_message="release 1 again")

    api.create_repo_tag(repo, "model", tag="v1.0.0", revision="master")
    branches, tags = api.get_model_branches_and_tags(repo)
    assert "master" in branches and "v1.0.0" in tags

    local = snapshot_download(repo, revision="v1.0.0", cache_dir=str(tmp_path / "snap"))
    for rel in ["README.md", "sub/a.bin", "b.gguf"]:
        assert sha256_of(pathlib.Path(local) / rel) == sha256_of(folder / rel), rel


def test_upload_to_a_new_branch_then_list_and_download_it(api, tmp_path):
    # The SDK has no create-branch call: upload_file(revision=...) commits to
    # /commit/{revision}, and the server creates the branch from master's head.
    repo = f"{OWNER}/ms-branch"
    api.create_model(repo)
    base = tmp_path / "config.json"
    base.write_text('{"model_type": "ruvltra"}\n')
    api.upload_file(path_or_fileobj=str(base), path_in_repo="config.json", repo_id=repo)
    master_before = dict(
        (b["Revision"], b["CommitId"]) for b in api.get_model_branches_and_tags_details(repo)[0]
    )["master"]
    exp = tmp_path / "exp.gguf"
    exp.write_bytes(os.urandom(300_000))
    api.upload_file(
        path_or_fileobj=str(exp),
        path_in_repo="exp/model.gguf",
        repo_id=repo,
        revision="experiment-x",
        commit_message="experiment",
    )

    branches, _ = api.get_model_branches_and_tags(repo)
    assert set(branches) == {"master", "experiment-x"}
    details = dict((b["Revision"], b["CommitId"]) for b in api.get_model_branches_and_tags_details(repo)[0])
    assert details["master"] == master_before
    listed = {f.path: f for f in api.list_repo_files(repo, "model", revision="experiment-x", recursive=True)}
    assert set(listed) == {".gitattributes", "config.json", "exp/model.gguf"}
    assert listed["exp/model.gguf"].sha256 == sha256_of(exp)
    on_master = {f.path for f in api.list_repo_files(repo, "model", revision="master", recursive=True)}
    assert "exp/model.gguf" not in on_master

    got = model_file_download(repo, "exp/model.gguf", revision="experiment-x")
    assert sha256_of(got) == sha256_of(exp)
    with pytest.raises(Exception):
        model_file_download(repo, "exp/model.gguf", revision="master")


def test_download_range_and_missing_file(api):
    repo = f"{OWNER}/ms-files"
    url = f"{ENDPOINT}/api/v1/models/{repo}/repo"
    r = requests.get(
        url,
        params={"Revision": "master", "FilePath": "config.json"},
        headers={"Range": "bytes=2-11"},
        cookies={"m_session_id": TOKEN},
    )
    assert r.status_code == 206
    assert r.content == b'{"model_type": "ruvltra"}\n'[2:12]
    r = requests.get(url, params={"FilePath": "nope.txt"}, cookies={"m_session_id": TOKEN})
    assert r.status_code == 404
    body = r.json()
    assert body["Success"] is False and body["Code"] == 404


def test_upload_url_checks_sha256(api):
    repo = f"{OWNER}/ms-files"
    data = b"x" * 100
    wrong = hashlib.sha256(b"y" * 100).hexdigest()
    r = requests.post(
        f"{ENDPOINT}/api/v1/repos/models/{repo}/info/lfs/objects/batch",
        json={"operation": "upload", "objects": [{"oid": wrong, "size": 100}]},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert r.status_code == 200, r.text
    href = r.json()["Data"]["objects"][0]["actions"]["upload"]["href"]
    assert href.startswith(ENDPOINT + "/api/v1/lfs-upload/")
    put = requests.put(href, data=data)
    assert put.status_code == 400 and "sha256" in put.json()["Message"]
    # The commit refuses an object that was never stored.
    c = requests.post(
        f"{ENDPOINT}/api/v1/repos/models/{repo}/commit/master",
        json={
            "commit_message": "bad",
            "actions": [{"action": "create", "path": "x.bin", "type": "lfs", "size": 100,
                         "sha256": wrong, "content": "", "encoding": ""}],
        },
        cookies={"m_session_id": TOKEN},
    )
    assert c.status_code == 400 and c.json()["Success"] is False


def test_anonymous_write_is_refused():
    r = requests.post(f"{ENDPOINT}/api/v1/models", json={"Path": OWNER, "Name": "anon"})
    assert r.status_code == 401
