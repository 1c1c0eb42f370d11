//! Publishing: which files go through LFS, the LFS batch, streamed uploads of missing
//! objects, and the one-request commit (with the missing-branch diagnosis).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use base64::Engine as _;
use http_transport::{Body, Request, RetryMode, quote_segment};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use url::Url;

use crate::client::ModelScopeClient;
use crate::error::ModelScopeError;
use crate::model::{LocalFile, ModelId, UploadReport};

/// Files larger than this go through LFS (the official SDK's force threshold, 64 KiB).
pub const LFS_THRESHOLD: u64 = 64 * 1024;
/// The most objects asked about in one batch request.
pub const BATCH_SIZE: usize = 1000;
/// Suffixes always stored through LFS, whatever the size (model weights and archives).
const LFS_SUFFIXES: [&str; 12] = [
    "gguf",
    "safetensors",
    "bin",
    "pt",
    "pth",
    "ckpt",
    "onnx",
    "h5",
    "msgpack",
    "zip",
    "tar",
    "gz",
];
const READ_BUFFER: usize = 1 << 20;

/// Whether a file goes through LFS: over [`LFS_THRESHOLD`] or a weights/archive suffix; the
/// card and `.gitattributes` always stay inline, as the SDK keeps them.
pub fn is_lfs(path: &str, size: u64) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name.eq_ignore_ascii_case("README.md") || name == ".gitattributes" {
        return false;
    }
    if size > LFS_THRESHOLD {
        return true;
    }
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| LFS_SUFFIXES.contains(&ext.to_ascii_lowercase().as_str()))
}

impl ModelScopeClient {
    /// Asks which objects the server lacks: the upload URL of each missing one, by sha256.
    pub async fn missing_objects(
        &self,
        id: &ModelId,
        objects: &[(String, u64)],
    ) -> Result<BTreeMap<String, Url>, ModelScopeError> {
        let mut out = BTreeMap::new();
        for chunk in objects.chunks(BATCH_SIZE) {
            let url = self.url(
                &format!(
                    "/api/v1/repos/models/{}/info/lfs/objects/batch",
                    id.url_path()
                ),
                &[],
            )?;
            let request = self.describe(&Method::POST, &url);
            let list: Vec<Value> = chunk
                .iter()
                .map(|(oid, size)| json!({"oid": oid, "size": size}))
                .collect();
            let call = Request::new(Method::POST, url)
                .json(&json!({"operation": "upload", "objects": list}));
            let data = self.api(call).await?;
            let answered = data
                .get("objects")
                .and_then(Value::as_array)
                .ok_or_else(|| ModelScopeError::InvalidResponse {
                    request: request.clone(),
                    reason: "no objects list".into(),
                })?;
            let asked: BTreeSet<&str> = chunk.iter().map(|(o, _)| o.as_str()).collect();
            for obj in answered {
                let oid = obj.get("oid").and_then(Value::as_str).unwrap_or_default();
                if !asked.contains(oid) {
                    return Err(ModelScopeError::InvalidResponse {
                        request,
                        reason: format!("an object nobody asked about: {oid:?}"),
                    });
                }
                if let Some(href) = obj.pointer("/actions/upload/href").and_then(Value::as_str) {
                    let href = Url::parse(href).map_err(|e| ModelScopeError::InvalidResponse {
                        request: request.clone(),
                        reason: format!("an upload URL is not a URL: {e}"),
                    })?;
                    if href.scheme() != "https" && !self.endpoint().same_origin(&href) {
                        return Err(ModelScopeError::InvalidResponse {
                            request,
                            reason: "an upload URL is plain http on another origin".into(),
                        });
                    }
                    out.insert(oid.to_owned(), href);
                }
            }
        }
        Ok(out)
    }

    /// PUTs a file to an upload URL, streamed from disk (constant memory), with retries that
    /// read the file again; credentials go along only when the URL is on the endpoint's origin.
    pub async fn upload_object(
        &self,
        url: &Url,
        file: &Path,
        size: u64,
    ) -> Result<(), ModelScopeError> {
        let request = self.describe(&Method::PUT, url);
        let body = Body::file_range(file, 0, size).content_type("application/octet-stream");
        let call = Request::new(Method::PUT, url.clone()).with_body(body);
        let a = self
            .transport
            .send(&call)
            .await
            .map_err(|e| self.failed(&request, e))?;
        if !a.is_success() {
            return Err(self.answer_error(request, &a));
        }
        let body: Value = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
        if body.get("Success").and_then(Value::as_bool) == Some(false) {
            return Err(self.answer_error(request, &a));
        }
        Ok(())
    }

    /// Commits actions in one request on `revision`; returns the new commit id.
    ///
    /// Only answers saying the request was not processed (429, 503) are retried: a commit whose
    /// answer was lost is never sent again blindly (run the publish again, it is idempotent).
    ///
    /// `revision` may be a branch the model does not have yet. The official SDK has no
    /// create-branch call and sends such commits as they are, so this client does too and
    /// assumes the server creates the branch from the default branch's head, as a `git push` of
    /// a new branch does (the local server does; ModelScope does not document it). If the server
    /// refuses instead (404, or a "branch/revision not found" message), and the model exists
    /// without that branch, the error is [`ModelScopeError::MissingBranch`], which says what to do.
    pub async fn commit(
        &self,
        id: &ModelId,
        revision: &str,
        message: &str,
        actions: Vec<Value>,
    ) -> Result<String, ModelScopeError> {
        let url = self.url(
            &format!(
                "/api/v1/repos/models/{}/commit/{}",
                id.url_path(),
                quote_segment(revision)
            ),
            &[],
        )?;
        let request = self.describe(&Method::POST, &url);
        let call = Request::new(Method::POST, url)
            .retry(RetryMode::UnprocessedOnly)
            .json(&json!({"commit_message": message, "actions": actions}));
        let data = match self.api(call).await {
            Ok(data) => data,
            Err(e) if names_a_missing_revision(&e) => {
                return Err(self.missing_branch(id, revision, e).await);
            }
            Err(e) => return Err(e),
        };
        data.get("Id")
            .or_else(|| data.get("CommitId"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ModelScopeError::InvalidResponse {
                request,
                reason: "the commit answer has no Id".into(),
            })
    }

    /// Publishes files in one commit: hashes them, asks which LFS objects are missing, uploads
    /// those (streamed), then commits every file (small ones inline, base64) in one request.
    pub async fn upload_files(
        &self,
        id: &ModelId,
        revision: &str,
        files: &[LocalFile],
        message: &str,
    ) -> Result<UploadReport, ModelScopeError> {
        let mut hashed = Vec::with_capacity(files.len());
        for f in files {
            hub_client::validate_repo_path(&f.path_in_repo).map_err(|e| {
                ModelScopeError::InvalidInput {
                    what: "path in repo".into(),
                    reason: e.to_string(),
                }
            })?;
            let (sha, size) = hash_file(&f.local).await?;
            hashed.push((f, sha, size));
        }
        let mut lfs_objects: BTreeMap<String, (u64, &Path)> = BTreeMap::new();
        for (f, sha, size) in &hashed {
            if is_lfs(&f.path_in_repo, *size) {
                lfs_objects.insert(sha.clone(), (*size, &f.local));
            }
        }
        let asked: Vec<(String, u64)> = lfs_objects
            .iter()
            .map(|(oid, (size, _))| (oid.clone(), *size))
            .collect();
        let missing = if asked.is_empty() {
            BTreeMap::new()
        } else {
            self.missing_objects(id, &asked).await?
        };
        let mut report = UploadReport::default();
        for (oid, url) in &missing {
            let (size, local) = lfs_objects[oid];
            self.upload_object(url, local, size).await?;
            // The file must still be what was hashed: the server checked the bytes it received.
            report.uploaded_objects.push(oid.clone());
        }
        let mut actions = Vec::with_capacity(hashed.len());
        for (f, sha, size) in &hashed {
            if is_lfs(&f.path_in_repo, *size) {
                actions.push(lfs_action(&f.path_in_repo, sha, *size));
                if !missing.contains_key(sha) {
                    report.reused.push(f.path_in_repo.clone());
                }
            } else {
                let bytes = tokio::fs::read(&f.local)
                    .await
                    .map_err(|e| ModelScopeError::io(&f.local, e))?;
                if bytes.len() as u64 != *size || hex::encode(Sha256::digest(&bytes)) != *sha {
                    return Err(ModelScopeError::Integrity {
                        what: f.local.display().to_string(),
                        expected: sha.clone(),
                        got: hex::encode(Sha256::digest(&bytes)),
                        expected_size: *size,
                        got_size: bytes.len() as u64,
                    });
                }
                actions.push(inline_action(&f.path_in_repo, &bytes));
                report.inline.push(f.path_in_repo.clone());
            }
        }
        report.commit = self.commit(id, revision, message, actions).await?;
        Ok(report)
    }

    /// A refused commit on `branch` becomes [`ModelScopeError::MissingBranch`] when the model
    /// exists and has no such branch; otherwise (model gone, branch there, listing failed) the
    /// original error stays.
    async fn missing_branch(
        &self,
        id: &ModelId,
        branch: &str,
        original: ModelScopeError,
    ) -> ModelScopeError {
        match self.revisions(id).await {
            Ok(revs) if !revs.branches.is_empty() && !revs.branches.contains_key(branch) => {
                let detail = match &original {
                    ModelScopeError::NotFound { message, .. } => format!("HTTP 404: {message}"),
                    ModelScopeError::Status {
                        status, message, ..
                    } => format!("HTTP {status}: {message}"),
                    other => other.to_string(),
                };
                ModelScopeError::MissingBranch {
                    model: id.to_string(),
                    branch: branch.to_owned(),
                    detail,
                }
            }
            _ => original,
        }
    }
}

/// Whether a refused commit may mean that its branch does not exist: any 404, or a client error
/// whose message says a branch or revision was not found (ModelScope's business code for that
/// is not documented, so the message is what can be recognised).
fn names_a_missing_revision(e: &ModelScopeError) -> bool {
    match e {
        ModelScopeError::NotFound { .. } => true,
        ModelScopeError::Status {
            status, message, ..
        } if (400..500).contains(status) => {
            let m = message.to_lowercase();
            (m.contains("branch") || m.contains("revision"))
                && ["not found", "not exist", "no such", "unknown"]
                    .iter()
                    .any(|k| m.contains(k))
        }
        _ => false,
    }
}

/// The commit action storing `path` as the LFS object `sha256` of `size` bytes (uploaded first).
pub fn lfs_action(path: &str, sha256: &str, size: u64) -> Value {
    json!({
        "action": "create", "path": path, "type": "lfs",
        "size": size, "sha256": sha256, "content": "", "encoding": "",
    })
}

/// The commit action storing `bytes` inline (base64) at `path`.
pub fn inline_action(path: &str, bytes: &[u8]) -> Value {
    json!({
        "action": "create", "path": path, "type": "normal",
        "size": bytes.len(), "sha256": "",
        "content": base64::engine::general_purpose::STANDARD.encode(bytes),
        "encoding": "base64",
    })
}

/// Streams a file through sha256; returns the hex digest and the size.
pub async fn hash_file(path: &Path) -> Result<(String, u64), ModelScopeError> {
    let path_owned = path.to_owned();
    tokio::task::spawn_blocking(move || {
        use std::io::Read as _;
        let mut f =
            std::fs::File::open(&path_owned).map_err(|e| ModelScopeError::io(&path_owned, e))?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; READ_BUFFER];
        let mut n = 0u64;
        loop {
            let k = f
                .read(&mut buf)
                .map_err(|e| ModelScopeError::io(&path_owned, e))?;
            if k == 0 {
                break;
            }
            h.update(&buf[..k]);
            n += k as u64;
        }
        Ok((hex::encode(h.finalize()), n))
    })
    .await
    .map_err(|e| ModelScopeError::io(path, std::io::Error::other(e.to_string())))?
}
