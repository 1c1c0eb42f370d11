//! The official client's Xet path against the server, as people install it (`hf_xet` present,
//! `HF_HUB_DISABLE_XET` unset): a file it uploads through Xet downloads byte-exact through
//! Xet, through a plain `GET` and after a restart; a file uploaded through LFS downloads
//! through Xet; and re-uploading an edited 64 MiB GGUF grows the store by a sliver of the
//! file, with the client's chunk cache kept (a metadata edit) and without it (an edit in the
//! middle of the tensor data).

use std::path::{Path, PathBuf};

use dev_python::{HubTransfer, Python};
use hub_server::{HubServer, ServerConfig};
use sha2::{Digest as _, Sha256};

const TOKEN: &str = "hf_xet_write";

const UPLOAD: &str = r#"
import sys
from huggingface_hub import HfApi
repo, name, path = sys.argv[1:4]
api = HfApi()
api.create_repo(repo, exist_ok=True)
print(api.upload_file(path_or_fileobj=path, path_in_repo=name, repo_id=repo).oid)
"#;

const DOWNLOAD: &str = r#"
import sys
from huggingface_hub import hf_hub_download
repo, name, cache = sys.argv[1:4]
print(hf_hub_download(repo_id=repo, filename=name, cache_dir=cache))
"#;

/// Runs a snippet of the official client in `mode`, its chunk cache under `scratch`.
fn client(
    server: &HubServer,
    mode: HubTransfer,
    scratch: &Path,
    code: &str,
    args: &[&str],
) -> String {
    let out = Python::with_modules(&["huggingface_hub", "hf_xet"])
        .snippet(code)
        .args(args)
        .hub_transfer(mode, scratch)
        .env_remove("HUGGINGFACE_CO_STAGING")
        .env_remove("HF_HUB_OFFLINE")
        .env("HF_ENDPOINT", server.url())
        .env("HF_TOKEN", TOKEN)
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        .env("HF_HOME", scratch.join("hf-home"))
        .run();
    out.stdout
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn config(dir: &Path) -> ServerConfig {
    let mut config = ServerConfig::new(dir);
    config.write_tokens = vec![TOKEN.to_owned()];
    config
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Deterministic incompressible bytes, like quantized weights.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 32);
    let mut i = 0u64;
    while out.len() < n {
        out.extend_from_slice(&Sha256::digest(format!("{seed}:{i}").as_bytes()));
        i += 1;
    }
    out.truncate(n);
    out
}

/// A plain `GET` of a file of `main`: its bytes and its `X-Xet-Hash`.
fn plain_get(server: &HubServer, repo: &str, name: &str) -> (Vec<u8>, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = reqwest::get(format!("{}/{repo}/resolve/main/{name}", server.url()))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let hash = r.headers()["x-xet-hash"].to_str().unwrap().to_owned();
        (r.bytes().await.unwrap().to_vec(), hash)
    })
}

/// Downloads through the client in Xet mode into a fresh cache; returns the bytes.
fn xet_download(server: &HubServer, scratch: &Path, repo: &str, name: &str) -> Vec<u8> {
    let cache = tempfile::tempdir_in(scratch).unwrap();
    let cache_arg = cache.path().to_str().unwrap().to_owned();
    let path = client(
        server,
        HubTransfer::Xet,
        scratch,
        DOWNLOAD,
        &[repo, name, &cache_arg],
    );
    std::fs::read(PathBuf::from(path)).unwrap()
}

#[test]
fn xet_and_lfs_uploads_download_every_way_across_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let scratch = tmp.path().join("client");
    std::fs::create_dir_all(&scratch).unwrap();
    let server = HubServer::spawn(config(&data_dir)).unwrap();
    let repo = "local/every-way";
    let by_xet = noise(3_000_000, 1);
    let by_lfs = noise(2_000_000, 2);
    let (xet_file, lfs_file) = (tmp.path().join("x.bin"), tmp.path().join("l.bin"));
    std::fs::write(&xet_file, &by_xet).unwrap();
    std::fs::write(&lfs_file, &by_lfs).unwrap();
    client(
        &server,
        HubTransfer::Xet,
        &scratch,
        UPLOAD,
        &[repo, "x.bin", xet_file.to_str().unwrap()],
    );
    let stats = server.stats();
    assert!(
        stats.shards_inserted == 1 && stats.basic_uploads == 0,
        "{stats:?}"
    );
    client(
        &server,
        HubTransfer::Lfs,
        &scratch,
        UPLOAD,
        &[repo, "l.bin", lfs_file.to_str().unwrap()],
    );
    let stats = server.stats();
    assert!(
        stats.shards_inserted == 1 && stats.basic_uploads == 1,
        "{stats:?}"
    );

    let mut server = server;
    for round in ["before the restart", "after the restart"] {
        for (name, data) in [("x.bin", &by_xet), ("l.bin", &by_lfs)] {
            let before = server.stats().reconstructions;
            assert_eq!(
                sha256(&xet_download(&server, &scratch, repo, name)),
                sha256(data),
                "{name} {round}"
            );
            assert_eq!(
                server.stats().reconstructions,
                before + 1,
                "{name} did not come through Xet"
            );
            let (bytes, _) = plain_get(&server, repo, name);
            assert!(bytes == *data, "plain GET of {name} {round}");
        }
        if round == "before the restart" {
            server.stop();
            server = HubServer::spawn(config(&data_dir)).unwrap();
        }
    }
    assert_eq!(hub_server::verify_stored_objects(&data_dir), Ok(2));
    server.stop();
}

/// A GGUF of about `mib` MiB from the project's writer, named `name`, its tensor data noise.
fn gguf(name: &str, mib: u64, data_seed: u64) -> Vec<u8> {
    use ruvltra_gguf::writer::SampleModel;
    let mut model = SampleModel::new("qwen2", 1, mib * (1 << 20) / 2);
    model.name = name.to_owned();
    let writer = model.build().unwrap();
    let layout = writer.layout().unwrap();
    let mut bytes = writer.header_bytes().unwrap();
    bytes.resize(layout.data_offset as usize, 0);
    bytes.extend_from_slice(&noise(
        (layout.file_len - layout.data_offset) as usize,
        data_seed,
    ));
    bytes
}

/// The bytes under the store's `objects/`.
fn store_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let meta = entry.metadata().unwrap();
        total += if meta.is_dir() {
            store_bytes(&entry.path())
        } else {
            meta.len()
        };
    }
    total
}

#[test]
fn edited_ggufs_add_a_sliver_to_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let objects = data_dir.join("objects");
    let server = HubServer::spawn(config(&data_dir)).unwrap();
    let repo = "local/gguf-dedup";
    let kept = tmp.path().join("client-kept");
    let fresh = tmp.path().join("client-fresh");
    let v1 = gguf("RuvLTRA Sample", 64, 7);
    let v2 = gguf("RuvLTRA Sample, with a longer name after an edit", 64, 7);
    assert_ne!(v1.len(), v2.len(), "the edit must move the tensor data");
    assert!(
        v1.len() > 60 << 20 && v1.len() < 70 << 20,
        "{} bytes",
        v1.len()
    );
    let mut v3 = v1.clone();
    let middle = v3.len() / 2;
    v3[middle..middle + 64].copy_from_slice(&noise(64, 9));
    let path = tmp.path().join("model.gguf");
    let upload = |bytes: &[u8], scratch: &Path| -> u64 {
        std::fs::write(&path, bytes).unwrap();
        let before = store_bytes(&objects);
        client(
            &server,
            HubTransfer::Xet,
            scratch,
            UPLOAD,
            &[repo, "model.gguf", path.to_str().unwrap()],
        );
        store_bytes(&objects) - before
    };

    let first = upload(&v1, &kept);
    // A metadata edit, the client's chunk cache kept: under 1% of the file.
    let edit = upload(&v2, &kept);
    // An edit in the middle of the tensor data, from a client with no cache: under 5%.
    let middle_edit = upload(&v3, &fresh);
    let pct = |n: u64, of: &[u8]| 100.0 * n as f64 / of.len() as f64;
    eprintln!(
        "store growth: first upload {first} bytes of {} ({:.2}%); metadata edit, chunk cache \
         kept: {edit} bytes ({:.3}%); edit in the middle, fresh cache: {middle_edit} bytes ({:.3}%)",
        v1.len(),
        pct(first, &v1),
        pct(edit, &v2),
        pct(middle_edit, &v3)
    );
    assert!(pct(edit, &v2) < 1.0);
    assert!(pct(middle_edit, &v3) < 5.0);
    assert!(
        first >= v1.len() as u64,
        "the first upload stored less than the file"
    );
    // The last version downloads byte-exact both ways; every stored version is whole.
    let (bytes, _) = plain_get(&server, repo, "model.gguf");
    assert!(bytes == v3);
    assert!(xet_download(&server, &fresh, repo, "model.gguf") == v3);
    assert_eq!(hub_server::verify_stored_objects(&data_dir), Ok(3));
    server.stop();
}
