//! Redaction: how URLs, network failures and server messages become text that holds no secret.
//!
//! What the transport builds itself is redacted by construction: a URL is shown through
//! [`without_query`] or [`Endpoint::display_url`](crate::Endpoint::display_url) (never by
//! searching text for it), a network failure is described from the error's kind after
//! `reqwest::Error::without_url`, and credentials live only in header values marked sensitive.
//! Only free text from the server, which could echo anything, is scrubbed by
//! [`sanitize_message`].

use url::Url;

use crate::token::Token;

/// The longest server message kept in an error, in characters.
pub const MAX_MESSAGE_CHARS: usize = 300;

/// `scheme://host[:port]/path` without credentials, query string or fragment.
pub fn without_query(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    let _ = url.set_password(None);
    let _ = url.set_username("");
    url.to_string()
}

/// Redacts the query string of a URL given as text (for text that may not parse as a URL).
pub fn redact_any_url(text: &str) -> String {
    match text.find('?') {
        Some(i) => format!("{}?<redacted>", &text[..i]),
        None => text.to_owned(),
    }
}

/// Removes the query string of every `http://` or `https://` URL inside free text.
pub fn redact_url_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("http") {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        if from.starts_with("http://") || from.starts_with("https://") {
            let end = from
                .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '>')
                .unwrap_or(from.len());
            out.push_str(&redact_any_url(&from[..end]));
            rest = &from[end..];
        } else {
            out.push_str("http");
            rest = &from[4..];
        }
    }
    out.push_str(rest);
    out
}

/// Makes server text safe to show: the secret and URL query strings removed, control
/// characters collapsed to spaces, at most [`MAX_MESSAGE_CHARS`] characters.
pub fn sanitize_message(message: &str, secret: Option<&Token>) -> String {
    let scrubbed = match secret {
        Some(token) => token.scrub(message),
        None => message.to_owned(),
    };
    let redacted = redact_url_queries(&scrubbed);
    let clean: String = redacted
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    truncate_chars(clean.trim(), MAX_MESSAGE_CHARS)
}

/// Truncates to `max` characters, marking the cut with `…`.
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(max).collect();
        out.push('…');
        out
    }
}

/// True when a body looks like an HTML page (a proxy's or a captive portal's).
pub fn looks_like_html(text: &str) -> bool {
    let head: String = text
        .trim_start()
        .chars()
        .take(200)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype")
        || head.starts_with("<html")
        || head.contains("<body")
        || head.contains("<head")
}

/// Describes a failed send or body read from the error's kind and causes, with the URL
/// removed from the error itself first; returns that URL-less error as the source.
pub(crate) fn network_detail(
    error: reqwest::Error,
    secret: Option<&Token>,
) -> (String, reqwest::Error) {
    let error = error.without_url();
    let mut detail = if error.is_timeout() {
        "the request timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else if error.is_body() || error.is_decode() {
        "the connection failed while the body was transferred".to_owned()
    } else {
        "the connection failed or was dropped".to_owned()
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&error);
    let mut depth = 0;
    while let Some(s) = source {
        if depth < 3 {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
        }
        depth += 1;
        source = s.source();
    }
    (sanitize_message(&detail, secret), error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_queries_and_credentials() {
        let url = Url::parse("https://user:pw@s3.test/b/o?X-Amz-Signature=secret#frag").unwrap();
        assert_eq!(without_query(&url), "https://s3.test/b/o");
        assert_eq!(
            redact_any_url("https://a/b?sig=1"),
            "https://a/b?<redacted>"
        );
        assert_eq!(
            redact_url_queries("see httpx and http://a/b?c=d."),
            "see httpx and http://a/b?<redacted>"
        );
    }

    #[test]
    fn secrets_never_reach_messages() {
        let token = Token::new("hf_secret_value").unwrap();
        let text =
            "token hf_secret_value rejected, see https://s3.test/o?X-Amz-Signature=abc now\n";
        let message = sanitize_message(text, Some(&token));
        assert!(!message.contains("hf_secret_value"), "{message}");
        assert!(!message.contains("X-Amz-Signature"), "{message}");
        assert!(
            message.contains("https://s3.test/o?<redacted> now"),
            "{message}"
        );
        assert!(!message.contains('\n'));
        let long = "x".repeat(5000);
        let message = sanitize_message(&long, None);
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(message.ends_with('…'));
    }

    #[test]
    fn html_is_recognised() {
        assert!(looks_like_html("  <!DOCTYPE html><html>"));
        assert!(looks_like_html("<HTML><BODY>x"));
        assert!(!looks_like_html("{\"error\":\"<body>\"}"[..0].trim()));
        assert!(!looks_like_html("plain text"));
    }
}
