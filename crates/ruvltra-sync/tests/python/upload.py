"""Uploads files to a Hub repository with the official huggingface_hub client, as another
publisher would, so that sync is tested against files it did not write itself.

Usage: upload.py REPO [--tag TAG] PATH_IN_REPO=LOCAL_FILE ...
Reads HF_ENDPOINT and HF_TOKEN from the environment. Prints the new commit id.
"""

import os
import sys

from huggingface_hub import CommitOperationAdd, HfApi


def main(argv):
    repo, rest = argv[0], argv[1:]
    tag = None
    if rest[:1] == ["--tag"]:
        tag, rest = rest[1], rest[2:]
    api = HfApi(endpoint=os.environ["HF_ENDPOINT"], token=os.environ["HF_TOKEN"])
    api.create_repo(repo, exist_ok=True)
    operations = []
    for pair in rest:
        path_in_repo, local = pair.split("=", 1)
        operations.append(CommitOperationAdd(path_in_repo=path_in_repo, path_or_fileobj=local))
    info = api.create_commit(repo, operations=operations, commit_message="upload from python")
    if tag:
        api.create_tag(repo, tag=tag, revision=info.oid)
    print(info.oid)


if __name__ == "__main__":
    main(sys.argv[1:])
