//! Preupload, the LFS batch API and the basic and multipart transfers of LFS objects.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use futures_util::{StreamExt, TryStreamExt};
use http_transport::{Body, Request, SendProgress, quote_segment, without_query};
use reqwest::Method;
use reqwest::header::{self, HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::json;
use tracing::Instrument;
use url::Url;

use crate::client::HubClient;
use crate::error::{HubError, error_from_answer};
use crate::repo::{RepoId, validate_repo_path, validate_revision};
use crate::sha::Sha256;

/// Files per preupload call (a server-side limit).
pub const PREUPLOAD_BATCH: usize = 256;
/// Objects per LFS batch call.
pub const LFS_BATCH: usize = 256;
/// The most multipart parts accepted (S3's limit).
pub const MAX_PARTS: u64 = 10_000;
const LFS_CONTENT_TYPE: &str = "application/vnd.git-lfs+json";

/// A file offered to [`HubClient::preupload`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreuploadFile {
    /// The path in the repository.
    pub path: String,
    /// The first bytes of the file (at most 512 are sent).
    pub sample: Vec<u8>,
    /// The file size in bytes.
    pub size: u64,
}

/// How the Hub wants a file uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UploadMode {
    /// Inline in the commit (base64).
    Regular,
    /// Through LFS.
    Lfs,
}

/// The Hub's answer about one preuploaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreuploadAnswer {
    /// The path in the repository.
    pub path: String,
    /// How to upload it.
    pub upload_mode: UploadMode,
    /// True when a `.gitignore` rule excludes the file.
    pub should_ignore: bool,
    /// The id of the file already at that path (sha256 for LFS, git blob id otherwise).
    pub oid: Option<String>,
}

/// An LFS object: content sha256 and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LfsObject {
    /// The sha256 of the content.
    pub oid: Sha256,
    /// The size in bytes.
    pub size: u64,
}

/// What the LFS batch API asks for one object.
#[derive(Clone, PartialEq, Eq)]
pub enum LfsAction {
    /// The Hub already has the object: nothing to send.
    AlreadyPresent,
    /// One `PUT` of the whole file (no token), then an optional verify `POST` (with the token
    /// when the verify URL is on the endpoint).
    Basic {
        /// The presigned upload URL.
        upload: Url,
        /// The verify URL.
        verify: Option<Url>,
    },
    /// `PUT`s of `chunk_size` parts to presigned URLs, then a completion `POST` (no token).
    Multipart {
        /// The part size (the last part may be shorter).
        chunk_size: u64,
        /// Part URLs, part 1 first.
        parts: Vec<Url>,
        /// The completion URL.
        completion: Url,
    },
}

impl fmt::Debug for LfsAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Presigned URLs are credentials: show them without their query strings.
        let show = without_query;
        match self {
            Self::AlreadyPresent => f.write_str("AlreadyPresent"),
            Self::Basic { upload, verify } => f
                .debug_struct("Basic")
                .field("upload", &show(upload))
                .field("verify", &verify.as_ref().map(show))
                .finish(),
            Self::Multipart {
                chunk_size,
                parts,
                completion,
            } => f
                .debug_struct("Multipart")
                .field("chunk_size", chunk_size)
                .field("parts", &parts.len())
                .field("completion", &show(completion))
                .finish(),
        }
    }
}

/// One object of an LFS batch answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchObject {
    /// The object.
    pub object: LfsObject,
    /// What to do with it.
    pub action: LfsAction,
}

/// Which transfer sent an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    /// One `PUT`.
    Basic,
    /// Parts and a completion.
    Multipart,
}

/// The result of [`HubClient::upload_lfs_object`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadOutcome {
    /// The Hub already had the object; no byte was sent.
    AlreadyPresent,
    /// The object was sent.
    Uploaded {
        /// The transfer used.
        transfer: Transfer,
        /// The object size (bytes of successful attempts; retries re-send more).
        bytes: u64,
    },
}

/// Progress of a transfer, given to the progress callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferProgress {
    /// Bytes sent so far (goes back down when a failed part is retried from its start).
    pub bytes_done: u64,
    /// Bytes to send.
    pub total: u64,
}

/// A progress callback, called from the transfer tasks as bytes go out.
pub type ProgressCallback = Arc<dyn Fn(TransferProgress) + Send + Sync>;

/// Shared progress state of one object's transfer.
#[derive(Clone)]
struct Progress {
    done: Arc<AtomicU64>,
    total: u64,
    callback: Option<ProgressCallback>,
}

impl Progress {
    fn new(total: u64, callback: Option<ProgressCallback>) -> Self {
        Self {
            done: Arc::new(AtomicU64::new(0)),
            total,
            callback,
        }
    }

    fn add(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(cb) = &self.callback {
            cb(TransferProgress {
                bytes_done: done,
                total: self.total,
            });
        }
    }

    fn sub(&self, n: u64) {
        if n == 0 {
            return;
        }
        let done = self.done.fetch_sub(n, Ordering::Relaxed) - n;
        if let Some(cb) = &self.callback {
            cb(TransferProgress {
                bytes_done: done,
                total: self.total,
            });
        }
    }
}

/// The transport reports the bytes of each part as they go out, and hands back those of an
/// attempt that failed (they are sent again).
impl SendProgress for Progress {
    fn sent(&self, bytes: u64) {
        self.add(bytes);
    }

    fn unsent(&self, bytes: u64) {
        self.sub(bytes);
    }
}

#[derive(Deserialize)]
struct RawPreuploadAnswer {
    files: Vec<RawPreuploadFile>,
}

#[derive(Deserialize)]
struct RawPreuploadFile {
    path: String,
    #[serde(rename = "uploadMode")]
    upload_mode: String,
    #[serde(rename = "shouldIgnore", default)]
    should_ignore: bool,
    #[serde(default)]
    oid: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct RawBatchAnswer {
    /// The transfer the server chose (`basic` when absent).
    #[serde(default)]
    pub(crate) transfer: Option<String>,
    pub(crate) objects: Vec<RawBatchObject>,
}

#[derive(Deserialize)]
pub(crate) struct RawBatchObject {
    oid: String,
    pub(crate) size: u64,
    #[serde(default)]
    pub(crate) actions: Option<RawActions>,
    #[serde(default)]
    pub(crate) error: Option<RawObjectError>,
}

#[derive(Deserialize)]
pub(crate) struct RawActions {
    #[serde(default)]
    pub(crate) upload: Option<RawAction>,
    #[serde(default)]
    verify: Option<RawAction>,
}

#[derive(Deserialize)]
pub(crate) struct RawAction {
    pub(crate) href: String,
    #[serde(default)]
    pub(crate) header: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
pub(crate) struct RawObjectError {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    message: Option<String>,
}

impl HubClient {
    /// `POST /api/{t}/{repo}/preupload/{rev}`: asks how each file must be uploaded
    /// (in batches of [`PREUPLOAD_BATCH`]).
    pub async fn preupload(
        &self,
        repo: &RepoId,
        revision: &str,
        files: &[PreuploadFile],
    ) -> Result<Vec<PreuploadAnswer>, HubError> {
        validate_revision(revision)?;
        let url = self.url(&format!(
            "/api/{}/{}/preupload/{}",
            repo.repo_type().api_segment(),
            repo.as_path(),
            quote_segment(revision)
        ))?;
        let mut out = Vec::with_capacity(files.len());
        for batch in files.chunks(PREUPLOAD_BATCH) {
            let mut listed = Vec::with_capacity(batch.len());
            for f in batch {
                validate_repo_path(&f.path)?;
                let sample = &f.sample[..f.sample.len().min(512)];
                listed.push(json!({
                    "path": f.path,
                    "sample": base64::engine::general_purpose::STANDARD.encode(sample),
                    "size": f.size,
                }));
            }
            let call = Request::new(Method::POST, url.clone()).json(&json!({ "files": listed }));
            let answer = self.send_ok(&call).await?;
            let raw: RawPreuploadAnswer =
                self.parse_json(&answer, "a JSON object with `files` (preupload)")?;
            for f in raw.files {
                validate_repo_path(&f.path)?;
                let upload_mode = match f.upload_mode.as_str() {
                    "regular" => UploadMode::Regular,
                    "lfs" => UploadMode::Lfs,
                    other => {
                        return Err(HubError::InvalidResponse {
                            request: answer.request.clone(),
                            detail: format!(
                                "expected uploadMode \"regular\" or \"lfs\", got {:?}",
                                http_transport::truncate_chars(other, 40)
                            ),
                        });
                    }
                };
                out.push(PreuploadAnswer {
                    path: f.path,
                    upload_mode,
                    should_ignore: f.should_ignore,
                    oid: f.oid,
                });
            }
        }
        Ok(out)
    }

    /// `POST /{pfx}{repo}.git/info/lfs/objects/batch` for an upload to `revision`:
    /// what to do for each object (in batches of [`LFS_BATCH`]). The answer is in the
    /// order of `objects`; an object the server lists with an `error` fails the call.
    pub async fn lfs_batch(
        &self,
        repo: &RepoId,
        revision: &str,
        objects: &[LfsObject],
    ) -> Result<Vec<BatchObject>, HubError> {
        let mut out = Vec::with_capacity(objects.len());
        for batch in objects.chunks(LFS_BATCH) {
            let (raw, request) = self
                .lfs_batch_call(repo, revision, batch, &["basic", "multipart"])
                .await?;
            for (object, raw) in batch.iter().zip(raw.objects) {
                out.push(self.parse_batch_object(object, raw, &request)?);
            }
        }
        Ok(out)
    }

    /// One LFS batch call offering `transfers`: the answer with its objects put in the order
    /// of `batch` (each one listed), and the request for errors.
    pub(crate) async fn lfs_batch_call(
        &self,
        repo: &RepoId,
        revision: &str,
        batch: &[LfsObject],
        transfers: &[&str],
    ) -> Result<(RawBatchAnswer, String), HubError> {
        self.require_token("an LFS upload")?;
        validate_revision(revision)?;
        let url = self.url(&format!(
            "/{}{}.git/info/lfs/objects/batch",
            repo.repo_type().url_prefix(),
            repo.as_path()
        ))?;
        let listed: Vec<_> = batch
            .iter()
            .map(|o| json!({ "oid": o.oid.to_hex(), "size": o.size }))
            .collect();
        let body = json!({
            "operation": "upload",
            "transfers": transfers,
            "objects": listed,
            "hash_algo": "sha256",
            "ref": { "name": revision },
        });
        let call = Request::new(Method::POST, url)
            .body(body.to_string(), LFS_CONTENT_TYPE)
            .header(header::ACCEPT, HeaderValue::from_static(LFS_CONTENT_TYPE));
        let answer = self.send_ok(&call).await?;
        let mut raw: RawBatchAnswer =
            self.parse_json(&answer, "a JSON object with `objects` (LFS batch)")?;
        let mut by_oid: BTreeMap<String, RawBatchObject> = std::mem::take(&mut raw.objects)
            .into_iter()
            .map(|o| (o.oid.to_ascii_lowercase(), o))
            .collect();
        for object in batch {
            let hex = object.oid.to_hex();
            let listed = by_oid
                .remove(&hex)
                .ok_or_else(|| HubError::InvalidResponse {
                    request: answer.request.clone(),
                    detail: format!("expected the LFS batch answer to list object {hex}"),
                })?;
            raw.objects.push(listed);
        }
        Ok((raw, answer.request))
    }

    /// The error for an object the LFS batch answer refused.
    pub(crate) fn object_error(
        &self,
        object: &LfsObject,
        error: &RawObjectError,
        request: &str,
    ) -> HubError {
        let message = self
            .transport()
            .sanitize(error.message.as_deref().unwrap_or("no message"));
        HubError::Http {
            request: request.to_owned(),
            status: error
                .code
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(422),
            message: format!("the LFS server refused object {}: {message}", object.oid),
        }
    }

    pub(crate) fn parse_batch_object(
        &self,
        object: &LfsObject,
        raw: RawBatchObject,
        request: &str,
    ) -> Result<BatchObject, HubError> {
        let invalid = |detail: String| HubError::InvalidResponse {
            request: request.to_owned(),
            detail,
        };
        if let Some(error) = raw.error {
            return Err(self.object_error(object, &error, request));
        }
        if raw.size != object.size {
            return Err(invalid(format!(
                "object {} has size {} in the answer, {} was asked",
                object.oid, raw.size, object.size
            )));
        }
        let Some(RawActions {
            upload: Some(upload),
            verify,
        }) = raw.actions
        else {
            return Ok(BatchObject {
                object: *object,
                action: LfsAction::AlreadyPresent,
            });
        };
        let upload_url = self.resolve_href(&upload.href, request)?;
        let verify = verify
            .map(|v| self.resolve_href(&v.href, request))
            .transpose()?;
        let Some(chunk) = upload.header.get("chunk_size") else {
            return Ok(BatchObject {
                object: *object,
                action: LfsAction::Basic {
                    upload: upload_url,
                    verify,
                },
            });
        };
        let chunk_size = match chunk {
            serde_json::Value::String(s) => s.trim().parse::<u64>().ok(),
            serde_json::Value::Number(n) => n.as_u64(),
            _ => None,
        }
        .filter(|c| *c > 0)
        .ok_or_else(|| invalid("expected `chunk_size` to be a positive integer".into()))?;
        let expected_parts = object.size.div_ceil(chunk_size);
        if expected_parts > MAX_PARTS {
            return Err(invalid(format!(
                "{expected_parts} multipart parts asked, more than {MAX_PARTS}"
            )));
        }
        let mut parts: Vec<(u64, Url)> = Vec::new();
        for (key, value) in &upload.header {
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let number: u64 = key
                .parse()
                .map_err(|_| invalid(format!("part number {key:?} is too large")))?;
            let href = value
                .as_str()
                .ok_or_else(|| invalid(format!("part {number}'s URL is not a string")))?;
            parts.push((number, self.resolve_href(href, request)?));
        }
        parts.sort_by_key(|(n, _)| *n);
        let numbers_ok = parts
            .iter()
            .enumerate()
            .all(|(i, (n, _))| *n == i as u64 + 1);
        if parts.len() as u64 != expected_parts || !numbers_ok {
            return Err(invalid(format!(
                "expected parts 1..={expected_parts} for {} bytes in chunks of {chunk_size}, got {} part URLs",
                object.size,
                parts.len()
            )));
        }
        Ok(BatchObject {
            object: *object,
            action: LfsAction::Multipart {
                chunk_size,
                parts: parts.into_iter().map(|(_, u)| u).collect(),
                completion: upload_url,
            },
        })
    }

    /// Uploads one LFS object from a file: an LFS batch call for it, then the transfer the
    /// server chose ([`upload_lfs_action`](Self::upload_lfs_action)). When an upload URL is
    /// refused ([`HubError::UploadUrlRefused`], e.g. expired), fresh URLs are asked for once.
    pub async fn upload_lfs_object(
        &self,
        repo: &RepoId,
        revision: &str,
        file: &Path,
        sha256: Sha256,
        size: u64,
        progress: Option<ProgressCallback>,
    ) -> Result<UploadOutcome, HubError> {
        let object = LfsObject { oid: sha256, size };
        let mut refreshed = false;
        loop {
            let answer = self.lfs_batch(repo, revision, &[object]).await?;
            let batch_object =
                answer
                    .into_iter()
                    .next()
                    .ok_or_else(|| HubError::InvalidResponse {
                        request: "LFS batch".into(),
                        detail: "expected one object in the answer".into(),
                    })?;
            match self
                .upload_lfs_action(&batch_object, file, progress.clone())
                .await
            {
                // Upload URLs expire: ask for fresh ones, once.
                Err(HubError::UploadUrlRefused { .. }) if !refreshed => {
                    tracing::debug!(oid = %sha256, "upload URL refused; asking the LFS batch endpoint again");
                    refreshed = true;
                }
                other => return other,
            }
        }
    }

    /// Performs the transfer of one [`BatchObject`] from `file`, with constant memory.
    ///
    /// * Basic: one streamed `PUT` with `Content-Length` and no token, then the verify `POST`.
    /// * Multipart: parts read from the file at their offsets and streamed, up to the client's
    ///   `parallel_parts` at a time; each part's `ETag` is collected; then the completion `POST`
    ///   (no token).
    ///
    /// A failed `PUT` is retried from its start offset (the bytes are read again from the
    /// file). The file's size must equal the object's size.
    pub async fn upload_lfs_action(
        &self,
        object: &BatchObject,
        file: &Path,
        progress: Option<ProgressCallback>,
    ) -> Result<UploadOutcome, HubError> {
        let size = object.object.size;
        let on_disk = tokio::fs::metadata(file)
            .await
            .map_err(|source| HubError::Io {
                path: file.to_owned(),
                source,
            })?
            .len();
        if on_disk != size {
            return Err(HubError::InvalidInput {
                what: "LFS upload".into(),
                reason: format!(
                    "{} has {on_disk} bytes but the object is {size} bytes; hash the file again",
                    file.display()
                ),
            });
        }
        let progress = Progress::new(size, progress);
        match &object.action {
            LfsAction::AlreadyPresent => Ok(UploadOutcome::AlreadyPresent),
            LfsAction::Basic { upload, verify } => {
                self.put_file_range(upload, file, 0, size, &progress)
                    .await?;
                if let Some(verify) = verify {
                    let body = json!({ "oid": object.object.oid.to_hex(), "size": size });
                    let call = Request::new(Method::POST, verify.clone())
                        .body(body.to_string(), LFS_CONTENT_TYPE)
                        .header(header::ACCEPT, HeaderValue::from_static(LFS_CONTENT_TYPE));
                    self.send_ok(&call).await?;
                }
                Ok(UploadOutcome::Uploaded {
                    transfer: Transfer::Basic,
                    bytes: size,
                })
            }
            LfsAction::Multipart {
                chunk_size,
                parts,
                completion,
            } => {
                let parallel = self.inner.parallel_parts;
                let mut etags: Vec<(usize, String)> =
                    futures_util::stream::iter(parts.iter().enumerate())
                        .map(|(index, url)| {
                            let progress = progress.clone();
                            async move {
                                let offset = index as u64 * chunk_size;
                                let len = (*chunk_size).min(size - offset);
                                let headers = self
                                    .put_file_range(url, file, offset, len, &progress)
                                    .await?;
                                let etag = headers
                                    .get(header::ETAG)
                                    .and_then(|e| e.to_str().ok())
                                    .filter(|e| !e.is_empty())
                                    .ok_or_else(|| HubError::InvalidResponse {
                                        request: format!("PUT {}", without_query(url)),
                                        detail: format!(
                                            "expected an ETag header on the answer to part {}",
                                            index + 1
                                        ),
                                    })?;
                                Ok::<_, HubError>((index, etag.to_owned()))
                            }
                        })
                        .buffer_unordered(parallel)
                        .try_collect()
                        .await?;
                etags.sort_by_key(|(i, _)| *i);
                let parts_json: Vec<_> = etags
                    .iter()
                    .map(|(i, etag)| json!({ "partNumber": i + 1, "etag": etag }))
                    .collect();
                let body = json!({ "oid": object.object.oid.to_hex(), "parts": parts_json });
                let call = Request::new(Method::POST, completion.clone())
                    .no_auth()
                    .body(body.to_string(), LFS_CONTENT_TYPE)
                    .header(header::ACCEPT, HeaderValue::from_static(LFS_CONTENT_TYPE));
                self.send_ok(&call).await.map_err(presigned_refusal)?;
                Ok(UploadOutcome::Uploaded {
                    transfer: Transfer::Multipart,
                    bytes: size,
                })
            }
        }
    }

    /// `PUT`s `len` bytes of `file` from `offset` to a presigned URL, without the token,
    /// streamed, with retries that re-read the range from the file. Returns the answer's headers.
    ///
    /// A transfer silent for longer than the read timeout (no byte sent and no answer) is
    /// abandoned as stalled and retried (by the transport).
    async fn put_file_range(
        &self,
        url: &Url,
        file: &Path,
        offset: u64,
        len: u64,
        progress: &Progress,
    ) -> Result<HeaderMap, HubError> {
        let span = tracing::debug_span!("hub_upload", url = %self.endpoint().display_url(url), offset, len);
        let body = Body::file_range(file, offset, len).progress(Arc::new(progress.clone()));
        let request = Request::new(Method::PUT, url.clone())
            .no_auth()
            .with_body(body);
        let answer = self.transport().send(&request).instrument(span).await?;
        tracing::debug!(status = answer.status, offset, len, "upload answer");
        if answer.is_success() {
            return Ok(answer.headers);
        }
        let error = error_from_answer(
            answer.status,
            &answer.headers,
            &answer.body,
            answer.request,
            self.transport().secret(),
        );
        Err(presigned_refusal(error))
    }
}

/// Turns a 401/403/404/410 answer of a presigned URL into [`HubError::UploadUrlRefused`]:
/// those URLs carry no token, so the token hints of the generic errors would mislead.
fn presigned_refusal(error: HubError) -> HubError {
    let Some(status @ (401 | 403 | 404 | 410)) = error.status() else {
        return error;
    };
    match error {
        HubError::Unauthorized { request, message }
        | HubError::Forbidden { request, message }
        | HubError::RepoNotFound { request, message }
        | HubError::RevisionNotFound { request, message }
        | HubError::EntryNotFound { request, message }
        | HubError::Http {
            request, message, ..
        } => HubError::UploadUrlRefused {
            request,
            status,
            message,
        },
        other => other,
    }
}
