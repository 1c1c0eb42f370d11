//! Parsing of `Link` headers: pagination (`<url>; rel="next"`) and the Xet token route
//! (`<url>; rel="xet-auth"`).

use reqwest::header::HeaderMap;

/// The target of the `rel="next"` link among all `Link` headers, if any.
///
/// Accepts several links per header separated by commas, several headers, quoted or bare
/// `rel` values and several space-separated relation types.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    link_with_rel(headers, "next")
}

/// The target of the first link whose relation types include `rel`, among all `Link` headers.
pub(crate) fn link_with_rel(headers: &HeaderMap, rel: &str) -> Option<String> {
    headers
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(split_links)
        .find_map(|(target, params)| has_rel(&params, rel).then_some(target))
}

/// Splits one `Link` header value into `(target, parameters)` pairs.
fn split_links(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let Some(close_rel) = rest[open..].find('>') else {
            break;
        };
        let close = open + close_rel;
        let target = rest[open + 1..close].trim().to_owned();
        let after = &rest[close + 1..];
        // The parameters run until the next `<` that starts another link.
        let end = after
            .find(",")
            .and_then(|c| after[c..].find('<').map(|l| c + l))
            .unwrap_or(after.len());
        out.push((target, after[..end].to_owned()));
        rest = &after[end..];
    }
    out
}

fn has_rel(params: &str, rel: &str) -> bool {
    params.split(';').any(|p| {
        let Some((key, value)) = p.split_once('=') else {
            return false;
        };
        key.trim().eq_ignore_ascii_case("rel")
            && value
                .trim()
                .trim_matches(',')
                .trim()
                .trim_matches('"')
                .split_whitespace()
                .any(|r| r.eq_ignore_ascii_case(rel))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn check(values: &[&'static str], expect: Option<&str>) {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("link", HeaderValue::from_static(v));
        }
        assert_eq!(next_link(&h).as_deref(), expect, "{values:?}");
    }

    #[test]
    fn link_headers() {
        check(
            &[r#"<https://hub.test/api/x?cursor=abc&limit=2>; rel="next""#],
            Some("https://hub.test/api/x?cursor=abc&limit=2"),
        );
        check(
            &[r#"<https://a/prev>; rel="prev", <https://a/next>; rel="next""#],
            Some("https://a/next"),
        );
        check(
            &[
                r#"<https://a/first>; rel=first"#,
                r#"<https://a/n>; rel=next"#,
            ],
            Some("https://a/n"),
        );
        check(
            &[r#"<https://a/n?x=1,2>; title="a, b"; rel="last next""#],
            Some("https://a/n?x=1,2"),
        );
        check(&[r#"<https://a/p>; rel="prev""#], None);
        check(&[], None);
        check(&["garbage without brackets"], None);
        check(&["<unterminated; rel=next"], None);
    }

    #[test]
    fn xet_auth_links() {
        let mut h = HeaderMap::new();
        h.append(
            "link",
            HeaderValue::from_static(
                r#"<https://hub.test/api/models/a/b/xet-read-token/c0ffee>; rel="xet-auth", <https://a/n>; rel=next"#,
            ),
        );
        assert_eq!(
            link_with_rel(&h, "xet-auth").as_deref(),
            Some("https://hub.test/api/models/a/b/xet-read-token/c0ffee")
        );
        assert_eq!(next_link(&h).as_deref(), Some("https://a/n"));
        assert_eq!(link_with_rel(&h, "xet"), None);
    }
}
