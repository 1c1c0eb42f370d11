//! The Hub endpoint, URL building, origin rules for credentials and redaction of URLs.

use std::fmt;
use std::net::IpAddr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use url::Url;

use crate::error::HubError;

/// The public Hub, used when neither an explicit endpoint nor `HF_ENDPOINT` is given.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// The base URL of a Hub (`https://huggingface.co` or a compatible server).
///
/// Stored without a trailing slash. Only `http` and `https` are accepted, with no
/// credentials, query or fragment.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    url: Url,
}

impl Endpoint {
    /// Parses and validates an endpoint URL.
    pub fn parse(text: &str) -> Result<Self, HubError> {
        let trimmed = text.trim().trim_end_matches('/');
        let invalid = |reason: &str| HubError::InvalidInput {
            what: "endpoint".into(),
            reason: format!(
                "{reason} (got {:?}); use a URL like https://huggingface.co",
                redact_any_url(trimmed)
            ),
        };
        let url = Url::parse(trimmed).map_err(|_| invalid("not a valid URL"))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.host_str().is_none() {
            return Err(invalid("the URL has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("the URL must not carry credentials"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("the URL must not have a query or fragment"));
        }
        Ok(Self { url })
    }

    /// Resolves the endpoint: `explicit` if given, else `HF_ENDPOINT`, else [`DEFAULT_ENDPOINT`].
    pub fn resolve(explicit: Option<&str>) -> Result<Self, HubError> {
        Self::resolve_with(explicit, |name| std::env::var(name).ok())
    }

    /// Like [`Endpoint::resolve`] with an injectable environment lookup (for tests).
    pub fn resolve_with(
        explicit: Option<&str>,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, HubError> {
        if let Some(explicit) = explicit.filter(|e| !e.trim().is_empty()) {
            return Self::parse(explicit);
        }
        match var("HF_ENDPOINT").filter(|e| !e.trim().is_empty()) {
            Some(env) => Self::parse(&env),
            None => Self::parse(DEFAULT_ENDPOINT),
        }
    }

    /// The endpoint as a URL (no trailing slash).
    pub fn as_url(&self) -> &Url {
        &self.url
    }

    /// The endpoint as text (no trailing slash).
    pub fn as_str(&self) -> &str {
        self.url.as_str().trim_end_matches('/')
    }

    /// Builds `endpoint + path`, where `path` starts with `/` and is already percent-encoded.
    pub fn join(&self, path: &str) -> Result<Url, HubError> {
        let text = format!("{}{}", self.as_str(), path);
        Url::parse(&text).map_err(|e| HubError::InvalidInput {
            what: "request URL".into(),
            reason: format!("cannot build a URL from the endpoint and {path:?}: {e}"),
        })
    }

    /// True when `url` has the endpoint's origin (scheme, host and port).
    pub fn same_origin(&self, url: &Url) -> bool {
        same_origin(&self.url, url)
    }

    /// True when the token may be sent to `url`: the endpoint's own origin only.
    ///
    /// Plain `http` is therefore possible only to the endpoint itself (a local server);
    /// a redirect to any other host, or to another port or scheme, never carries it.
    pub fn may_send_token_to(&self, url: &Url) -> bool {
        // Same origin includes the scheme, so plain http carries the token only when the
        // endpoint itself is plain http (a local or loopback server chosen by the user).
        self.same_origin(url)
    }

    /// A URL as safe to show in logs and errors: endpoint URLs keep their path and query,
    /// URLs of other origins (presigned storage URLs) lose their query string.
    pub fn display_url(&self, url: &Url) -> String {
        if self.same_origin(url) {
            url.as_str().to_owned()
        } else {
            without_query(url)
        }
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Endpoint({})", self.as_str())
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// True when both URLs have the same scheme, host and port (default ports made explicit).
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// True when the URL's host is `localhost` or a loopback address.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// `scheme://host[:port]/path` without query string or fragment.
pub fn without_query(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    let _ = url.set_password(None);
    let _ = url.set_username("");
    url.to_string()
}

/// Redacts the query string of a URL given as text (used for text that may not parse).
pub(crate) fn redact_any_url(text: &str) -> String {
    match text.find('?') {
        Some(i) => format!("{}?<redacted>", &text[..i]),
        None => text.to_owned(),
    }
}

/// Characters percent-encoded in a single path segment: everything but `A-Za-z0-9-._~`,
/// like Python's `urllib.parse.quote(x, safe="")`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Quotes a value as one path segment: `/` becomes `%2F` (revisions like `refs/pr/1`).
pub fn quote_segment(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

/// Quotes a repo file path for `/resolve/`: each segment quoted, the slashes kept.
pub fn quote_path(path: &str) -> String {
    path.split('/')
        .map(quote_segment)
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn resolution_order() {
        let e = Endpoint::resolve_with(
            Some("http://127.0.0.1:9/"),
            env(&[("HF_ENDPOINT", "https://x.test")]),
        )
        .unwrap();
        assert_eq!(e.as_str(), "http://127.0.0.1:9");
        let e =
            Endpoint::resolve_with(None, env(&[("HF_ENDPOINT", "https://mirror.test/")])).unwrap();
        assert_eq!(e.as_str(), "https://mirror.test");
        let e = Endpoint::resolve_with(None, env(&[])).unwrap();
        assert_eq!(e.as_str(), "https://huggingface.co");
        let e = Endpoint::resolve_with(Some(""), env(&[("HF_ENDPOINT", " ")])).unwrap();
        assert_eq!(e.as_str(), "https://huggingface.co");
    }

    #[test]
    fn bad_endpoints_are_refused() {
        for bad in [
            "ftp://x",
            "not a url",
            "https://user:pw@x.test",
            "https://x.test/?a=1",
            "file:///etc",
        ] {
            let err = Endpoint::parse(bad).unwrap_err();
            assert!(matches!(err, HubError::InvalidInput { .. }), "{bad}: {err}");
            assert!(!err.to_string().contains("a=1"));
        }
    }

    #[test]
    fn endpoint_with_path_prefix_joins() {
        let e = Endpoint::parse("https://x.test/hub/").unwrap();
        assert_eq!(
            e.join("/api/whoami-v2").unwrap().as_str(),
            "https://x.test/hub/api/whoami-v2"
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_segment("refs/pr/1"), "refs%2Fpr%2F1");
        assert_eq!(quote_segment("main"), "main");
        assert_eq!(quote_segment("v1.0-rc_1~x"), "v1.0-rc_1~x");
        assert_eq!(quote_segment("a b?#%"), "a%20b%3F%23%25");
        assert_eq!(quote_path("sub dir/m.gguf"), "sub%20dir/m.gguf");
        assert_eq!(quote_segment("é"), "%C3%A9");
    }

    #[test]
    fn origin_rules() {
        let https = Endpoint::parse("https://huggingface.co").unwrap();
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(https.may_send_token_to(&u("https://huggingface.co/api/x")));
        assert!(https.may_send_token_to(&u("https://huggingface.co:443/api/x")));
        assert!(!https.may_send_token_to(&u("https://cdn.huggingface.co/x")));
        assert!(!https.may_send_token_to(&u("http://huggingface.co/x")));
        assert!(!https.may_send_token_to(&u("https://huggingface.co:8443/x")));
        assert!(!https.may_send_token_to(&u("https://huggingface.co.evil.test/x")));

        let local = Endpoint::parse("http://127.0.0.1:8080").unwrap();
        assert!(local.may_send_token_to(&u("http://127.0.0.1:8080/api")));
        assert!(!local.may_send_token_to(&u("http://127.0.0.1:8081/api")));
        assert!(!local.may_send_token_to(&u("http://localhost:8080/api")));
    }

    #[test]
    fn display_redacts_foreign_queries_only() {
        let e = Endpoint::parse("https://huggingface.co").unwrap();
        let own = Url::parse("https://huggingface.co/api/models/a/b/tree/main?cursor=abc").unwrap();
        assert_eq!(e.display_url(&own), own.as_str());
        let s3 = Url::parse("https://s3.test/bucket/obj?X-Amz-Signature=secret&x=1").unwrap();
        assert_eq!(e.display_url(&s3), "https://s3.test/bucket/obj");
        assert_eq!(
            redact_any_url("https://a/b?sig=1"),
            "https://a/b?<redacted>"
        );
    }
}
