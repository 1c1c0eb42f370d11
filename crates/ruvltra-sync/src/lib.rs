//! Keeps `registry.json` true to the Hub and to its ModelScope mirror: `cargo xtask sync`
//! (`--from hub|modelscope|all`) and its CI guard `--check`.
//!
//! The registry is the source of truth for what should be published; the Hub (and the
//! ModelScope mirror) is the truth for what is published. Sync works in three separate steps
//! so that a failure can never leave a half-updated registry:
//!
//! 1. [`fetch_snapshot`] reads, through a [`SnapshotSource`], for every repository and
//!    revision the registry names, the commit the revision resolves to, the files of that
//!    commit (with sizes and sha256s) and the tags at it, into a [`HubSnapshot`]. The Hub's
//!    `HubClient` reads each model's `repo` at its `revision`; ModelScope's `ModelScopeClient`
//!    reads its `modelscope_repo_name` at its `modelscope_revision` (`main` is `master`), and
//!    records a repository or revision that does not exist instead of failing. Any failure is
//!    an error and nothing else happens.
//! 2. [`reconcile`] is pure: from the registry and the snapshot it computes the updated
//!    registry and a [`SyncReport`] of every change and difference. A Hub snapshot updates
//!    `model.hub` and adds new convention-named models for review; a ModelScope snapshot
//!    updates `model.modelscope` and adds nothing (see the `reconcile` rules).
//! 3. The caller saves the updated registry once, atomically (`ruvltra_registry::save`), or
//!    in `--check` mode only looks at the report. [`sync_registry_file`] does all three for a
//!    registry file, [`sync_registry_file_from`] for several sources with one save.
//!
//! ```no_run
//! # async fn demo(registry: ruvltra_registry::Registry) -> Result<(), ruvltra_sync::SyncError> {
//! let client = hub_client::HubClient::from_env(None).expect("endpoint");
//! let hub = ruvltra_sync::fetch_snapshot(&client, &registry, 4).await?;
//! let opts = ruvltra_sync::SyncOptions { accept: false, now: ruvltra_sync::now_rfc3339() };
//! let (updated, report) = ruvltra_sync::reconcile(&registry, &hub, &opts);
//! # let _ = (updated, report);
//! // The ModelScope mirror: MODELSCOPE_ENDPOINT / MODELSCOPE_DOMAIN, MODELSCOPE_API_TOKEN.
//! let mirror = modelscope_client::ModelScopeClient::from_env(None).expect("endpoint");
//! let ms = ruvltra_sync::fetch_snapshot(&mirror, &registry, 4).await?;
//! let (updated, report) = ruvltra_sync::reconcile(&registry, &ms, &opts);
//! # let _ = (updated, report); Ok(()) }
//! ```
#![deny(missing_docs)]

mod error;
mod fetch;
mod modelscope;
mod reconcile;
mod report;
mod run;
mod snapshot;

pub use error::SyncError;
pub use fetch::{
    DEFAULT_CONCURRENCY, RevisionRead, SnapshotSource, fetch_snapshot, targets, targets_of,
};
pub use reconcile::{SyncOptions, reconcile};
pub use report::{Finding, FindingKind, Severity, SyncReport};
pub use run::{AnySource, Mode, Outcome, sync_registry_file, sync_registry_file_from};
pub use snapshot::{Absence, HubFile, HubSnapshot, Origin, RevisionSnapshot};

/// The current time as RFC 3339 UTC with whole seconds (`2026-01-20T12:00:00Z`), the form
/// of `hub.synced_at`.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
