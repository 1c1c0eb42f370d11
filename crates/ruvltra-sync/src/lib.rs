//! Keeps `registry.json` true to the Hub: `cargo xtask sync` and its CI guard `--check`.
//!
//! The registry is the source of truth for what should be published; the Hub is the truth
//! for what is published. Sync works in three separate steps so that a failure can never
//! leave a half-updated registry:
//!
//! 1. [`fetch_snapshot`] reads, for every repository and revision the registry names, the
//!    commit the revision resolves to, the recursive tree at that commit (every page, with
//!    sizes and LFS sha256s) and the refs, into a [`HubSnapshot`]. Any failure is an error
//!    and nothing else happens.
//! 2. [`reconcile`] is pure: from the registry and the snapshot it computes the updated
//!    registry and a [`SyncReport`] of every change and difference.
//! 3. The caller saves the updated registry once, atomically (`ruvltra_registry::save`), or
//!    in `--check` mode only looks at the report. [`sync_registry_file`] does all three for a
//!    registry file.
//!
//! ```no_run
//! # async fn demo(registry: ruvltra_registry::Registry) -> Result<(), ruvltra_sync::SyncError> {
//! let client = hub_client::HubClient::from_env(None).expect("endpoint");
//! let hub = ruvltra_sync::fetch_snapshot(&client, &registry, 4).await?;
//! let opts = ruvltra_sync::SyncOptions { accept: false, now: ruvltra_sync::now_rfc3339() };
//! let (updated, report) = ruvltra_sync::reconcile(&registry, &hub, &opts);
//! # let _ = (updated, report); Ok(()) }
//! ```
#![deny(missing_docs)]

mod error;
mod fetch;
mod reconcile;
mod report;
mod run;
mod snapshot;

pub use error::SyncError;
pub use fetch::{DEFAULT_CONCURRENCY, fetch_snapshot, targets};
pub use reconcile::{SyncOptions, reconcile};
pub use report::{Finding, FindingKind, Severity, SyncReport};
pub use run::{Mode, Outcome, sync_registry_file};
pub use snapshot::{HubFile, HubSnapshot, RevisionSnapshot};

/// A Hub client for `explicit_endpoint` (else `HF_ENDPOINT`, else the public Hub) with the
/// token from the environment when there is one (`hub_client::Token::from_env`); public
/// repositories need none.
pub fn client_from_env(
    explicit_endpoint: Option<&str>,
) -> Result<hub_client::HubClient, hub_client::HubError> {
    hub_client::HubClient::from_env(explicit_endpoint)
}

/// The current time as RFC 3339 UTC with whole seconds (`2026-01-20T12:00:00Z`), the form
/// of `hub.synced_at`.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
