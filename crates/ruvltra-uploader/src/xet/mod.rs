//! Publishing through Xet (`docs/XET-NOTES.md`): the choice of transfer, and the upload of a
//! publish's large files as chunks, each sent once and only when no one has it yet.
//!
//! The check pass already cut and hashed every chunk (`check.rs`), so the whole upload is
//! planned before anything is sent: the local index (`index.rs`) and the CAS's global dedup
//! answers place what they can, the plan (`plan.rs`) puts the rest in new xorbs, which are
//! streamed from the files (`body.rs`) and followed by one shard (`send.rs`). The commit that
//! follows is the publish's usual single commit: its `lfsFile` lines name the sha256s the
//! shard linked.

mod body;
mod index;
mod plan;
mod send;

use std::path::PathBuf;

use hub_client::xet::{XetAccess, XetSession};
use hub_client::{HubClient, HubError, RepoId};
use serde::Serialize;

pub use index::{DEFAULT_MAX_BYTES, LocalIndex, UNCONFIRMED_TTL, XET_CACHE_ENV, default_cache_dir};
pub use plan::{SourceFile, XetFileReport};
pub use send::{XetOutcome, XetSummary, send_files};

use crate::error::UploadError;
use crate::event::{Event, Observer};

/// How a publish sends its large files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transfer {
    /// Xet when the Hub offers it (its write-token route answers), the LFS path otherwise:
    /// a server without Xet, and ModelScope, work as before.
    #[default]
    Auto,
    /// Xet only: a Hub without it is an error.
    Xet,
    /// The Git LFS path only (basic or multipart).
    Lfs,
}

impl Transfer {
    /// The `--transfer` value.
    pub fn label(self) -> &'static str {
        match self {
            Transfer::Auto => "auto",
            Transfer::Xet => "xet",
            Transfer::Lfs => "lfs",
        }
    }
}

/// The Xet side of a publish's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XetSettings {
    /// The transfer.
    pub transfer: Transfer,
    /// The root of the local Xet index; `None` publishes without one (global dedup only).
    pub cache: Option<PathBuf>,
}

impl Default for XetSettings {
    /// [`Transfer::Auto`] with the index at [`default_cache_dir`].
    fn default() -> Self {
        XetSettings {
            transfer: Transfer::Auto,
            cache: default_cache_dir(),
        }
    }
}

/// Whether an error of the write-token route means "this Hub has no Xet".
fn means_no_xet(error: &HubError) -> bool {
    matches!(error.status(), Some(404 | 405 | 501))
}

/// Opens a CAS session for an upload to `repo`@`branch`, or `None` for the LFS path: with
/// [`Transfer::Lfs`], or [`Transfer::Auto`] on a Hub whose write-token route is missing.
pub async fn open_session(
    client: &HubClient,
    repo: &RepoId,
    branch: &str,
    transfer: Transfer,
    observer: &Observer,
) -> Result<Option<XetSession>, UploadError> {
    if transfer == Transfer::Lfs {
        return Ok(None);
    }
    match client.xet_session(repo, branch, XetAccess::Write).await {
        Ok(session) => Ok(Some(session)),
        Err(e) if means_no_xet(&e) && transfer == Transfer::Auto => {
            observer(Event::Notice(format!(
                "{} does not offer Xet uploads; sending through Git LFS",
                client.endpoint()
            )));
            Ok(None)
        }
        Err(e) if means_no_xet(&e) => Err(UploadError::InvalidInput(format!(
            "{} does not offer Xet uploads ({e}); publish with --transfer auto or --transfer lfs",
            client.endpoint()
        ))),
        Err(e) => Err(e.into()),
    }
}
