//! The auth hook: how a client's credentials are attached, and only where they may go.

use std::fmt;

use reqwest::header::{self, HeaderMap, HeaderValue};

use crate::error::TransportError;
use crate::token::Token;

/// A client's credentials, attached by the transport to requests for the endpoint's own origin.
///
/// The transport calls [`authorize`](AuthHook::authorize) only for a request that asks for
/// authentication and only when the URL of that hop has the endpoint's origin (scheme, host,
/// port): a redirect to any other origin, a presigned storage URL or a plain-http copy of an
/// https endpoint never gets them. Implementations put the secret only into header values
/// marked sensitive ([`Token::header_value`]).
pub trait AuthHook: fmt::Debug + Send + Sync {
    /// Adds the credentials to the headers of one request bound for the endpoint's origin.
    fn authorize(&self, headers: &mut HeaderMap);

    /// The secret these credentials carry, scrubbed from every server message that reaches
    /// an error (a server may echo what it was sent).
    fn secret(&self) -> &Token;
}

/// `Authorization: Bearer <token>`, the usual hook (the Hub's).
#[derive(Clone)]
pub struct Bearer {
    token: Token,
    value: HeaderValue,
}

impl Bearer {
    /// The hook for `token`; fails when the token cannot go in a header.
    pub fn new(token: Token) -> Result<Self, TransportError> {
        let value = token.header_value("Bearer ")?;
        Ok(Self { token, value })
    }
}

impl fmt::Debug for Bearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Bearer").field(&self.token).finish()
    }
}

impl AuthHook for Bearer {
    fn authorize(&self, headers: &mut HeaderMap) {
        headers.insert(header::AUTHORIZATION, self.value.clone());
    }

    fn secret(&self) -> &Token {
        &self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_sets_a_sensitive_authorization() {
        let hook = Bearer::new(Token::new("hf_hidden").unwrap()).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic x"));
        hook.authorize(&mut headers);
        let value = &headers[header::AUTHORIZATION];
        assert_eq!(value.to_str().unwrap(), "Bearer hf_hidden");
        assert!(value.is_sensitive());
        assert_eq!(headers.len(), 1);
        assert_eq!(format!("{hook:?}"), "Bearer(Token(***))");
    }
}
