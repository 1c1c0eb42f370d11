//! The `ruvllm` command on the compiled-in catalog: `list`, `info` and `verify` against a
//! cache laid out by hand, and its exit statuses.

mod support;

use std::fs;

use ruvllm::hub::registry::{self, ModelSpec};
use support::cli;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = cli().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn list_shows_every_model_of_the_catalog() {
    let (code, stdout, _) = run(&["list"]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("ID "), "{stdout}");
    assert_eq!(stdout.lines().count(), registry::MODELS.len() + 1);
    for m in registry::MODELS {
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(m.id))
            .unwrap_or_else(|| panic!("{} missing from {stdout}", m.id));
        assert!(line.contains(m.quant.label()), "{line}");
        assert!(line.ends_with(m.status.as_str()), "{line}");
    }
}

#[test]
fn unknown_ids_are_errors_that_list_the_known_ones() {
    let (code, _, stderr) = run(&["info", "no-such-model"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("no model \"no-such-model\""), "{stderr}");
    assert!(stderr.contains(registry::MODELS[0].id), "{stderr}");
    let (code, _, _) = run(&["pull"]);
    assert_eq!(code, 2, "usage errors exit with 2");
}

/// A single-file catalog model without a registry checksum and of unknown or small size, so
/// a hand-made cache entry can stand for it (a planned model).
fn unsynced_model() -> &'static ModelSpec {
    registry::MODELS
        .iter()
        .find(|m| {
            m.sha256.is_none() && m.extra_files.is_empty() && m.bytes.is_none_or(|b| b <= 1 << 24)
        })
        .expect("the catalog has a model without checksum or size (a planned one); adapt this test")
}

#[test]
fn info_and_verify_read_the_cache_without_network() {
    let m = unsynced_model();
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().display().to_string();

    let (code, stdout, _) = run(&["info", m.id, "--cache-dir", &dir]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains(&format!("id:            {}", m.id)),
        "{stdout}"
    );
    assert!(stdout.contains(&m.download_url()), "{stdout}");
    assert!(stdout.trim_end().ends_with("cached:        no"), "{stdout}");
    let (code, _, stderr) = run(&["verify", m.id, "--cache-dir", &dir]);
    assert_eq!(code, 1);
    assert!(stderr.contains("is not in the cache"), "{stderr}");

    // Lay the file out as huggingface_hub would for an LFS file: a blob named by its sha256,
    // a snapshot link and a ref.
    let repo = cache
        .path()
        .join(format!("models--{}", m.repo.replace('/', "--")));
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let data = test_support::pseudo_random(m.bytes.unwrap_or(70_000) as usize, 42);
    let etag = test_support::sha256_hex(&data);
    fs::create_dir_all(repo.join("blobs")).unwrap();
    fs::write(repo.join("blobs").join(&etag), &data).unwrap();
    let snap = repo.join("snapshots").join(commit);
    fs::create_dir_all(&snap).unwrap();
    std::os::unix::fs::symlink(format!("../../blobs/{etag}"), snap.join(m.file)).unwrap();
    fs::create_dir_all(repo.join("refs")).unwrap();
    fs::write(repo.join("refs").join(m.revision), commit).unwrap();

    let (code, stdout, stderr) = run(&["verify", m.id, "--cache-dir", &dir]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim_end(), snap.join(m.file).display().to_string());
    assert!(
        stderr.contains(&format!("ok: {} (hub sha256)", m.file)),
        "{stderr}"
    );
    let (_, stdout, _) = run(&["info", m.id, "--cache-dir", &dir]);
    assert!(
        stdout.contains(&snap.join(m.file).display().to_string()),
        "{stdout}"
    );

    // One changed byte fails `verify` (a full re-hash), naming both checksums.
    let mut bad = data.clone();
    bad[10] ^= 1;
    fs::write(repo.join("blobs").join(&etag), &bad).unwrap();
    let (code, _, stderr) = run(&["verify", m.id, "--cache-dir", &dir]);
    assert_eq!(code, 1);
    assert!(stderr.contains("failed verification"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "expected sha256 {etag}, found {}",
            test_support::sha256_hex(&bad)
        )),
        "{stderr}"
    );
}
