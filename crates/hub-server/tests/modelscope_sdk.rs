//! Proves the ModelScope mode is faithful: runs the official `modelscope` Python SDK against it
//! (`tests/python/test_modelscope_server.py`: login, create_model, upload_file, upload_folder with
//! LFS objects, listing, downloads checked by sha256, tags, an upload to a branch that does not
//! exist yet and its listing and download with `revision=`), then checks what the server stored.

use std::path::{Path, PathBuf};

use dev_python::Python;
use hub_server::{HubServer, ServerConfig};

#[test]
fn official_modelscope_sdk_round_trips() {
    // The venv's python, which must have modelscope and pytest; fails (never skips) if not.
    let python = Python::with_modules(&["modelscope", "pytest"]);
    let tmp = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(tmp.path().join("data"));
    config.write_tokens = vec!["ms_python_write".to_owned()];
    let server = HubServer::spawn(config).unwrap();

    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let out = python
        .pytest("tests/python/test_modelscope_server.py")
        .env_remove("MODELSCOPE_DOMAIN")
        .env("MODELSCOPE_ENDPOINT", server.url())
        .env("MODELSCOPE_API_TOKEN", "ms_python_write")
        .env("MODELSCOPE_CACHE", tmp.path().join("ms-cache"))
        .env("MODELSCOPE_HOME", tmp.path().join("ms-home"))
        // The SDK keeps credentials under ~/.modelscope: a temporary home keeps the real one out.
        .env("HOME", &home)
        .env("MODELSCOPE_LOG_LEVEL", "40")
        .output();
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "the ModelScope SDK cross-check failed"
    );
    assert!(stdout.contains("passed"), "pytest ran no tests");

    // The ModelScope side has its own store; the Hub side saw none of these models.
    let ms = tmp.path().join("data/modelscope/repos/models/ruvnet");
    for name in ["ms-create", "ms-files", "ms-folder", "ms-branch"] {
        assert!(ms.join(name).join("repo.json").is_file(), "{name} missing");
        assert!(
            !tmp.path()
                .join("data/repos/models/ruvnet")
                .join(name)
                .exists()
        );
    }
    // Four LFS objects went through batch + PUT (model.gguf, sub/a.bin, b.gguf, the branch's
    // exp/model.gguf), each linked to the Xet file that holds its bytes, all of them whole;
    // the one with a wrong sha256 was refused and left nothing behind.
    let objects: Vec<_> = walk(&tmp.path().join("data/modelscope/objects/xet/sha256"));
    assert_eq!(objects.len(), 4, "{objects:?}");
    assert_eq!(
        hub_server::verify_stored_objects(&tmp.path().join("data/modelscope")),
        Ok(4)
    );
    // The SDK's commit to `experiment-x` made that branch next to master.
    let refs = std::fs::read_to_string(ms.join("ms-branch/refs.json")).unwrap();
    assert!(
        refs.contains("\"experiment-x\"") && refs.contains("\"master\""),
        "{refs}"
    );
    let leftovers = walk(&tmp.path().join("data/modelscope/tmp"));
    assert!(leftovers.is_empty(), "{leftovers:?}");
    server.stop();
}

/// Every file below `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
