//! The official `huggingface_hub` client downloads what the uploader published and gets the
//! same sha256 for every file, in both of its transfer modes (Xet and LFS). Fails (never
//! skips) when the venv's python is missing.

mod common;

use common::*;
use dev_python::{HubTransfer, Python};
use ruvltra_registry::Quant;
use ruvltra_uploader::PublishOptions;

const SCRIPT: &str = r#"
import hashlib, json, sys
from huggingface_hub import hf_hub_download
repo, revision, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
out = {}
for path in paths:
    local = hf_hub_download(repo_id=repo, filename=path, revision=revision)
    h = hashlib.sha256()
    with open(local, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    out[path] = h.hexdigest()
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_client_downloads_the_same_bytes() {
    // The venv's python with huggingface_hub; fails (never skips) when it is missing.
    let python = Python::with_modules(&["huggingface_hub"]);
    let small = Spec::new("small", "0.5b", Quant::Q4_K_M);
    let big = Spec::new("small", "0.5b", Quant::F16);
    let staging = tempfile::tempdir().unwrap();
    let size_of = |spec: &Spec| {
        let path = staging.path().join(spec.file());
        write_sample_as(&path, spec.quant, &spec.id());
        file_size(&path)
    };
    let (small_len, big_len) = (size_of(&small), size_of(&big));
    assert!(small_len < big_len);
    let fx = Fixture::with_config(|c| {
        // The F16 file goes up in multipart parts, the Q4_K_M one in one PUT.
        c.multipart_threshold = (small_len + big_len) / 2;
        c.multipart_chunk_size = big_len / 3;
    });
    for spec in [&small, &big] {
        std::fs::copy(staging.path().join(spec.file()), fx.files.join(spec.file())).unwrap();
    }
    let reg = registry(&[small.clone(), big.clone()]);
    let report = fx
        .uploader()
        .publish(
            &reg,
            &fx.files,
            &PublishOptions {
                tag: Some("v1.0.0".into()),
                ..PublishOptions::default()
            },
        )
        .await
        .unwrap();
    assert!(report.verified(), "{report:#?}");
    assert_eq!(fx.stats().multipart_uploads, 1);
    assert_eq!(fx.stats().basic_uploads, 1);

    let plan = &report.repos[0].plan;
    let paths: Vec<&str> = plan.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.len() >= 5, "{paths:?}");
    // Both kinds of client: through Xet (the files went up through LFS; the server stored
    // them in xorbs) and through LFS.
    for mode in HubTransfer::BOTH {
        let home = tempfile::tempdir().unwrap();
        let before = fx.stats().reconstructions;
        let out = python
            .snippet(SCRIPT)
            .arg(REPO)
            .arg("v1.0.0")
            .args(&paths)
            .hub_transfer(mode, home.path())
            .env("HF_ENDPOINT", fx.server.url())
            .env("HF_TOKEN", TOKEN)
            .env("HF_HUB_DISABLE_TELEMETRY", "1")
            .env("HF_HOME", home.path())
            .run();
        let hashes: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(hashes.len(), paths.len());
        for entry in plan {
            assert_eq!(
                Some(&hashes[&entry.path]),
                entry.sha256.as_ref(),
                "{mode}: {}",
                entry.path
            );
        }
        let through_xet = fx.stats().reconstructions - before;
        match mode {
            HubTransfer::Xet => assert!(through_xet >= 2, "{through_xet} files came through Xet"),
            HubTransfer::Lfs => assert_eq!(through_xet, 0),
        }
    }
}
