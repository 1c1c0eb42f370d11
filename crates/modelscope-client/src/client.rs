//! The HTTP side: one request executor (token rules, redirects by hand, retries) and the
//! ModelScope endpoints the publishing path uses.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use futures_util::StreamExt as _;
use hub_client::{Endpoint, RetryDecision, RetryPolicy, Token};
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt as _;
use url::Url;

use crate::error::ModelScopeError;
use crate::model::{LocalFile, ModelId, RepoFile, Revisions, UploadReport, Visibility};

/// The public ModelScope site, used when no endpoint is configured.
pub const DEFAULT_ENDPOINT: &str = "https://www.modelscope.cn";
/// ModelScope's default branch.
pub const DEFAULT_REVISION: &str = "master";
/// The environment variable holding the access token.
pub const TOKEN_ENV: &str = "MODELSCOPE_API_TOKEN";
/// Files larger than this go through LFS (the official SDK's force threshold, 64 KiB).
pub const LFS_THRESHOLD: u64 = 64 * 1024;
/// Redirects followed at most per request.
pub const MAX_REDIRECTS: usize = 10;
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
/// The largest API answer read into memory.
const MAX_API_BODY: usize = 64 * 1024 * 1024;
const READ_BUFFER: usize = 1 << 20;

/// Resolves the endpoint like the official SDK: `explicit`, else `MODELSCOPE_ENDPOINT`, else
/// `MODELSCOPE_DOMAIN` (a bare domain gets `https://`), else [`DEFAULT_ENDPOINT`].
pub fn resolve_endpoint_with(
    explicit: Option<&str>,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Endpoint, ModelScopeError> {
    let nonempty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let text = if let Some(e) = explicit.filter(|e| !e.trim().is_empty()) {
        e.trim().to_owned()
    } else if let Some(e) = nonempty(var("MODELSCOPE_ENDPOINT")) {
        e.trim().to_owned()
    } else if let Some(d) = nonempty(var("MODELSCOPE_DOMAIN")) {
        let d = d.trim();
        if d.starts_with("http://") || d.starts_with("https://") {
            d.to_owned()
        } else {
            format!("https://{d}")
        }
    } else {
        DEFAULT_ENDPOINT.to_owned()
    };
    Endpoint::parse(&text).map_err(|e| ModelScopeError::InvalidInput {
        what: "ModelScope endpoint".into(),
        reason: format!("{e}; set MODELSCOPE_ENDPOINT to a URL like https://www.modelscope.cn"),
    })
}

/// The token from `MODELSCOPE_API_TOKEN` through `var` (trimmed; empty means none).
pub fn token_from_env_with(var: impl Fn(&str) -> Option<String>) -> Option<Token> {
    var(TOKEN_ENV).and_then(Token::new)
}

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

/// Builds a [`ModelScopeClient`].
#[derive(Debug, Clone)]
pub struct ModelScopeClientBuilder {
    endpoint: Option<Endpoint>,
    token: Option<Token>,
    retry: RetryPolicy,
    connect_timeout: Duration,
    read_timeout: Duration,
    user_agent: String,
}

impl Default for ModelScopeClientBuilder {
    fn default() -> Self {
        Self {
            endpoint: None,
            token: None,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            user_agent: concat!("ruvltra-modelscope-client/", env!("CARGO_PKG_VERSION")).into(),
        }
    }
}

impl ModelScopeClientBuilder {
    /// The server (default [`DEFAULT_ENDPOINT`]).
    pub fn endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    /// The access token (none for anonymous reads).
    pub fn token(mut self, token: Option<Token>) -> Self {
        self.token = token;
        self
    }

    /// How failed requests are retried.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The longest wait for a chunk of an answer.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<ModelScopeClient, ModelScopeError> {
        let endpoint = match self.endpoint {
            Some(e) => e,
            None => resolve_endpoint_with(None, |_| None)?,
        };
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.read_timeout)
            .user_agent(self.user_agent)
            .build()
            .map_err(|e| ModelScopeError::InvalidInput {
                what: "HTTP client".into(),
                reason: e.to_string(),
            })?;
        Ok(ModelScopeClient {
            http,
            endpoint,
            token: self.token,
            retry: self.retry,
        })
    }
}

/// An async ModelScope client.
///
/// The token goes in `Authorization: Bearer` and in the cookie `m_session_id` (the legacy
/// API's login), both marked sensitive, and only to the endpoint's own origin: redirects are
/// followed by hand and drop it on any other origin; `https` to `http` is refused. It never
/// appears in URLs, logs or errors.
#[derive(Clone)]
pub struct ModelScopeClient {
    http: reqwest::Client,
    endpoint: Endpoint,
    token: Option<Token>,
    retry: RetryPolicy,
}

impl fmt::Debug for ModelScopeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModelScopeClient")
            .field("endpoint", &self.endpoint)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// Which failures of one request may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Reads and idempotent writes: 408/429/5xx and transport errors.
    Idempotent,
    /// Commits: only answers saying the request was not processed (429, 503).
    Unprocessed,
}

struct Call {
    method: Method,
    url: Url,
    json: Option<Value>,
    auth: bool,
    retry: Retry,
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: bytes::Bytes,
}

impl ModelScopeClient {
    /// A builder with default settings.
    pub fn builder() -> ModelScopeClientBuilder {
        ModelScopeClientBuilder::default()
    }

    /// A client configured from the environment: endpoint as in [`resolve_endpoint_with`]
    /// (`explicit` first), token from `MODELSCOPE_API_TOKEN`.
    pub fn from_env(explicit_endpoint: Option<&str>) -> Result<Self, ModelScopeError> {
        let var = |name: &str| std::env::var(name).ok();
        Self::builder()
            .endpoint(resolve_endpoint_with(explicit_endpoint, var)?)
            .token(token_from_env_with(var))
            .build()
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Whether a token is configured.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, ModelScopeError> {
        let mut url = self
            .endpoint
            .join(path)
            .map_err(|e| ModelScopeError::InvalidInput {
                what: "request URL".into(),
                reason: e.to_string(),
            })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    fn describe(&self, method: &Method, url: &Url) -> String {
        format!("{method} {}", self.endpoint.display_url(url))
    }

    fn scrub(&self, text: &str) -> String {
        match &self.token {
            Some(t) if t.expose_secret().len() >= 4 => text.replace(t.expose_secret(), "***"),
            _ => text.to_owned(),
        }
    }

    fn auth_headers(&self, url: &Url) -> Vec<(header::HeaderName, HeaderValue)> {
        let Some(token) = &self.token else {
            return Vec::new();
        };
        if !self.endpoint.may_send_token_to(url) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (name, value) in [
            (
                header::AUTHORIZATION,
                format!("Bearer {}", token.expose_secret()),
            ),
            (
                header::COOKIE,
                format!("m_session_id={}", token.expose_secret()),
            ),
        ] {
            if let Ok(mut v) = HeaderValue::from_str(&value) {
                v.set_sensitive(true);
                out.push((name, v));
            }
        }
        out
    }

    /// One attempt, following redirects by hand.
    async fn attempt(&self, call: &Call) -> Result<Answer, ModelScopeError> {
        let request = self.describe(&call.method, &call.url);
        let mut url = call.url.clone();
        for _ in 0..=MAX_REDIRECTS {
            let mut rb = self.http.request(call.method.clone(), url.clone());
            if call.auth {
                for (k, v) in self.auth_headers(&url) {
                    rb = rb.header(k, v);
                }
            }
            if let Some(json) = &call.json {
                rb = rb
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(json.to_string());
            }
            let resp = rb.send().await.map_err(|e| ModelScopeError::Transport {
                request: request.clone(),
                reason: self.scrub(&without_url(&e)),
            })?;
            let status = resp.status();
            if status.is_redirection()
                && let Some(loc) = resp.headers().get(header::LOCATION)
            {
                url = self.next_hop(&request, &url, loc)?;
                continue;
            }
            let headers = resp.headers().clone();
            let body = read_limited(resp, MAX_API_BODY).await.map_err(|reason| {
                ModelScopeError::Transport {
                    request: request.clone(),
                    reason: self.scrub(&reason),
                }
            })?;
            return Ok(Answer {
                status: status.as_u16(),
                headers,
                body,
            });
        }
        Err(ModelScopeError::Redirect {
            request,
            reason: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }

    fn next_hop(
        &self,
        request: &str,
        from: &Url,
        loc: &HeaderValue,
    ) -> Result<Url, ModelScopeError> {
        let bad = |reason: String| ModelScopeError::Redirect {
            request: request.to_owned(),
            reason,
        };
        let loc = loc
            .to_str()
            .map_err(|_| bad("the Location header is not text".into()))?;
        let next = from
            .join(loc)
            .map_err(|e| bad(format!("the Location is not a URL: {e}")))?;
        if next.scheme() != "http" && next.scheme() != "https" {
            return Err(bad("the Location is not http(s)".into()));
        }
        if from.scheme() == "https" && next.scheme() == "http" {
            return Err(bad("refusing a downgrade from https to http".into()));
        }
        Ok(next)
    }

    /// Sends with retries and returns the final answer, whatever its status.
    async fn send(&self, call: &Call) -> Result<Answer, ModelScopeError> {
        let request = self.describe(&call.method, &call.url);
        let mut attempt = 0u32;
        loop {
            let result = self.attempt(call).await;
            let decision = match &result {
                Ok(a) if a.status < 400 => return result,
                Ok(a) => {
                    let retryable = match call.retry {
                        Retry::Idempotent => true,
                        Retry::Unprocessed => matches!(a.status, 429 | 503),
                    };
                    if retryable {
                        self.retry.decide(attempt, Some(a.status), Some(&a.headers))
                    } else {
                        RetryDecision::GiveUp
                    }
                }
                Err(ModelScopeError::Transport { .. }) if call.retry == Retry::Idempotent => {
                    self.retry.decide(attempt, None, None)
                }
                Err(_) => RetryDecision::GiveUp,
            };
            match decision {
                RetryDecision::RetryAfter(delay) => {
                    tracing::debug!(attempt, delay_ms = delay.as_millis() as u64, %request, "retrying");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                RetryDecision::TooLong(wait) => {
                    return Err(ModelScopeError::RetryAfterTooLong {
                        request,
                        status: result.map(|a| a.status).unwrap_or(0),
                        retry_after: wait,
                        limit: self.retry.max_retry_after,
                    });
                }
                RetryDecision::GiveUp => return result,
            }
        }
    }

    fn answer_error(&self, request: String, a: &Answer) -> ModelScopeError {
        let body: Value = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
        let message = body
            .get("Message")
            .or_else(|| body.get("message"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| String::from_utf8_lossy(&a.body).chars().take(300).collect());
        let message = self.scrub(&message);
        let code = body.get("Code").and_then(Value::as_i64);
        match a.status {
            401 | 403 => ModelScopeError::Unauthorized {
                request,
                status: a.status,
                message,
            },
            404 => ModelScopeError::NotFound { request, message },
            status => ModelScopeError::Status {
                request,
                status,
                code,
                message,
            },
        }
    }

    /// Sends an API call and returns `Data` of a successful envelope.
    async fn api(&self, call: Call) -> Result<Value, ModelScopeError> {
        let request = self.describe(&call.method, &call.url);
        if call.auth && self.token.is_none() && call.method != Method::GET {
            return Err(ModelScopeError::NoToken { request });
        }
        let a = self.send(&call).await?;
        if a.status >= 300 {
            return Err(self.answer_error(request, &a));
        }
        let body: Value =
            serde_json::from_slice(&a.body).map_err(|e| ModelScopeError::InvalidResponse {
                request: request.clone(),
                reason: format!("the body is not JSON: {e}"),
            })?;
        if body.get("Success").and_then(Value::as_bool) == Some(false) {
            return Err(self.answer_error(request, &a));
        }
        Ok(body.get("Data").cloned().unwrap_or(body))
    }

    fn call(&self, method: Method, url: Url) -> Call {
        Call {
            method,
            url,
            json: None,
            auth: true,
            retry: Retry::Idempotent,
        }
    }

    /// Whether the model exists (and the caller may see it).
    pub async fn model_exists(&self, id: &ModelId) -> Result<bool, ModelScopeError> {
        let url = self.url(&format!("/api/v1/models/{}", id.url_path()), &[])?;
        match self.api(self.call(Method::GET, url)).await {
            Ok(_) => Ok(true),
            Err(ModelScopeError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Creates the model; `Ok(false)` when it already exists.
    pub async fn create_model(
        &self,
        id: &ModelId,
        visibility: Visibility,
        license: &str,
    ) -> Result<bool, ModelScopeError> {
        if self.model_exists(id).await? {
            return Ok(false);
        }
        let url = self.url("/api/v1/models", &[])?;
        let mut call = self.call(Method::POST, url);
        call.retry = Retry::Unprocessed;
        call.json = Some(json!({
            "Path": id.owner(),
            "Name": id.name(),
            "ChineseName": "",
            "Visibility": visibility as u8,
            "License": license,
            "OriginalModelId": "",
        }));
        match self.api(call).await {
            Ok(_) => Ok(true),
            // Created by someone else in between (or by a lost answer of ours).
            Err(ModelScopeError::Status { message, .. })
                if message.to_lowercase().contains("already exist") =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

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
            let mut call = self.call(Method::POST, url);
            let list: Vec<Value> = chunk
                .iter()
                .map(|(oid, size)| json!({"oid": oid, "size": size}))
                .collect();
            call.json = Some(json!({"operation": "upload", "objects": list}));
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
                    if href.scheme() != "https" && !self.endpoint.same_origin(&href) {
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

    /// PUTs a file to an upload URL, streamed from disk (constant memory), with retries.
    pub async fn upload_object(
        &self,
        url: &Url,
        file: &Path,
        size: u64,
    ) -> Result<(), ModelScopeError> {
        let request = self.describe(&Method::PUT, url);
        let mut attempt = 0u32;
        loop {
            let f = tokio::fs::File::open(file)
                .await
                .map_err(|e| ModelScopeError::io(file, e))?;
            use tokio::io::AsyncReadExt as _;
            let stream = tokio_util::io::ReaderStream::with_capacity(f.take(size), READ_BUFFER);
            let mut rb = self
                .http
                .put(url.clone())
                .header(header::CONTENT_LENGTH, size)
                .header(header::CONTENT_TYPE, "application/octet-stream")
                .body(reqwest::Body::wrap_stream(stream));
            for (k, v) in self.auth_headers(url) {
                rb = rb.header(k, v);
            }
            let result = match rb.send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    let body = read_limited(resp, MAX_API_BODY).await.unwrap_or_default();
                    Ok(Answer {
                        status,
                        headers,
                        body,
                    })
                }
                Err(e) => Err(ModelScopeError::Transport {
                    request: request.clone(),
                    reason: self.scrub(&without_url(&e)),
                }),
            };
            let decision = match &result {
                Ok(a) if (200..300).contains(&a.status) => {
                    let body: Value = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
                    if body.get("Success").and_then(Value::as_bool) == Some(false) {
                        return Err(self.answer_error(request, a));
                    }
                    return Ok(());
                }
                Ok(a) => self.retry.decide(attempt, Some(a.status), Some(&a.headers)),
                Err(_) => self.retry.decide(attempt, None, None),
            };
            match (decision, result) {
                (RetryDecision::RetryAfter(delay), _) => {
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                (RetryDecision::TooLong(wait), r) => {
                    return Err(ModelScopeError::RetryAfterTooLong {
                        request,
                        status: r.map(|a| a.status).unwrap_or(0),
                        retry_after: wait,
                        limit: self.retry.max_retry_after,
                    });
                }
                (RetryDecision::GiveUp, Ok(a)) => return Err(self.answer_error(request, &a)),
                (RetryDecision::GiveUp, Err(e)) => return Err(e),
            }
        }
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
                hub_client::quote_segment(revision)
            ),
            &[],
        )?;
        let request = self.describe(&Method::POST, &url);
        let mut call = self.call(Method::POST, url);
        call.retry = Retry::Unprocessed;
        call.json = Some(json!({"commit_message": message, "actions": actions}));
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

    /// Every file of a revision (recursive), paths checked, sorted by path.
    pub async fn list_files(
        &self,
        id: &ModelId,
        revision: &str,
    ) -> Result<Vec<RepoFile>, ModelScopeError> {
        let url = self.url(
            &format!("/api/v1/models/{}/repo/files", id.url_path()),
            &[("Revision", revision), ("Recursive", "True")],
        )?;
        let request = self.describe(&Method::GET, &url);
        let data = self.api(self.call(Method::GET, url)).await?;
        let files = data
            .get("Files")
            .or_else(|| data.get("files"))
            .and_then(Value::as_array)
            .or_else(|| data.as_array())
            .ok_or_else(|| ModelScopeError::InvalidResponse {
                request: request.clone(),
                reason: "no Files list".into(),
            })?;
        let mut out = Vec::new();
        for f in files {
            if f.get("Type").and_then(Value::as_str) == Some("tree") {
                continue;
            }
            let path = f.get("Path").and_then(Value::as_str).ok_or_else(|| {
                ModelScopeError::InvalidResponse {
                    request: request.clone(),
                    reason: "a file without Path".into(),
                }
            })?;
            hub_client::validate_repo_path(path).map_err(|e| ModelScopeError::InvalidResponse {
                request: request.clone(),
                reason: e.to_string(),
            })?;
            out.push(RepoFile {
                path: path.to_owned(),
                size: f.get("Size").and_then(Value::as_u64).unwrap_or(0),
                sha256: f
                    .get("Sha256")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_ascii_lowercase),
                lfs: f.get("IsLFS").and_then(Value::as_bool).unwrap_or(false),
                blob_id: f
                    .get("Id")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_ascii_lowercase),
            });
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// Branches and tags with their commits.
    pub async fn revisions(&self, id: &ModelId) -> Result<Revisions, ModelScopeError> {
        let url = self.url(&format!("/api/v1/models/{}/revisions", id.url_path()), &[])?;
        let data = self.api(self.call(Method::GET, url)).await?;
        let read = |key: &str| -> BTreeMap<String, String> {
            data.pointer(&format!("/RevisionMap/{key}"))
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(|r| {
                            let name = r.get("Revision")?.as_str()?.to_owned();
                            let commit = r
                                .get("CommitId")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned();
                            Some((name, commit))
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(Revisions {
            branches: read("Branches"),
            tags: read("Tags"),
        })
    }

    /// Tags `git_ref` (a branch, tag or commit) as `tag`; `Ok(false)` when the tag already
    /// points at the same commit, an error when it points elsewhere.
    pub async fn create_tag(
        &self,
        id: &ModelId,
        tag: &str,
        git_ref: &str,
    ) -> Result<bool, ModelScopeError> {
        let revs = self.revisions(id).await?;
        if let Some(existing) = revs.tags.get(tag) {
            let target = revs
                .branches
                .get(git_ref)
                .or_else(|| revs.tags.get(git_ref))
                .map_or(git_ref, String::as_str);
            if existing == target {
                return Ok(false);
            }
            return Err(ModelScopeError::InvalidInput {
                what: "tag".into(),
                reason: format!(
                    "{tag} already exists on {id} at commit {existing}, not at {git_ref}: pick a new version"
                ),
            });
        }
        let url = self.url(&format!("/api/v1/models/{}/repo/tag", id.url_path()), &[])?;
        let mut call = self.call(Method::POST, url);
        call.retry = Retry::Unprocessed;
        call.json = Some(json!({"TagName": tag, "Ref": git_ref}));
        self.api(call).await?;
        Ok(true)
    }

    /// Starts the download of a file: the `200` answer after redirects (token dropped on other
    /// origins), or the error.
    async fn fetch(
        &self,
        id: &ModelId,
        revision: &str,
        path: &str,
    ) -> Result<(reqwest::Response, String), ModelScopeError> {
        let url = self.url(
            &format!("/api/v1/models/{}/repo", id.url_path()),
            &[("Revision", revision), ("FilePath", path)],
        )?;
        let request = self.describe(&Method::GET, &url);
        let mut hop = url;
        let mut hops = 0usize;
        let resp = loop {
            let mut rb = self.http.get(hop.clone());
            for (k, v) in self.auth_headers(&hop) {
                rb = rb.header(k, v);
            }
            let resp = rb.send().await.map_err(|e| ModelScopeError::Transport {
                request: request.clone(),
                reason: self.scrub(&without_url(&e)),
            })?;
            if resp.status().is_redirection()
                && let Some(loc) = resp.headers().get(header::LOCATION)
            {
                // A server that keeps redirecting must not hold the download forever.
                hops += 1;
                if hops > MAX_REDIRECTS {
                    return Err(ModelScopeError::Redirect {
                        request,
                        reason: format!("more than {MAX_REDIRECTS} redirects"),
                    });
                }
                hop = self.next_hop(&request, &hop, loc)?;
                continue;
            }
            break resp;
        };
        if resp.status() != StatusCode::OK {
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = read_limited(resp, 65536).await.unwrap_or_default();
            return Err(self.answer_error(
                request,
                &Answer {
                    status,
                    headers,
                    body,
                },
            ));
        }
        Ok((resp, request))
    }

    /// Streams a file through sha256 without storing it; returns the digest and the size.
    pub async fn download_sha256(
        &self,
        id: &ModelId,
        revision: &str,
        path: &str,
    ) -> Result<(String, u64), ModelScopeError> {
        let (resp, request) = self.fetch(id, revision, path).await?;
        let mut hasher = Sha256::new();
        let mut n = 0u64;
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| ModelScopeError::Transport {
                request: request.clone(),
                reason: self.scrub(&without_url(&e)),
            })?;
            hasher.update(&chunk);
            n += chunk.len() as u64;
        }
        Ok((hex::encode(hasher.finalize()), n))
    }

    /// Downloads a file to `dest` (temporary file, fsync, rename) and returns its sha256 and
    /// size; the bytes are streamed, never held in memory.
    pub async fn download_to(
        &self,
        id: &ModelId,
        revision: &str,
        path: &str,
        dest: &Path,
    ) -> Result<(String, u64), ModelScopeError> {
        let (resp, request) = self.fetch(id, revision, path).await?;
        let dir = dest.parent().unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| ModelScopeError::io(dir, e))?;
        let tmp = temp_path(dest);
        let result = async {
            let mut file = tokio::fs::File::create(&tmp)
                .await
                .map_err(|e| ModelScopeError::io(&tmp, e))?;
            let mut hasher = Sha256::new();
            let mut n = 0u64;
            let mut stream = resp.bytes_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| ModelScopeError::Transport {
                    request: request.clone(),
                    reason: self.scrub(&without_url(&e)),
                })?;
                hasher.update(&chunk);
                n += chunk.len() as u64;
                file.write_all(&chunk)
                    .await
                    .map_err(|e| ModelScopeError::io(&tmp, e))?;
            }
            file.sync_all()
                .await
                .map_err(|e| ModelScopeError::io(&tmp, e))?;
            drop(file);
            tokio::fs::rename(&tmp, dest)
                .await
                .map_err(|e| ModelScopeError::io(dest, e))?;
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok((hex::encode(hasher.finalize()), n))
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
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
}

impl ModelScopeClient {
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

fn temp_path(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("download");
    let mut rnd = [0u8; 6];
    // A failing OS generator only makes the name less unique; the pid keeps it apart.
    let _ = getrandom::fill(&mut rnd);
    dest.with_file_name(format!(
        ".{name}.{}.{}.part",
        std::process::id(),
        hex::encode(rnd)
    ))
}

/// A reqwest error without its URL (which could carry a presigned query).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), &hub_client::without_query(url));
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

async fn read_limited(resp: reqwest::Response, limit: usize) -> Result<bytes::Bytes, String> {
    let mut out = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| without_url(&e))?;
        if out.len() + chunk.len() > limit {
            return Err(format!("the answer is larger than {limit} bytes"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(bytes::Bytes::from(out))
}
