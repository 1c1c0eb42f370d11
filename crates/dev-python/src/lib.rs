//! The one way the test suites find the workspace's Python and run scripts with it, so that
//! every cross-check with an official Python package fails, never skips, when the virtualenv
//! is missing, and says how to make it.
//!
//! The interpreter is `RUVLTRA_PYTHON` when set and not empty, else `.venv/bin/python` at the
//! workspace root; `cargo xtask test` creates that venv from `tests/python/requirements.txt`
//! and sets `RUVLTRA_PYTHON` to it. These are test helpers: every failure is a panic with a
//! message that says what to do.
//!
//! It also says how the official Hub client is set up for each of its two transfer modes
//! ([`HubTransfer`]: Xet, the default, and LFS), so every cross-check runs in both.

use std::ffi::OsStr;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};

/// The environment variable naming the interpreter (`cargo xtask test` sets it).
pub const ENV_VAR: &str = "RUVLTRA_PYTHON";

/// What to do when the interpreter or one of its packages is missing.
pub const HOW_TO_SET_UP: &str = "run `cargo xtask test` at the workspace root (it creates .venv \
    and installs tests/python/requirements.txt into it), or set RUVLTRA_PYTHON to a python that has them";

/// The workspace root (this crate sits at `crates/dev-python`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/dev-python sits two levels below the workspace root")
        .to_path_buf()
}

/// Where the interpreter should be: `RUVLTRA_PYTHON` when set and not empty, else
/// `.venv/bin/python` at the workspace root. Checks nothing; [`Python::find`] does.
pub fn interpreter_path() -> PathBuf {
    match std::env::var_os(ENV_VAR) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => workspace_root().join(".venv/bin/python"),
    }
}

/// How the official Python client (`huggingface_hub` with `hf_xet` installed) moves large
/// files in a cross-check. Both kinds of client exist, so every test that drives it against
/// the local server runs once in each mode ([`HubTransfer::BOTH`]); this is the one place that
/// says how a mode is set up ([`Run::hub_transfer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubTransfer {
    /// Xet, the client's default: `HF_HUB_DISABLE_XET` unset, uploads and downloads through
    /// the CAS.
    Xet,
    /// The Git LFS path, with `HF_HUB_DISABLE_XET=1`.
    Lfs,
}

impl HubTransfer {
    /// Both modes, Xet first.
    pub const BOTH: [HubTransfer; 2] = [HubTransfer::Xet, HubTransfer::Lfs];

    /// `xet` or `lfs`, which [`Run::hub_transfer`] also puts in `HUB_TEST_TRANSFER` for
    /// scripts that check which mode they run in.
    pub fn name(self) -> &'static str {
        match self {
            HubTransfer::Xet => "xet",
            HubTransfer::Lfs => "lfs",
        }
    }
}

impl std::fmt::Display for HubTransfer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An interpreter known to exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Python {
    path: PathBuf,
}

impl Python {
    /// The workspace's interpreter ([`interpreter_path`]); panics (never skips) when it is missing.
    #[track_caller]
    pub fn find() -> Self {
        Self::at(interpreter_path())
    }

    /// The interpreter at `path`; panics when there is no file there.
    #[track_caller]
    pub fn at(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        assert!(
            path.is_file(),
            "python not found at {}: {HOW_TO_SET_UP}",
            path.display()
        );
        Self { path }
    }

    /// The workspace's interpreter, checked to import every one of `modules`; prints their
    /// versions to stderr. Panics (never skips) when it is missing or an import fails, with
    /// Python's stderr in the message.
    #[track_caller]
    pub fn with_modules(modules: &[&str]) -> Self {
        let python = Self::find();
        let code = format!(
            "import importlib\nfor m in {modules:?}:\n    \
             print(m, getattr(importlib.import_module(m), '__version__', '(no version)'))"
        );
        let out = python.snippet(&code).output();
        assert!(
            out.status.success(),
            "{} cannot import {}: {HOW_TO_SET_UP}\n{}",
            python.path.display(),
            modules.join(", "),
            String::from_utf8_lossy(&out.stderr)
        );
        eprint!("{}", String::from_utf8_lossy(&out.stdout));
        python
    }

    /// The interpreter's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `python SCRIPT`; add arguments and environment on the returned [`Run`].
    pub fn script(&self, script: impl AsRef<Path>) -> Run {
        let mut run = self.command();
        run.command.arg(script.as_ref());
        run
    }

    /// `python -c CODE`; arguments added on the returned [`Run`] become `sys.argv[1:]`.
    pub fn snippet(&self, code: &str) -> Run {
        let mut run = self.command();
        run.command.args([OsStr::new("-c"), OsStr::new(code)]);
        run
    }

    /// `python -m MODULE` (for example `pytest`).
    pub fn module(&self, module: &str) -> Run {
        let mut run = self.command();
        run.command.args(["-m", module]);
        run
    }

    /// `python -m pytest -q -p no:cacheprovider SUITE`, run at the workspace root, where
    /// `suite` is relative (for example `tests/python/test_hub_server.py`).
    pub fn pytest(&self, suite: &str) -> Run {
        self.module("pytest").current_dir(workspace_root()).args([
            "-q",
            "-p",
            "no:cacheprovider",
            suite,
        ])
    }

    fn command(&self) -> Run {
        Run {
            command: Command::new(&self.path),
            stdin: None,
        }
    }
}

/// One run of the interpreter, being set up.
#[derive(Debug)]
pub struct Run {
    command: Command,
    stdin: Option<Vec<u8>>,
}

impl Run {
    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.command.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    /// Sets an environment variable of the child.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.command.env_remove(key);
        self
    }

    /// Sets the child up for the official client's `mode`: `HF_HUB_DISABLE_XET` (unset for
    /// Xet, `1` for LFS), `HF_XET_CACHE` in `scratch/xet-cache` (so a test sees the chunk cache
    /// it made, and never the user's), `HF_XET_TELEMETRY_ENABLED=0`, and `HUB_TEST_TRANSFER`.
    pub fn hub_transfer(self, mode: HubTransfer, scratch: &Path) -> Self {
        let run = self
            .env("HF_XET_CACHE", scratch.join("xet-cache"))
            .env("HF_XET_TELEMETRY_ENABLED", "0")
            .env("HUB_TEST_TRANSFER", mode.name());
        match mode {
            HubTransfer::Xet => run.env_remove("HF_HUB_DISABLE_XET"),
            HubTransfer::Lfs => run.env("HF_HUB_DISABLE_XET", "1"),
        }
    }

    /// Runs the child in `dir`.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.command.current_dir(dir);
        self
    }

    /// Feeds `bytes` to the child's stdin (else stdin is empty).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Runs to the end and returns what happened, whatever the exit status; panics only when
    /// the interpreter cannot be started.
    #[track_caller]
    pub fn output(mut self) -> Output {
        let python = self.command.get_program().to_string_lossy().into_owned();
        let started = match self.stdin.take() {
            None => self.command.output(),
            Some(bytes) => self
                .command
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .and_then(|mut child| {
                    let mut stdin = child.stdin.take().expect("stdin is piped");
                    // Fed from a thread of its own while stdout and stderr are read: a child
                    // that prints a pipe's worth before it reads all of stdin would otherwise
                    // wait for us while we wait for it. A child that exits without reading
                    // all of stdin closes the pipe; its status and stderr say why, so a write
                    // error is not the story here.
                    let feeder = std::thread::spawn(move || {
                        let _ = stdin.write_all(&bytes);
                    });
                    let out = child.wait_with_output();
                    let _ = feeder.join();
                    out
                }),
        };
        started.unwrap_or_else(|e| panic!("cannot run {python} ({e}): {HOW_TO_SET_UP}"))
    }

    /// Runs to the end; panics, with stderr and stdout in the message, unless it exited
    /// successfully with UTF-8 on stdout.
    #[track_caller]
    pub fn run(self) -> Finished {
        let what = self.describe();
        let out = self.output();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let hint = if stderr.contains("ModuleNotFoundError") {
            format!("\na Python package is missing: {HOW_TO_SET_UP}")
        } else {
            String::new()
        };
        assert!(
            out.status.success(),
            "{what} failed ({}){hint}\n--- stderr ---\n{stderr}--- stdout ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout)
        );
        let stdout = String::from_utf8(out.stdout)
            .unwrap_or_else(|e| panic!("{what} printed non-UTF-8 on stdout: {e}"));
        Finished {
            status: out.status,
            stdout,
            stderr,
        }
    }
}

impl Run {
    /// The command line for messages: the interpreter and its arguments, each long or
    /// multi-line argument (a snippet) cut to its first line. The environment is left out.
    fn describe(&self) -> String {
        let mut text = self.command.get_program().to_string_lossy().into_owned();
        for arg in self.command.get_args() {
            let arg = arg.to_string_lossy();
            let first = arg.lines().next().unwrap_or_default();
            if first.len() > 80 || first.len() < arg.len() {
                let cut: String = first.chars().take(80).collect();
                text.push_str(&format!(" '{cut}…'"));
            } else {
                text.push_str(&format!(" '{arg}'"));
            }
        }
        text
    }
}

/// A run that exited successfully.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The exit status (a success).
    pub status: ExitStatus,
    /// Everything the child printed on stdout.
    pub stdout: String,
    /// Everything the child printed on stderr (lossy UTF-8).
    pub stderr: String,
}
