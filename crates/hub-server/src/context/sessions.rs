//! Upload sessions: the objects a batch request (of either mode) announced, each behind an
//! unguessable, expiring token that its upload URLs carry. They live in memory, so a restart
//! invalidates the ones in flight and clients ask the batch endpoint again.
//!
//! State a transfer keeps between requests is declared here, below the transfers that use it,
//! so the layers stay one-way; the Xet CAS's tokens belong next to these sessions.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use axum::http::StatusCode;

use crate::error::ApiError;
use crate::store::random_hex;

/// Which mode handed out an upload URL: a token works only on its own mode's URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Site {
    Hub,
    ModelScope,
}

/// How the bytes of an upload arrive.
#[derive(Debug, Clone)]
pub(crate) enum UploadKind {
    /// One PUT of the whole object.
    Basic,
    /// Parts of `chunk` bytes, written at their offset into `data`.
    Multipart {
        chunk: u64,
        /// The ETag recorded for each part once it is stored.
        etags: Vec<Option<String>>,
        /// The temporary file the parts are written into.
        data: PathBuf,
    },
}

/// One announced object.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    pub site: Site,
    pub oid: String,
    pub size: u64,
    pub expires: Instant,
    pub kind: UploadKind,
}

/// Upload sessions handed out by the batch endpoints, keyed by their token.
#[derive(Debug, Default)]
pub(crate) struct UploadSessions(Mutex<HashMap<String, Upload>>);

impl UploadSessions {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Upload>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh unguessable token (48 hex characters).
    pub(crate) fn new_token() -> String {
        random_hex(24)
    }

    /// Registers an upload under `token` and forgets expired ones, deleting their partial
    /// multipart data.
    pub(crate) fn insert(&self, token: String, upload: Upload) {
        let mut map = self.lock();
        let now = Instant::now();
        map.retain(|_, u| {
            let live = u.expires > now;
            if !live && let UploadKind::Multipart { data, .. } = &u.kind {
                let _ = std::fs::remove_file(data);
            }
            live
        });
        map.insert(token, upload);
    }

    /// The live session of `token` on `site`: 403 when it is unknown, expired or another
    /// mode's.
    pub(crate) fn get(&self, token: &str, site: Site) -> Result<Upload, ApiError> {
        let map = self.lock();
        match map.get(token) {
            Some(u) if u.site == site && u.expires > Instant::now() => Ok(u.clone()),
            _ => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "this upload URL is unknown or expired: ask the LFS batch endpoint for a new one",
            )
            .code("UploadExpired")),
        }
    }

    /// Ends a session (its object is stored, or it cannot succeed any more).
    pub(crate) fn remove(&self, token: &str) {
        self.lock().remove(token);
    }

    /// Records the ETag of multipart part `n` (1-based); false when the session ended while
    /// the part was sent.
    pub(crate) fn set_part_etag(&self, token: &str, n: usize, etag: String) -> bool {
        match self.lock().get_mut(token) {
            Some(Upload {
                kind: UploadKind::Multipart { etags, .. },
                ..
            }) if n >= 1 && n <= etags.len() => {
                etags[n - 1] = Some(etag);
                true
            }
            _ => false,
        }
    }
}
