//! The rules of names that point elsewhere: model ids, Hub repo ids, revisions and fallback
//! URLs.

use std::collections::HashSet;

use super::pointer::Pointer;
use super::{Checker, show};

impl Checker<'_> {
    pub(super) fn repo_id(&mut self, path: Pointer<'_>, id: &str, namespace_required: bool) {
        if let Some(problem) = repo_id_problem(id, namespace_required) {
            self.report(
                path,
                format!(
                    "{} is not a Hub repo id: {problem} (expected `namespace/name` such as \
                     `ruv/ruvltra`)",
                    show(id)
                ),
            );
        }
    }

    pub(super) fn revision(&mut self, path: Pointer<'_>, revision: &str) {
        if revision.is_empty() {
            self.report(
                path,
                "revision is empty; use a branch, tag or 40-hex commit such as `main`",
            );
            return;
        }
        let problem = if revision
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            Some("contains whitespace or a control character")
        } else if revision.contains("..") {
            Some("contains `..`")
        } else if revision.len() > 255 {
            Some("is longer than 255 bytes")
        } else {
            None
        };
        if let Some(problem) = problem {
            self.report(
                path,
                format!(
                    "revision {} {problem}; use a branch, tag or 40-hex commit such as `main`",
                    show(revision)
                ),
            );
        }
    }

    pub(super) fn fallback_urls(&mut self, list: Pointer<'_>, urls: &[String]) {
        let mut seen = HashSet::with_capacity(urls.len());
        for (n, url) in urls.iter().enumerate() {
            let path = list.index(n);
            if let Some(problem) = fallback_url_problem(url) {
                self.report(path, format!("fallback URL {} {problem}", show(url)));
            } else if !seen.insert(url.as_str()) {
                self.report(path, format!("fallback URL {} is listed twice", show(url)));
            }
        }
    }
}

/// Ids are lowercase and safe everywhere they end up: file names, URLs and Rust identifiers.
pub(super) fn id_problem(id: &str) -> Option<String> {
    if id.is_empty() {
        return Some("id is empty; use the file stem such as `ruvltra-small-0.5b-q4_k_m`".into());
    }
    let valid = id.len() <= 255
        && id.as_bytes()[0].is_ascii_alphanumeric()
        && id.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'_')
        });
    (!valid).then(|| {
        format!(
            "id {} may only hold lowercase letters, digits, `-`, `.` and `_`, start with a letter \
             or digit and be at most 255 bytes",
            show(id)
        )
    })
}

/// The Hub's repo id rules: `namespace/name`, each part `[A-Za-z0-9._-]`, at most 96
/// characters, no `--` or `..`, not starting or ending with `-` or `.`.
fn repo_id_problem(id: &str, namespace_required: bool) -> Option<String> {
    let parts: Vec<&str> = id.split('/').collect();
    match parts.len() {
        1 if namespace_required => return Some("it has no namespace".into()),
        1 | 2 => {}
        _ => return Some("it has more than one `/`".into()),
    }
    for part in parts {
        let problem = if part.is_empty() {
            "a part is empty"
        } else if part.len() > 96 {
            "a part is longer than 96 characters"
        } else if !part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            "only letters, digits, `.`, `_` and `-` are allowed"
        } else if part.contains("--") || part.contains("..") {
            "`--` and `..` are not allowed"
        } else if part.starts_with(['-', '.']) || part.ends_with(['-', '.']) {
            "a part starts or ends with `-` or `.`"
        } else {
            continue;
        };
        return Some(problem.into());
    }
    None
}

/// Fallback URLs must be https; plain http only to a loopback host, for tests.
fn fallback_url_problem(raw: &str) -> Option<String> {
    let url = match url::Url::parse(raw) {
        Ok(url) => url,
        Err(err) => return Some(format!("is not a URL ({err}); write an absolute https URL")),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Some("carries credentials; never put secrets in the registry".into());
    }
    let Some(host) = url.host() else {
        return Some("has no host; write an absolute https URL".into());
    };
    let scheme_problem = match url.scheme() {
        "https" => None,
        "http" if is_loopback(&host) => None,
        "http" => {
            Some("uses plain http; use https (http is only allowed for loopback hosts)".into())
        }
        other => Some(format!("uses the scheme `{other}`; use https")),
    };
    // URL parsers disagree on odd spellings (`https:///host`, tabs, backslashes, upper case);
    // only the normal form means the same to every client.
    scheme_problem.or_else(|| {
        (url.as_str() != raw)
            .then(|| format!("is not in normal form; write it as {}", show(url.as_str())))
    })
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(domain) => *domain == "localhost",
        url::Host::Ipv4(ip) => *ip == std::net::Ipv4Addr::LOCALHOST,
        url::Host::Ipv6(ip) => *ip == std::net::Ipv6Addr::LOCALHOST,
    }
}
