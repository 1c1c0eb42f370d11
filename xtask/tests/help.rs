//! `cargo xtask --help` and the help of the commands that work on both registries say so:
//! `sync`, `publish` and `verify` take `--from`/`--to modelscope`, and a user reading the
//! help must not conclude they are Hub-only.

use std::process::Command;

/// What `xtask ARGS` prints on stdout; the run must succeed.
fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "xtask {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_command_list_names_modelscope_for_sync_publish_and_verify() {
    let text = help(&["--help"]);
    for command in ["sync", "publish", "verify"] {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{command} ")))
            .unwrap_or_else(|| panic!("no {command} line in:\n{text}"));
        assert!(line.contains("ModelScope"), "{line}");
        assert!(
            line.contains("modelscope"),
            "the flag value is shown: {line}"
        );
    }
}

#[test]
fn each_command_help_opens_with_both_registries() {
    for (command, flag) in [("sync", "--from"), ("publish", "--to"), ("verify", "--to")] {
        let text = help(&[command, "--help"]);
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.contains("Hub") && first.contains("ModelScope"),
            "{command}: {first}"
        );
        assert!(
            text.contains(flag),
            "{command} --help has no {flag}:\n{text}"
        );
    }
}
