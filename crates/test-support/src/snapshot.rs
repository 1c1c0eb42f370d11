//! What a user sees of a command, as an insta snapshot: [`CliRun`] runs it and lays out the
//! exit status, stdout and stderr the way uv's snapshots do, and [`Filters`] replaces what
//! changes from run to run (ports, temporary paths, timings) with stable placeholders. The
//! [`cli_snapshot!`](crate::cli_snapshot) macro puts the two together.
//!
//! CI runs with `INSTA_UPDATE=no`, so a stale snapshot fails instead of being rewritten.

use std::path::Path;
use std::process::{Command, ExitStatus};

/// One finished run of a command.
#[derive(Debug, Clone)]
pub struct CliRun {
    /// How it ended.
    pub status: ExitStatus,
    /// Its stdout (lossy UTF-8).
    pub stdout: String,
    /// Its stderr (lossy UTF-8).
    pub stderr: String,
}

impl CliRun {
    /// Runs `command` to the end, capturing stdout and stderr.
    #[track_caller]
    pub fn of(command: &mut Command) -> CliRun {
        let output = command
            .output()
            .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
        CliRun {
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The exit code (`None` when a signal ended it).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// The snapshot text: success, exit code, then stdout and stderr under their own rulers.
    pub fn render(&self) -> String {
        let code = match self.status.code() {
            Some(code) => code.to_string(),
            None => format!("none ({})", self.status),
        };
        format!(
            "success: {}\nexit_code: {code}\n----- stdout -----\n{}\n----- stderr -----\n{}",
            self.status.success(),
            self.stdout.trim_end(),
            self.stderr.trim_end(),
        )
    }
}

/// What [`cli_snapshot!`](crate::cli_snapshot) takes: a command to run (`&mut Command`), or a
/// run that has ended already (a [`CliRun`], for a server stopped by a signal).
pub trait IntoCliRun {
    /// Runs the command, or returns the run.
    fn into_cli_run(self) -> CliRun;
}

impl IntoCliRun for &mut Command {
    fn into_cli_run(self) -> CliRun {
        CliRun::of(self)
    }
}

impl IntoCliRun for CliRun {
    fn into_cli_run(self) -> CliRun {
        self
    }
}

/// Replacements applied to a snapshot before it is compared: the caller's own (paths,
/// URLs, tokens; applied first, in the order given), then the defaults for what changes on
/// every run.
///
/// The defaults replace the workspace's `target/tmp` with `[TARGET_TMP]`, the workspace root
/// with `[WORKSPACE]` (also when the checkout sits in the temporary folder), a throwaway folder
/// in the system's temporary folder (`/tmp/.tmpXXXXXX`, `/tmp/ruvltra-demo-XXXXXX`) with
/// `[TEMP]`, loopback ports with
/// `[PORT]` and durations (`12ms`, `1.5 s`, `3µs`) with `[TIME]`.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    rules: Vec<(String, String)>,
}

impl Filters {
    /// The default filters only.
    pub fn new() -> Filters {
        Filters::default()
    }

    /// Replaces every occurrence of `path` (as displayed) with `placeholder`, such as `[DIR]`.
    pub fn path(self, path: impl AsRef<Path>, placeholder: &str) -> Filters {
        let text = path.as_ref().display().to_string();
        self.literal(&text, placeholder)
    }

    /// Replaces every occurrence of `text` with `placeholder`.
    pub fn literal(mut self, text: &str, placeholder: &str) -> Filters {
        self.rules.push((escape(text), placeholder.to_owned()));
        self
    }

    /// Replaces every match of the regular expression `pattern` with `replacement` (which
    /// may name groups as `$1`).
    pub fn regex(mut self, pattern: &str, replacement: &str) -> Filters {
        self.rules
            .push((pattern.to_owned(), replacement.to_owned()));
        self
    }

    /// Every rule, the caller's then the defaults, as (regular expression, replacement).
    pub fn rules(&self) -> Vec<(String, String)> {
        let mut rules = self.rules.clone();
        rules.extend(default_rules(
            &crate::workspace_root(),
            &std::env::temp_dir(),
        ));
        rules
    }

    /// The insta settings that apply these filters (and leave the expression out of file
    /// snapshots: the command is in the test, the snapshot shows its output).
    pub fn settings(&self) -> insta::Settings {
        let mut settings = insta::Settings::clone_current();
        for (pattern, replacement) in self.rules() {
            settings.add_filter(&pattern, replacement);
        }
        settings.set_omit_expression(true);
        settings
    }
}

/// The default rules for a workspace at `root` and a temporary folder `temp`, in the order
/// they apply.
fn default_rules(root: &Path, temp: &Path) -> Vec<(String, String)> {
    let temp = temp.display().to_string();
    vec![
        (
            escape(&root.join("target/tmp").display().to_string()),
            "[TARGET_TMP]".to_owned(),
        ),
        // Before the temporary folder: a checkout may itself live there (CI clones into
        // one), and its paths must still read `[WORKSPACE]`.
        (
            escape(&root.display().to_string()),
            "[WORKSPACE]".to_owned(),
        ),
        (
            format!(
                r"(/private)?{}/\.?[A-Za-z0-9_-]+",
                escape(temp.trim_end_matches('/'))
            ),
            "[TEMP]".to_owned(),
        ),
        (
            r"(127\.0\.0\.1|localhost|\[::1\]):\d+".to_owned(),
            "$1:[PORT]".to_owned(),
        ),
        (
            r"\b\d+(\.\d+)?\s?(ns|µs|us|ms|s)\b".to_owned(),
            "[TIME]".to_owned(),
        ),
    ]
}

/// `text` with the regular-expression syntax characters escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Runs a command (or takes a finished [`CliRun`]) and checks what a user sees of it (exit status, stdout, stderr) against a
/// snapshot, with [`Filters`] applied; evaluates to the [`CliRun`] for further checks.
///
/// ```
/// use test_support::{Filters, cli_snapshot};
///
/// let dir = std::env::temp_dir().join("demo");
/// let script = format!("echo wrote {}/registry.json in 12ms", dir.display());
/// let run = cli_snapshot!(
///     Filters::new().path(&dir, "[DIR]"),
///     std::process::Command::new("sh").args(["-c", &script]),
///     @r"
///     success: true
///     exit_code: 0
///     ----- stdout -----
///     wrote [DIR]/registry.json in [TIME]
///     ----- stderr -----
///     "
/// );
/// assert!(run.status.success());
/// ```
///
/// Inline snapshots (`@"…"`) suit short outputs; without one the snapshot is a file under
/// `snapshots/` named after the test function (or the name given first, a string literal).
#[macro_export]
macro_rules! cli_snapshot {
    ($filters:expr, $command:expr, @$snapshot:literal) => {{
        let run = $crate::snapshot::IntoCliRun::into_cli_run($command);
        let rendered = run.render();
        $crate::Filters::settings(&$filters).bind(|| {
            $crate::insta::assert_snapshot!(rendered, @$snapshot);
        });
        run
    }};
    ($name:literal, $filters:expr, $command:expr) => {{
        let run = $crate::snapshot::IntoCliRun::into_cli_run($command);
        let rendered = run.render();
        $crate::Filters::settings(&$filters).bind(|| {
            $crate::insta::assert_snapshot!($name, rendered);
        });
        run
    }};
    ($filters:expr, $command:expr) => {{
        let run = $crate::snapshot::IntoCliRun::into_cli_run($command);
        let rendered = run.render();
        $crate::Filters::settings(&$filters).bind(|| {
            $crate::insta::assert_snapshot!(rendered);
        });
        run
    }};
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::default_rules;

    #[test]
    fn a_checkout_in_the_temporary_folder_still_reads_workspace() {
        // CI clones into a folder that may sit in the temporary folder: the workspace rule
        // must apply before the rule that turns any temporary folder into `[TEMP]`.
        let rules = default_rules(Path::new("/tmp/ci-clone"), Path::new("/tmp"));
        let position = |placeholder: &str| {
            rules
                .iter()
                .position(|(_, replacement)| replacement == placeholder)
                .unwrap_or_else(|| panic!("no {placeholder} rule"))
        };
        assert!(position("[TARGET_TMP]") < position("[WORKSPACE]"));
        assert!(position("[WORKSPACE]") < position("[TEMP]"));
        assert_eq!(rules[position("[WORKSPACE]")].0, "/tmp/ci\\-clone");
    }
}
