//! The architecture invariant "knows no API shape", as far as dependencies can show it: the
//! transport depends on no crate of the workspace (not the Hub client, not the ModelScope
//! client, not the registry), so nothing of either API can reach it.

use std::path::Path;
use std::process::Command;

#[test]
fn no_workspace_crate_is_a_dependency() {
    let out = Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "-p",
            "http-transport",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .output()
        .expect("cannot run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    assert!(
        listed.iter().any(|n| n == "reqwest"),
        "the listing looks wrong: {listed:?}"
    );
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut workspace: Vec<String> = std::fs::read_dir(crates)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "http-transport")
        .collect();
    workspace.push("xtask".into());
    assert!(workspace.iter().any(|n| n == "hub-client"), "{workspace:?}");
    for name in &workspace {
        assert!(
            !listed.contains(name),
            "{name} is a dependency of http-transport: {listed:?}"
        );
    }
}
