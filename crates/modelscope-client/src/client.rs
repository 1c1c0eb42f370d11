//! The ModelScope client: configuration, credentials, the API envelope and errors, and the
//! model-level calls (exists, create, revisions, tags, listing). Sending itself (redirects,
//! credentials on the endpoint's origin, retries, redaction) is `http-transport`'s.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http_transport::{
    Answer, AuthHook, Endpoint, Request, RetryMode, RetryPolicy, Settings, Token, Transport,
    TransportError,
};
use reqwest::Method;
use reqwest::header::{self, HeaderMap, HeaderValue};
use serde_json::{Value, json};
use url::Url;

use crate::error::ModelScopeError;
use crate::model::{ModelId, RepoFile, Revisions, Visibility};

/// The public ModelScope site, used when no endpoint is configured.
pub const DEFAULT_ENDPOINT: &str = "https://www.modelscope.cn";
/// ModelScope's default branch.
pub const DEFAULT_REVISION: &str = "master";
/// The environment variable holding the access token.
pub const TOKEN_ENV: &str = "MODELSCOPE_API_TOKEN";
/// The API root under the endpoint; an endpoint given with it is accepted and trimmed.
const API_ROOT: &str = "/api/v1";

/// Resolves the endpoint like the official SDK: `explicit`, else `MODELSCOPE_ENDPOINT`, else
/// `MODELSCOPE_DOMAIN` (a bare domain gets `https://`), else [`DEFAULT_ENDPOINT`].
///
/// The endpoint is the site (`https://www.modelscope.cn`), not its API root; a value ending
/// in `/api/v1` (the form API URLs are printed in) is accepted and means the same site.
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
    let site = text.trim_end_matches('/');
    let site = site.strip_suffix(API_ROOT).unwrap_or(site);
    Endpoint::parse(site).map_err(|e| ModelScopeError::InvalidInput {
        what: "ModelScope endpoint".into(),
        reason: format!("{e}; set MODELSCOPE_ENDPOINT to a URL like https://www.modelscope.cn"),
    })
}

/// The token from `MODELSCOPE_API_TOKEN` through `var` (trimmed; empty means none).
pub fn token_from_env_with(var: impl Fn(&str) -> Option<String>) -> Option<Token> {
    var(TOKEN_ENV).and_then(Token::new)
}

/// ModelScope's credentials: the token in `Authorization: Bearer` and in the cookie
/// `m_session_id` (the legacy API's login), both sensitive. The transport attaches them only
/// to the endpoint's own origin.
#[derive(Clone)]
struct ModelScopeAuth {
    token: Token,
    bearer: HeaderValue,
    cookie: HeaderValue,
}

impl ModelScopeAuth {
    fn new(token: Token) -> Result<Self, ModelScopeError> {
        let header = |prefix: &str| {
            token
                .header_value(prefix)
                .map_err(|_| ModelScopeError::InvalidInput {
                    what: "token".into(),
                    reason: format!(
                        "it contains characters that cannot go in an HTTP header; check {TOKEN_ENV}"
                    ),
                })
        };
        Ok(Self {
            bearer: header("Bearer ")?,
            cookie: header("m_session_id=")?,
            token,
        })
    }
}

impl fmt::Debug for ModelScopeAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ModelScopeAuth").field(&self.token).finish()
    }
}

impl AuthHook for ModelScopeAuth {
    fn authorize(&self, headers: &mut HeaderMap) {
        headers.insert(header::AUTHORIZATION, self.bearer.clone());
        headers.insert(header::COOKIE, self.cookie.clone());
    }

    fn secret(&self) -> &Token {
        &self.token
    }
}

/// Builds a [`ModelScopeClient`].
#[derive(Debug, Clone)]
pub struct ModelScopeClientBuilder {
    endpoint: Option<Endpoint>,
    token: Option<Token>,
    /// Retries, timeouts and the user agent, handed to the transport as they are.
    transport: Settings,
}

impl Default for ModelScopeClientBuilder {
    fn default() -> Self {
        Self {
            endpoint: None,
            token: None,
            transport: Settings {
                user_agent: concat!("ruvltra-modelscope-client/", env!("CARGO_PKG_VERSION")).into(),
                ..Settings::default()
            },
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
        self.transport.retry = retry;
        self
    }

    /// The longest wait for a chunk of an answer (and for a streamed upload to make progress).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.transport.read_timeout = timeout;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<ModelScopeClient, ModelScopeError> {
        let endpoint = match self.endpoint {
            Some(e) => e,
            None => resolve_endpoint_with(None, |_| None)?,
        };
        let auth = match &self.token {
            Some(token) => Some(Arc::new(ModelScopeAuth::new(token.clone())?) as Arc<dyn AuthHook>),
            None => None,
        };
        let transport = Transport::builder(endpoint)
            .auth(auth)
            .label("modelscope")
            .settings(self.transport)
            .build()?;
        Ok(ModelScopeClient {
            transport,
            token: self.token,
        })
    }
}

/// An async ModelScope client. Cloning is cheap.
///
/// Every request goes through one [`Transport`]: the token goes in `Authorization: Bearer` and
/// in the cookie `m_session_id` (the legacy API's login), both marked sensitive, and only to
/// the endpoint's own origin: redirects are followed by hand and drop it on any other origin;
/// `https` to `http` is refused. It never appears in URLs, logs or errors. Reads, uploads and
/// downloads are retried like the Hub client's; commits, creates and tags only on answers that
/// say the request was not processed (429, 503).
#[derive(Clone)]
pub struct ModelScopeClient {
    pub(crate) transport: Transport,
    token: Option<Token>,
}

impl fmt::Debug for ModelScopeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModelScopeClient")
            .field("endpoint", self.transport.endpoint())
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
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
        self.transport.endpoint()
    }

    /// Whether a token is configured.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    pub(crate) fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, ModelScopeError> {
        let mut url = self.endpoint().join(path)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    pub(crate) fn describe(&self, method: &Method, url: &Url) -> String {
        self.transport.describe(method, url)
    }

    /// A transport failure of `request` in this crate's terms.
    pub(crate) fn failed(&self, request: &str, error: TransportError) -> ModelScopeError {
        match error {
            TransportError::RedirectRefused { from, to, reason } => ModelScopeError::Redirect {
                request: request.to_owned(),
                reason: format!("{reason} (from {from} to {to})"),
            },
            other => other.into(),
        }
    }

    pub(crate) fn answer_error(&self, request: String, a: &Answer) -> ModelScopeError {
        let body: Value = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
        let message = body
            .get("Message")
            .or_else(|| body.get("message"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| String::from_utf8_lossy(&a.body).into_owned());
        let message = self.transport.sanitize(&message);
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
    pub(crate) async fn api(&self, call: Request) -> Result<Value, ModelScopeError> {
        let request = self.describe(&call.method, &call.url);
        if call.auth && self.token.is_none() && call.method != Method::GET {
            return Err(ModelScopeError::NoToken { request });
        }
        let a = self
            .transport
            .send(&call)
            .await
            .map_err(|e| self.failed(&request, e))?;
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

    /// Whether the model exists (and the caller may see it).
    pub async fn model_exists(&self, id: &ModelId) -> Result<bool, ModelScopeError> {
        let url = self.url(&format!("/api/v1/models/{}", id.url_path()), &[])?;
        match self.api(Request::new(Method::GET, url)).await {
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
        let call = Request::new(Method::POST, url)
            .retry(RetryMode::UnprocessedOnly)
            .json(&json!({
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
        let data = self.api(Request::new(Method::GET, url)).await?;
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
        let data = self.api(Request::new(Method::GET, url)).await?;
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
        let call = Request::new(Method::POST, url)
            .retry(RetryMode::UnprocessedOnly)
            .json(&json!({"TagName": tag, "Ref": git_ref}));
        self.api(call).await?;
        Ok(true)
    }
}
