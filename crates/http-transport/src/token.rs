//! The access token as a secret type: it can authenticate a request but is never shown.

use std::fmt;

use reqwest::header::HeaderValue;

use crate::error::TransportError;

/// An access token (the Hub's, ModelScope's, or any other bearer secret).
///
/// The value is never shown: `Debug` prints `Token(***)` and `Display` prints `***`. The
/// transport puts it only into header values marked sensitive ([`Token::header_value`]), sends
/// those only to the endpoint's own origin, and never puts it in a URL, a log line or an error.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token value, trimming surrounding whitespace; `None` when nothing is left.
    pub fn new(value: impl Into<String>) -> Option<Self> {
        let value = value.into();
        let trimmed = value.trim();
        if trimmed.is_empty() {
            None
        } else {
            Some(Self(trimmed.to_owned()))
        }
    }

    /// The secret value. Do not log it; prefer [`Token::header_value`].
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// `prefix` followed by the token as a header value marked sensitive (so that HTTP
    /// libraries never print it), for example `Bearer <token>` or `session=<token>`.
    pub fn header_value(&self, prefix: &str) -> Result<HeaderValue, TransportError> {
        let mut value = HeaderValue::from_str(&format!("{prefix}{}", self.0)).map_err(|_| {
            TransportError::InvalidInput {
                what: "token".into(),
                reason: "it contains characters that cannot go in an HTTP header; check the variable it came from".into(),
            }
        })?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// Replaces every occurrence of the token in `text` with `***`.
    ///
    /// Only text the client does not build itself (a server's message, which could echo what
    /// it was sent) needs this; everything the client builds is redacted by construction.
    pub fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 {
            // A very short token would scrub ordinary words; such tokens are not real ones.
            return text.to_owned();
        }
        text.replace(&self.0, "***")
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let token = Token::new("hf_supersecret").unwrap();
        assert_eq!(format!("{token:?}"), "Token(***)");
        assert_eq!(format!("{token}"), "***");
        assert_eq!(format!("{:?}", Some(&token)), "Some(Token(***))");
        assert_eq!(token.expose_secret(), "hf_supersecret");
        assert!(Token::new("  \n").is_none());
        assert_eq!(Token::new(" x_token\n").unwrap().expose_secret(), "x_token");
    }

    #[test]
    fn header_values_are_sensitive() {
        let token = Token::new("hf_supersecret").unwrap();
        let value = token.header_value("Bearer ").unwrap();
        assert!(value.is_sensitive());
        assert_eq!(value.to_str().unwrap(), "Bearer hf_supersecret");
        assert!(!format!("{value:?}").contains("hf_supersecret"));
        let bad = Token::new("bad\u{1}token").unwrap();
        let err = bad.header_value("Bearer ").unwrap_err();
        assert!(!err.to_string().contains("bad"), "{err}");
    }

    #[test]
    fn scrub_removes_the_value() {
        let token = Token::new("hf_abcdef").unwrap();
        assert_eq!(
            token.scrub("bad token hf_abcdef here"),
            "bad token *** here"
        );
        assert_eq!(Token::new("ab").unwrap().scrub("ab cab"), "ab cab");
    }
}
