//! CAS access tokens and signed xorb URLs: what the Xet token routes hand out and the CAS
//! checks. A token names one repository, read or write, and when it expires, signed with a
//! key kept in the data directory, so tokens survive a restart as everything else does and
//! need no table in memory. The token itself is a credential: it is never logged.

use axum::http::{StatusCode, header};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::Ctx;
use crate::error::ApiError;
use crate::store::{RepoId, RepoKind, Store, unix_now};

/// What a CAS token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum XetScope {
    /// Reconstructions, xorb reads and dedup queries.
    Read,
    /// Also xorb and shard uploads.
    Write,
}

/// A checked CAS token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XetGrant {
    pub repo: RepoId,
    pub scope: XetScope,
    pub expires: u64,
}

/// Issues and checks CAS tokens and xorb URL signatures.
pub(crate) struct XetTokens {
    key: [u8; 32],
}

impl std::fmt::Debug for XetTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("XetTokens { key: <redacted> }")
    }
}

/// HMAC-SHA256 (RFC 2104) of `msg` under a 32-byte key.
fn hmac(key: &[u8; 32], msg: &[u8]) -> [u8; 32] {
    let mut ipad = [0x36u8; 64];
    let mut opad = [0x5cu8; 64];
    for (i, k) in key.iter().enumerate() {
        ipad[i] ^= k;
        opad[i] ^= k;
    }
    let inner = Sha256::new()
        .chain_update(ipad)
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(opad)
        .chain_update(inner)
        .finalize()
        .into()
}

/// Compares two byte strings in time independent of where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

const TOKEN_PREFIX: &str = "xet_";

impl XetTokens {
    /// The signer of a store: its key is kept in the data directory.
    pub(crate) fn open(store: &Store) -> std::io::Result<XetTokens> {
        Ok(XetTokens {
            key: store.secret("xet-signing-key")?,
        })
    }

    /// A token for `repo` with `scope`, valid until `expires` (Unix seconds).
    pub(crate) fn issue(&self, repo: &RepoId, scope: XetScope, expires: u64) -> String {
        let scope = match scope {
            XetScope::Read => "r",
            XetScope::Write => "w",
        };
        let payload = format!(
            "{scope}:{expires}:{}/{}/{}",
            repo.kind.plural(),
            repo.namespace,
            repo.name
        );
        let sig = hmac(&self.key, format!("token\0{payload}").as_bytes());
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{TOKEN_PREFIX}{}.{}",
            engine.encode(payload),
            engine.encode(sig)
        )
    }

    /// Checks a token: `Err(true)` when it is well signed but expired, `Err(false)` when it
    /// is not one of this server's.
    pub(crate) fn check(&self, token: &str, now: u64) -> Result<XetGrant, bool> {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let (payload, sig) = token
            .strip_prefix(TOKEN_PREFIX)
            .and_then(|t| t.split_once('.'))
            .ok_or(false)?;
        let payload = engine.decode(payload).map_err(|_| false)?;
        let sig = engine.decode(sig).map_err(|_| false)?;
        let payload = String::from_utf8(payload).map_err(|_| false)?;
        let want = hmac(&self.key, format!("token\0{payload}").as_bytes());
        if !same(&sig, &want) {
            return Err(false);
        }
        let mut parts = payload.splitn(3, ':');
        let (Some(scope), Some(expires), Some(repo)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(false);
        };
        let scope = match scope {
            "r" => XetScope::Read,
            "w" => XetScope::Write,
            _ => return Err(false),
        };
        let expires: u64 = expires.parse().map_err(|_| false)?;
        let mut parts = repo.splitn(3, '/');
        let (Some(kind), Some(ns), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(false);
        };
        let repo = RepoKind::from_plural(kind)
            .and_then(|k| RepoId::new(k, ns, name))
            .ok_or(false)?;
        if expires <= now {
            return Err(true);
        }
        Ok(XetGrant {
            repo,
            scope,
            expires,
        })
    }

    /// The signature of a download URL for `what` valid until `expires`.
    pub(crate) fn url_signature(&self, what: &str, expires: u64) -> String {
        hex::encode(hmac(
            &self.key,
            format!("url\0{what}\0{expires}").as_bytes(),
        ))
    }

    /// Whether `signature` signs `what` until `expires`, and that time has not passed.
    pub(crate) fn url_valid(&self, what: &str, expires: u64, signature: &str) -> bool {
        expires > unix_now()
            && same(
                signature.as_bytes(),
                self.url_signature(what, expires).as_bytes(),
            )
    }
}

impl Ctx {
    /// The CAS token of this request, checked for `scope`: 401 when it is missing, unknown or
    /// expired (a fault rule may say it is), 403 when it only reads and `scope` is write.
    pub(crate) fn xet_grant(&self, scope: XetScope) -> Result<XetGrant, ApiError> {
        let unauthorized = |msg: &str| {
            ApiError::new(StatusCode::UNAUTHORIZED, msg.to_owned()).code("Unauthorized")
        };
        let token = self
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(|| {
                unauthorized(
                    "the CAS needs a Xet access token: ask the repository's xet-read-token or \
                     xet-write-token route for one",
                )
            })?;
        let expired = || {
            unauthorized(
                "the Xet access token expired: ask the xet-read-token or xet-write-token route \
                 for a new one",
            )
        };
        if self.expire_xet_token {
            return Err(expired());
        }
        let grant = match self.state.xet_tokens.check(token, unix_now()) {
            Ok(g) => g,
            Err(true) => return Err(expired()),
            Err(false) => {
                return Err(unauthorized(
                    "the Xet access token is not valid here: ask the repository's token route \
                     for one",
                ));
            }
        };
        if scope == XetScope::Write && grant.scope == XetScope::Read {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "this Xet access token only reads: ask the xet-write-token route for one that writes",
            )
            .code("Forbidden"));
        }
        Ok(grant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_their_repo_scope_and_expiry() {
        let t = XetTokens { key: [7; 32] };
        let repo = RepoId::new(RepoKind::Dataset, "me", "data.v1").unwrap();
        let tok = t.issue(&repo, XetScope::Write, 2000);
        let g = t.check(&tok, 1000).unwrap();
        assert_eq!(g.repo, repo);
        assert_eq!(g.scope, XetScope::Write);
        assert_eq!(t.check(&tok, 2000), Err(true));
        // Another key, a changed payload or garbage: not a token of this server.
        assert_eq!(XetTokens { key: [8; 32] }.check(&tok, 1000), Err(false));
        let forged = tok.replacen("xet_", "xet_A", 1);
        assert_eq!(t.check(&forged, 1000), Err(false));
        assert_eq!(t.check("hf_test_write", 1000), Err(false));
        let sig = t.url_signature("abc", u64::MAX);
        assert!(t.url_valid("abc", u64::MAX, &sig));
        assert!(!t.url_valid("abd", u64::MAX, &sig));
        assert!(!t.url_valid("abc", 1, &t.url_signature("abc", 1)));
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2 uses a short key; this checks the construction with a 32-byte key
        // against a value computed independently (Python's hmac module).
        let key = [0x0bu8; 32];
        assert_eq!(
            hex::encode(hmac(&key, b"Hi There")),
            "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7"
        );
    }
}
