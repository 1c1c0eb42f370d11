//! The helpers do what the suites rely on: digests match known values, sample bytes and
//! listings are deterministic, the catalog builders give the documented shapes, and the CLI
//! snapshot filters hide exactly what changes from run to run.

use std::process::Command;

use test_support::{Filters, catalog, cli_snapshot, files_under, pseudo_random, sha256_hex};

#[test]
fn sha256_hex_matches_the_known_digests() {
    assert_eq!(
        sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("abc");
    std::fs::write(&path, b"abc").unwrap();
    assert_eq!(test_support::sha256_file_hex(&path), sha256_hex(b"abc"));
}

#[test]
fn sample_bytes_are_deterministic_and_depend_on_the_seed() {
    assert_eq!(pseudo_random(1000, 7), pseudo_random(1000, 7));
    assert_ne!(pseudo_random(1000, 7), pseudo_random(1000, 8));
    assert_eq!(pseudo_random(10, 1).len(), 10);
}

#[test]
fn the_workspace_root_holds_the_workspace_manifest() {
    let root = test_support::workspace_root();
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("[workspace]"), "{}", root.display());
    assert_eq!(
        test_support::workspace_file("registry.json"),
        root.join("registry.json")
    );
}

#[test]
fn listings_are_relative_sorted_and_skip_build_output() {
    let dir = tempfile::tempdir().unwrap();
    for path in ["b.rs", "a/z.rs", "a/y.txt", "target/x.rs", "c/.venv/v.rs"] {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "").unwrap();
    }
    assert_eq!(
        files_under(dir.path()),
        ["a/y.txt", "a/z.rs", "b.rs", "c/.venv/v.rs", "target/x.rs"]
    );
    let rust: Vec<_> = test_support::workspace_files(dir.path(), "rs")
        .into_iter()
        .map(|p| p.strip_prefix(dir.path()).unwrap().to_owned())
        .collect();
    assert_eq!(rust, [std::path::Path::new("a/z.rs"), "b.rs".as_ref()]);
    assert!(files_under(&dir.path().join("missing")).is_empty());
}

#[test]
fn catalog_builders_follow_the_naming_convention() {
    let model = catalog::model("small", "0.5b", "q4_k_m");
    assert_eq!(model["id"], "ruvltra-small-0.5b-q4_k_m");
    assert_eq!(model["file"], "ruvltra-small-0.5b-q4_k_m.gguf");
    assert_eq!(model["name"], "RuvLTRA small 0.5b Q4_K_M");
    assert_eq!(model["hardware"]["min_ram_mib"], 1024);
    let bare = catalog::bare_model("small", "0.5b", "q4_k_m");
    assert_eq!(bare.as_object().unwrap().len(), 5);
    let registry = catalog::registry("ruv/ruvltra", vec![model]);
    assert_eq!(registry["schema_version"], 1);
    assert_eq!(registry["models"][0]["variant"], "small");
}

#[test]
fn cli_snapshots_hide_ports_temp_paths_and_timings() {
    let dir = tempfile::tempdir().unwrap();
    let script = format!(
        "echo 'listening on http://127.0.0.1:41234 and [::1]:8080, data in {}/hub'; \
         echo 'done in 1.25s (12 ms to hash, 3µs idle) at 9 models'; \
         echo 'error: wrote {}/x' >&2; exit 3",
        dir.path().display(),
        test_support::workspace_file("target/tmp/scratch").display()
    );
    let run = cli_snapshot!(Filters::new(), Command::new("sh").args(["-c", &script]), @r"
    success: false
    exit_code: 3
    ----- stdout -----
    listening on http://127.0.0.1:[PORT] and [::1]:[PORT], data in [TEMP]/hub
    done in [TIME] ([TIME] to hash, [TIME] idle) at 9 models
    ----- stderr -----
    error: wrote [TARGET_TMP]/scratch/x
    ");
    assert_eq!(run.code(), Some(3));
    assert!(run.stdout.contains("41234"), "the run keeps the raw output");
}

#[test]
fn the_callers_filters_come_before_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let filters = Filters::new()
        .path(dir.path(), "[DIR]")
        .literal("hf_secret", "[TOKEN]");
    let script = format!("echo '{}/registry.json hf_secret'", dir.path().display());
    cli_snapshot!(filters, Command::new("sh").args(["-c", &script]), @r"
    success: true
    exit_code: 0
    ----- stdout -----
    [DIR]/registry.json [TOKEN]
    ----- stderr -----
    ");
}
