//! The helper does what the test suites rely on: a missing interpreter or package fails with
//! the set-up instructions, arguments, environment and stdin reach the script, and a failed
//! script panics with its stderr. Needs the workspace venv, like every Python cross-check.

use dev_python::{ENV_VAR, Python, interpreter_path, workspace_root};

#[test]
fn the_default_interpreter_is_the_workspace_venv_or_the_env_var() {
    let expected = match std::env::var_os(ENV_VAR) {
        Some(p) if !p.is_empty() => p.into(),
        _ => workspace_root().join(".venv/bin/python"),
    };
    assert_eq!(interpreter_path(), expected);
    assert!(workspace_root().join("Cargo.lock").is_file());
    assert_eq!(Python::find().path(), expected);
}

#[test]
#[should_panic(expected = "python not found at /nonexistent/bin/python: run `cargo xtask test`")]
fn a_missing_interpreter_fails_with_what_to_do() {
    Python::at("/nonexistent/bin/python");
}

#[test]
#[should_panic(expected = "cannot import json, no_such_module_xyz: run `cargo xtask test`")]
fn a_missing_module_fails_with_what_to_do() {
    Python::with_modules(&["json", "no_such_module_xyz"]);
}

#[test]
fn a_snippet_gets_its_arguments_environment_and_stdin() {
    let done = Python::find()
        .snippet(
            "import os, sys\n\
             print(sys.argv[1:], os.environ['DEV_PYTHON_X'], 'HOME' in os.environ, sys.stdin.read())\n\
             print('to stderr', file=sys.stderr)",
        )
        .args(["a", "b c"])
        .env("DEV_PYTHON_X", "x=1")
        .env_remove("HOME")
        .stdin("piped in")
        .run();
    assert!(done.status.success());
    assert_eq!(done.stdout, "['a', 'b c'] x=1 False piped in\n");
    assert_eq!(done.stderr, "to stderr\n");
}

#[test]
fn a_child_that_prints_much_before_reading_stdin_does_not_deadlock() {
    // Both 1 MiB, far beyond a pipe's buffer in each direction.
    let input = "x".repeat(1 << 20);
    let done = Python::find()
        .snippet(
            "import sys\n\
             sys.stdout.write('y' * (1 << 20))\n\
             sys.stdout.flush()\n\
             print(len(sys.stdin.read()))",
        )
        .stdin(input)
        .run();
    assert_eq!(done.stdout.len(), (1 << 20) + "1048576\n".len());
    assert!(
        done.stdout.ends_with("y1048576\n"),
        "{}",
        &done.stdout[1 << 20..]
    );
}

#[test]
fn a_script_runs_in_the_given_directory_and_modules_and_pytest_run_with_dash_m() {
    let dir = std::env::temp_dir().join(format!("dev-python-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("where.py");
    std::fs::write(&script, "import os, sys\nprint(os.getcwd(), sys.argv[1])\n").unwrap();
    let python = Python::find();
    let done = python.script(&script).arg("one").current_dir(&dir).run();
    let cwd = dir.canonicalize().unwrap();
    assert_eq!(done.stdout, format!("{} one\n", cwd.display()));
    let json = python
        .module("json.tool")
        .stdin(r#"{"b": 1}"#)
        .arg("--compact")
        .run();
    assert_eq!(json.stdout, "{\"b\":1}\n");
    let suite = dir.join("test_dev_python.py");
    std::fs::write(
        &suite,
        "import os\ndef test_cwd():\n    assert os.path.isfile('Cargo.lock')\n",
    )
    .unwrap();
    let pytest = python.pytest(suite.to_str().unwrap()).run();
    assert!(pytest.stdout.contains("1 passed"), "{}", pytest.stdout);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[should_panic(
    expected = "'-c' 'import sys…' 'arg' failed (exit status: 1)\n--- stderr ---\nboom on stderr\n--- stdout ---\nhalf done\n"
)]
fn a_failed_run_panics_with_its_stderr_and_stdout() {
    Python::find()
        .snippet("import sys\nprint('half done')\nsys.exit('boom on stderr')")
        .arg("arg")
        .run();
}

#[test]
#[should_panic(expected = "a Python package is missing: run `cargo xtask test`")]
fn a_missing_import_in_a_script_says_how_to_install_it() {
    Python::find().snippet("import no_such_module_xyz").run();
}

#[test]
fn output_returns_a_failure_without_panicking() {
    let out = Python::find().snippet("raise SystemExit(3)").output();
    assert_eq!(out.status.code(), Some(3));
}

/// The architecture invariant: this crate depends on nothing, and every manifest of the
/// workspace names it under `[dev-dependencies]` only, but `test-support`'s: that crate is
/// itself a dev-dependency only (the crate table of `tests/tests/tidy.rs` checks it), so it may
/// use this one as a normal dependency.
#[test]
fn it_is_a_dev_dependency_only_and_depends_on_nothing() {
    let root = workspace_root();
    let own = std::fs::read_to_string(root.join("crates/dev-python/Cargo.toml")).unwrap();
    let mut manifests = vec![root.join("xtask/Cargo.toml"), root.join("tests/Cargo.toml")];
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let manifest = entry.unwrap().path().join("Cargo.toml");
        let skip = ["crates/dev-python", "crates/test-support"];
        if manifest.is_file() && !skip.iter().any(|s| manifest.starts_with(root.join(s))) {
            manifests.push(manifest);
        }
    }
    let mut users = 0;
    for manifest in &manifests {
        let text = std::fs::read_to_string(manifest).unwrap();
        let mut section = String::new();
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                section = line.to_owned();
            } else if line.starts_with("dev-python") {
                assert_eq!(
                    section,
                    "[dev-dependencies]",
                    "{}: dev-python outside [dev-dependencies]",
                    manifest.display()
                );
                users += 1;
            }
        }
    }
    assert!(users >= 9, "only {users} crates use dev-python");
    let mut section = String::new();
    for line in own.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_owned();
        } else if section.contains("dependencies") {
            assert!(
                line.is_empty() || line.starts_with('#'),
                "dev-python must depend on nothing: {section} {line}"
            );
        }
    }
}
