//! One whole sync of a registry file: load, fetch everything, reconcile, validate, save once.

use std::path::Path;

use hub_client::HubClient;
use ruvltra_registry::Registry;

use crate::error::SyncError;
use crate::fetch::fetch_snapshot;
use crate::reconcile::{SyncOptions, reconcile};
use crate::report::SyncReport;

/// What a run does with the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Update the registry file; take drifted values only when `accept` is set.
    Sync {
        /// Take the Hub's sha256 where it differs from the registry's.
        accept: bool,
    },
    /// Change nothing; only report the differences.
    Check,
}

/// The result of [`sync_registry_file`].
#[derive(Debug, Clone)]
pub struct Outcome {
    /// What was found and changed.
    pub report: SyncReport,
    /// True when the registry file was rewritten.
    pub written: bool,
    /// The mode of the run.
    pub mode: Mode,
    /// The registry after reconciliation (the file's contents when `written`).
    pub registry: Registry,
}

impl Outcome {
    /// True when the registry matches the Hub: in check mode, before the run (nothing to
    /// change, nothing missing); in sync mode, after it (no unaccepted drift, nothing
    /// missing). The CLI exits 0 when this holds and 1 otherwise.
    pub fn in_sync(&self) -> bool {
        match self.mode {
            Mode::Check => self.report.differences().next().is_none(),
            Mode::Sync { .. } => self.report.remaining().next().is_none(),
        }
    }
}

/// Syncs (or checks) the registry file at `path` against the Hub `client` talks to.
///
/// Everything is read from the Hub before anything is decided; any failure (an unreadable
/// or invalid registry, a Hub error of any kind) returns an error and leaves the file as it
/// was. The file is rewritten once, atomically and in canonical form, only in sync mode and
/// only when something changed, so a sync with no Hub change keeps it byte-identical.
/// Updates other than unaccepted drift are written even when the drift makes the run fail.
pub async fn sync_registry_file(
    path: &Path,
    client: &HubClient,
    mode: Mode,
    concurrency: usize,
    now: String,
) -> Result<Outcome, SyncError> {
    let registry = ruvltra_registry::load(path)?;
    let hub = fetch_snapshot(client, &registry, concurrency).await?;
    let accept = matches!(mode, Mode::Sync { accept: true });
    let (updated, report) = reconcile(&registry, &hub, &SyncOptions { accept, now });
    let mut written = false;
    if matches!(mode, Mode::Sync { .. }) && report.changes_registry() {
        // A reconciled registry always validates; checking anyway means a bug can never
        // write a registry that the next run would refuse to read.
        ruvltra_registry::validate(&updated).map_err(|problems| SyncError::InvalidResult {
            path: path.to_owned(),
            problems,
        })?;
        ruvltra_registry::save(path, &updated).map_err(|source| SyncError::Write {
            path: path.to_owned(),
            source,
        })?;
        written = true;
    }
    Ok(Outcome {
        report,
        written,
        mode,
        registry: updated,
    })
}
