"""Uploads files to a ModelScope model with the official `modelscope` SDK, as another
publisher would, so that `sync --from modelscope` is tested against files it did not write.

Usage: ms_upload.py MODEL_ID PATH_IN_REPO=LOCAL_FILE ...
Reads MODELSCOPE_ENDPOINT and MODELSCOPE_API_TOKEN from the environment; creates the model
when it does not exist yet. Prints the sha256 the SDK's own listing gives for each file, one
`PATH SHA256` line each.
"""

import os
import sys

from modelscope.hub.api import HubApi


def main(argv):
    repo, pairs = argv[0], argv[1:]
    api = HubApi()
    api.login(os.environ["MODELSCOPE_API_TOKEN"])
    api.create_repo(repo, exist_ok=True)
    for pair in pairs:
        path_in_repo, local = pair.split("=", 1)
        api.upload_file(path_or_fileobj=local, path_in_repo=path_in_repo, repo_id=repo)
    listed = api.list_repo_files(repo, "model", revision="master", recursive=True)
    for f in sorted(listed, key=lambda f: f.path):
        print(f.path, f.sha256)


if __name__ == "__main__":
    main(sys.argv[1:])
