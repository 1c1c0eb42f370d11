//! Who is calling: one lookup of a token in the configured lists, and the Hub's answers for a
//! caller that may not read or write a repo (the transfers give the same answers).

use axum::http::{HeaderMap, StatusCode, header};

use super::{AppState, Ctx};
use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::store::{RepoId, RepoKind, RepoMeta};

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    Anonymous,
    Invalid,
    Write,
    Read,
    Guest,
}

/// What a token grants, and the name whoami shows for it; `Invalid` for an unknown token.
pub(crate) fn token_auth(config: &ServerConfig, token: &str) -> (Auth, String) {
    let position = |list: &[String]| list.iter().position(|t| t == token);
    if let Some(i) = position(&config.write_tokens) {
        (Auth::Write, format!("write-token-{}", i + 1))
    } else if let Some(i) = position(&config.read_tokens) {
        (Auth::Read, format!("read-token-{}", i + 1))
    } else if let Some(i) = position(&config.guest_tokens) {
        (Auth::Guest, format!("guest-token-{}", i + 1))
    } else {
        (Auth::Invalid, String::new())
    }
}

/// The caller of a request from its `Authorization: Bearer` header.
pub(super) fn authenticate(state: &AppState, headers: &HeaderMap) -> (Auth, String) {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return (Auth::Anonymous, String::new());
    };
    let Some(token) = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
    else {
        return (Auth::Invalid, String::new());
    };
    token_auth(&state.config, token)
}

impl Ctx {
    /// Whether the caller may see private repos.
    pub(crate) fn can_read_private(&self) -> bool {
        matches!(self.auth, Auth::Write | Auth::Read)
    }

    /// 401 for a missing or unknown token, 403 for a read-only one.
    pub(crate) fn require_write(&self) -> Result<(), ApiError> {
        match self.auth {
            Auth::Write => Ok(()),
            Auth::Anonymous => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "You must be authenticated with a write token to do this",
            )
            .code("Unauthorized")),
            Auth::Invalid => Err(invalid_credentials()),
            Auth::Read | Auth::Guest => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "You don't have the rights to write here: the token is read-only",
            )
            .code("Forbidden")),
        }
    }

    /// The Hub's answer for a repo the caller cannot see: 401 when anonymous, else 404.
    pub(crate) fn repo_not_found(&self) -> ApiError {
        let status = if self.auth == Auth::Anonymous {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::NOT_FOUND
        };
        ApiError::new(status, "Repository not found").code("RepoNotFound")
    }

    /// The Hub repo a path names: `ns/name` checked against the naming rules (a name that
    /// breaks them cannot exist: `RepoNotFound`), then matched case-insensitively against the
    /// stored repos, so the id handlers see is the stored one. A repo that does not exist
    /// keeps the id as given (the handler answers `RepoNotFound`, or creates it).
    pub(crate) fn hub_repo(
        &self,
        kind: RepoKind,
        ns: &str,
        name: &str,
    ) -> Result<RepoId, ApiError> {
        let id = RepoId::new(kind, ns, name).ok_or_else(|| self.repo_not_found())?;
        Ok(self.state.store.find_repo(&id)?.unwrap_or(id))
    }

    /// Loads a Hub repo the caller may read.
    pub(crate) fn readable_repo(&self, id: &RepoId) -> Result<RepoMeta, ApiError> {
        match self.state.store.repo_meta(id)? {
            Some(meta) if !meta.private || self.can_read_private() => Ok(meta),
            _ => Err(self.repo_not_found()),
        }
    }

    /// Loads a Hub repo whose files the caller may download: readable, and when it is gated,
    /// the caller is its owner (write and read tokens are the owner's). Others get the Hub's
    /// `GatedRepo` answer, 401 without a token and 403 with one; huggingface_hub raises
    /// `GatedRepoError`. The repo's info, tree and refs stay visible, as on the Hub.
    pub(crate) fn downloadable_repo(&self, id: &RepoId) -> Result<RepoMeta, ApiError> {
        let meta = self.readable_repo(id)?;
        if meta.gated.is_none() || self.can_read_private() {
            return Ok(meta);
        }
        let what = id.kind.singular();
        let full = id.full();
        let (status, message) = if self.auth == Auth::Anonymous {
            (
                StatusCode::UNAUTHORIZED,
                format!(
                    "Access to {what} {full} is restricted. You must have access to it and be authenticated to access it. Please log in."
                ),
            )
        } else {
            (
                StatusCode::FORBIDDEN,
                format!(
                    "Access to {what} {full} is restricted and you are not in the authorized list. Visit the repo page to ask for access."
                ),
            )
        };
        Err(ApiError::new(status, message).code("GatedRepo"))
    }

    /// Loads a Hub repo the caller may write.
    pub(crate) fn writable_repo(&self, id: &RepoId) -> Result<RepoMeta, ApiError> {
        self.require_write()?;
        self.state
            .store
            .repo_meta(id)?
            .ok_or_else(|| self.repo_not_found())
    }
}

/// The answer to a token that is not one of the configured ones.
pub(crate) fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "Invalid credentials in Authorization header",
    )
    .code("Unauthorized")
}
