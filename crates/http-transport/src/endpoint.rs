//! The endpoint a client talks to, URL building and the origin rule for credentials.

use std::fmt;
use std::net::IpAddr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use url::Url;

use crate::error::TransportError;
use crate::redact::{redact_any_url, without_query};

/// The base URL of a server (`https://huggingface.co`, `https://www.modelscope.cn`, or a
/// compatible local server).
///
/// Stored without a trailing slash. Only `http` and `https` are accepted, with a host and no
/// credentials, query or fragment. Its origin (scheme, host, port) is the only one that ever
/// receives credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    url: Url,
}

impl Endpoint {
    /// Parses and validates an endpoint URL.
    pub fn parse(text: &str) -> Result<Self, TransportError> {
        let trimmed = text.trim().trim_end_matches('/');
        let invalid = |reason: &str| TransportError::InvalidInput {
            what: "endpoint".into(),
            reason: format!(
                "{reason} (got {:?}); give an http or https URL with a host and no credentials, query or fragment, like https://example.org",
                shown(trimmed)
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

    /// The endpoint as a URL (no trailing slash).
    pub fn as_url(&self) -> &Url {
        &self.url
    }

    /// The endpoint as text (no trailing slash).
    pub fn as_str(&self) -> &str {
        self.url.as_str().trim_end_matches('/')
    }

    /// Builds `endpoint + path`, where `path` starts with `/` and is already percent-encoded.
    pub fn join(&self, path: &str) -> Result<Url, TransportError> {
        let text = format!("{}{}", self.as_str(), path);
        Url::parse(&text).map_err(|e| TransportError::InvalidInput {
            what: "request URL".into(),
            reason: format!("cannot build a URL from the endpoint and {path:?}: {e}"),
        })
    }

    /// True when `url` has the endpoint's origin (scheme, host and port).
    pub fn same_origin(&self, url: &Url) -> bool {
        same_origin(&self.url, url)
    }

    /// True when credentials may be sent to `url`: the endpoint's own origin only.
    ///
    /// Plain `http` is therefore possible only to the endpoint itself (a local server chosen
    /// by the user); a redirect to any other host, or to another port or scheme, never
    /// carries them.
    pub fn may_send_token_to(&self, url: &Url) -> bool {
        self.same_origin(url)
    }

    /// A URL as safe to show in logs and errors: endpoint URLs keep their path and query (the
    /// transport never puts a secret in them), URLs of other origins (presigned storage URLs)
    /// lose their query string.
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

/// A URL given as text, safe to show: without credentials or query string.
fn shown(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) => without_query(&url),
        Err(_) => {
            let text = redact_any_url(text);
            match (text.find("://"), text.find('@')) {
                (Some(scheme_end), Some(at)) if at > scheme_end => {
                    format!("{}<redacted>{}", &text[..scheme_end + 3], &text[at..])
                }
                _ => text,
            }
        }
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

/// Quotes a file path: each segment quoted, the slashes kept.
pub fn quote_path(path: &str) -> String {
    path.split('/')
        .map(quote_segment)
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert!(
                matches!(err, TransportError::InvalidInput { .. }),
                "{bad}: {err}"
            );
            assert!(!err.to_string().contains("a=1"));
            assert!(!err.to_string().contains("pw@"), "{err}");
        }
        assert_eq!(
            shown("ht tp://u:p@x/?q=1"),
            "ht tp://<redacted>@x/?<redacted>"
        );
        assert_eq!(
            Endpoint::parse(" http://127.0.0.1:9/ ").unwrap().as_str(),
            "http://127.0.0.1:9"
        );
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
        assert!(is_loopback(&u("http://localhost:1/")));
        assert!(is_loopback(&u("http://[::1]:1/")));
        assert!(!is_loopback(&u("http://10.0.0.1/")));
    }

    #[test]
    fn display_redacts_foreign_queries_only() {
        let e = Endpoint::parse("https://huggingface.co").unwrap();
        let own = Url::parse("https://huggingface.co/api/models/a/b/tree/main?cursor=abc").unwrap();
        assert_eq!(e.display_url(&own), own.as_str());
        let s3 = Url::parse("https://s3.test/bucket/obj?X-Amz-Signature=secret&x=1").unwrap();
        assert_eq!(e.display_url(&s3), "https://s3.test/bucket/obj");
    }
}
