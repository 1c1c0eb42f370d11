//! Who is calling: one lookup of a token in the configured lists, and the Hub's answers for a
//! caller that may not read or write a repo (the transfers give the same answers).

use axum::http::{HeaderMap, StatusCode, header};

use super::{AppState, Ctx};
use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::store::{RepoId, RepoMeta};

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

    /// Loads a Hub repo the caller may read.
    pub(crate) fn readable_repo(&self, id: &RepoId) -> Result<RepoMeta, ApiError> {
        match self.state.store.repo_meta(id)? {
            Some(meta) if !meta.private || self.can_read_private() => Ok(meta),
            _ => Err(self.repo_not_found()),
        }
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
