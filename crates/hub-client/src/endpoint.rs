//! Which Hub to talk to: an explicit endpoint, else `HF_ENDPOINT`, else the public Hub.
//!
//! The [`Endpoint`] type itself, its origin rule and URL quoting belong to `http-transport`.

use http_transport::Endpoint;

use crate::error::HubError;

/// The public Hub, used when neither an explicit endpoint nor `HF_ENDPOINT` is given.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// Resolves the endpoint: `explicit` if given, else `HF_ENDPOINT`, else [`DEFAULT_ENDPOINT`].
pub fn resolve_endpoint(explicit: Option<&str>) -> Result<Endpoint, HubError> {
    resolve_endpoint_with(explicit, |name| std::env::var(name).ok())
}

/// Like [`resolve_endpoint`] with an injectable environment lookup (for tests).
pub fn resolve_endpoint_with(
    explicit: Option<&str>,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Endpoint, HubError> {
    let (text, from) = match explicit.filter(|e| !e.trim().is_empty()) {
        Some(explicit) => (explicit.to_owned(), "the endpoint given"),
        None => match var("HF_ENDPOINT").filter(|e| !e.trim().is_empty()) {
            Some(env) => (env, "HF_ENDPOINT"),
            None => (DEFAULT_ENDPOINT.to_owned(), "the default endpoint"),
        },
    };
    Endpoint::parse(&text).map_err(|e| match HubError::from(e) {
        HubError::InvalidInput { what, reason } => HubError::InvalidInput {
            what,
            reason: format!(
                "{reason} (from {from}); a Hub endpoint looks like https://huggingface.co"
            ),
        },
        other => other,
    })
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
        let e = resolve_endpoint_with(
            Some("http://127.0.0.1:9/"),
            env(&[("HF_ENDPOINT", "https://x.test")]),
        )
        .unwrap();
        assert_eq!(e.as_str(), "http://127.0.0.1:9");
        let e =
            resolve_endpoint_with(None, env(&[("HF_ENDPOINT", "https://mirror.test/")])).unwrap();
        assert_eq!(e.as_str(), "https://mirror.test");
        let e = resolve_endpoint_with(None, env(&[])).unwrap();
        assert_eq!(e.as_str(), "https://huggingface.co");
        let e = resolve_endpoint_with(Some(""), env(&[("HF_ENDPOINT", " ")])).unwrap();
        assert_eq!(e.as_str(), "https://huggingface.co");
    }

    #[test]
    fn bad_endpoints_say_where_they_came_from() {
        let err = resolve_endpoint_with(Some("https://x.test/?a=1"), env(&[])).unwrap_err();
        assert!(matches!(err, HubError::InvalidInput { .. }), "{err}");
        assert!(!err.to_string().contains("a=1"), "{err}");
        assert!(err.to_string().contains("the endpoint given"), "{err}");
        let err = resolve_endpoint_with(None, env(&[("HF_ENDPOINT", "ftp://x")])).unwrap_err();
        assert!(matches!(err, HubError::InvalidInput { .. }), "{err}");
        assert!(err.to_string().contains("HF_ENDPOINT"), "{err}");
        assert!(err.to_string().contains("https://huggingface.co"), "{err}");
    }
}
