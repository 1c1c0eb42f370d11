//! One whole sync of a registry file: load, fetch everything (from one registry or several),
//! reconcile, validate, save once.

use std::path::Path;

use hub_client::HubClient;
use modelscope_client::ModelScopeClient;
use ruvltra_registry::Registry;

use crate::error::SyncError;
use crate::fetch::{RevisionRead, SnapshotSource, fetch_snapshot};
use crate::reconcile::{SyncOptions, reconcile};
use crate::report::SyncReport;
use crate::snapshot::Origin;

/// What a run does with the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Update the registry file; take drifted values only when `accept` is set.
    Sync {
        /// Take the Hub's (or ModelScope's) sha256 where it differs from the registry's.
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
    /// True when the registry matches the Hub (or ModelScope): in check mode, before the
    /// run (nothing to change, nothing missing); in sync mode, after it (no unaccepted
    /// drift, nothing missing). The CLI exits 0 when this holds and 1 otherwise.
    pub fn in_sync(&self) -> bool {
        match self.mode {
            Mode::Check => self.report.differences().next().is_none(),
            Mode::Sync { .. } => self.report.remaining().next().is_none(),
        }
    }
}

/// Either registry, for syncing from several in one run ([`sync_registry_file_from`]).
#[derive(Debug, Clone, Copy)]
pub enum AnySource<'a> {
    /// The Hugging Face Hub.
    Hub(&'a HubClient),
    /// The ModelScope mirror.
    ModelScope(&'a ModelScopeClient),
}

impl SnapshotSource for AnySource<'_> {
    fn origin(&self) -> Origin {
        match self {
            AnySource::Hub(client) => client.origin(),
            AnySource::ModelScope(client) => client.origin(),
        }
    }

    async fn read_repo(
        &self,
        repo: &str,
        revisions: &std::collections::BTreeSet<String>,
    ) -> Result<Vec<(String, RevisionRead)>, SyncError> {
        match self {
            AnySource::Hub(client) => client.read_repo(repo, revisions).await,
            AnySource::ModelScope(client) => client.read_repo(repo, revisions).await,
        }
    }
}

/// Syncs (or checks) the registry file at `path` against the registry `source` reads (the
/// Hub through a `HubClient`, ModelScope through a `ModelScopeClient`).
///
/// Everything is read before anything is decided; any failure (an unreadable or invalid
/// registry, a Hub or ModelScope error of any kind) returns an error and leaves the file as
/// it was. The file is rewritten once, atomically and in canonical form, only in sync mode
/// and only when something changed, so a sync with no change keeps it byte-identical.
/// Updates other than unaccepted drift are written even when the drift makes the run fail.
pub async fn sync_registry_file<S: SnapshotSource>(
    path: &Path,
    source: &S,
    mode: Mode,
    concurrency: usize,
    now: String,
) -> Result<Outcome, SyncError> {
    sync_registry_file_from(path, std::slice::from_ref(source), mode, concurrency, now).await
}

/// Like [`sync_registry_file`] with several sources (`cargo xtask sync --from all`): every
/// source is read before anything is decided, the snapshots are reconciled in order (each
/// on the result of the one before; the report lists their findings in that order), and the
/// file is saved at most once.
pub async fn sync_registry_file_from<S: SnapshotSource>(
    path: &Path,
    sources: &[S],
    mode: Mode,
    concurrency: usize,
    now: String,
) -> Result<Outcome, SyncError> {
    let registry = ruvltra_registry::load(path)?;
    let mut snapshots = Vec::with_capacity(sources.len());
    for source in sources {
        snapshots.push(fetch_snapshot(source, &registry, concurrency).await?);
    }
    let accept = matches!(mode, Mode::Sync { accept: true });
    let opts = SyncOptions { accept, now };
    let mut updated = registry;
    let mut report = SyncReport::default();
    for snapshot in &snapshots {
        let (next, part) = reconcile(&updated, snapshot, &opts);
        updated = next;
        report.findings.extend(part.findings);
    }
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
