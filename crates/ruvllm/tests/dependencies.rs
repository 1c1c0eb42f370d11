//! The architecture invariant of the runtime: the generator stack and the uploader are never
//! normal dependencies of `ruvllm` (only build- or dev-dependencies), so programs using the
//! registry and the downloader do not compile or link them. The dependency-free leaf crates
//! `ruvltra-vocab` and `atomic-file` are allowed (`tests/tests/leaf_crates.rs` checks that they
//! stay dependency-free).

use std::process::Command;

/// Crate names of `cargo tree -p ruvllm -e normal` at `depth` (all features).
fn normal_deps(depth: Option<u32>) -> Vec<String> {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args([
        "tree",
        "-p",
        "ruvllm",
        "-e",
        "normal",
        "--prefix",
        "none",
        "--all-features",
        "--offline",
    ]);
    if let Some(depth) = depth {
        cmd.args(["--depth", &depth.to_string()]);
    }
    let out = cmd.output().expect("cannot run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn the_generator_stack_is_not_a_runtime_dependency() {
    let direct = normal_deps(Some(1));
    assert!(
        direct.iter().any(|n| n == "hub-client"),
        "the listing looks wrong: {direct:?}"
    );
    for banned in [
        "syn",
        "quote",
        "proc-macro2",
        "prettyplease",
        "ruvltra-codegen",
        "ruvltra-registry",
        "ruvltra-registry-macro",
        "ruvltra-uploader",
    ] {
        assert!(
            !direct.iter().any(|n| n == banned),
            "{banned} is a direct dependency of ruvllm: {direct:?}"
        );
    }
    // Proc-macro crates (serde_derive, thiserror-impl) use syn at compile time; the
    // project's own generator and uploader must not appear anywhere in the runtime tree.
    let all = normal_deps(None);
    for banned in [
        "prettyplease",
        "ruvltra-codegen",
        "ruvltra-registry",
        "ruvltra-registry-macro",
        "ruvltra-uploader",
    ] {
        assert!(
            !all.iter().any(|n| n == banned),
            "{banned} reaches ruvllm's runtime dependencies"
        );
    }
}
