//! Where the Hub token is found: `HF_TOKEN` and its aliases, then the token file.
//!
//! The [`Token`] type itself (redacted everywhere) belongs to `http-transport`.

use std::path::PathBuf;

use http_transport::Token;

/// Where a token was found by [`token_from_env_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// An environment variable, by name.
    EnvVar(&'static str),
    /// A token file, by path.
    File(PathBuf),
}

/// The environment variables read for a token, in order of precedence.
pub const TOKEN_ENV_VARS: [&str; 3] = ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HUGGINGFACE_API_KEY"];

/// Reads the token from the process environment, see [`token_from_env_with`].
pub fn token_from_env() -> Option<Token> {
    token_from_env_with(|name| std::env::var(name).ok()).map(|(token, _)| token)
}

/// Reads the token through `var`, a lookup of environment variables (injectable for tests).
///
/// The order is `HF_TOKEN`, `HUGGING_FACE_HUB_TOKEN`, `HUGGINGFACE_API_KEY`, then the
/// token file: `HF_TOKEN_PATH`, else `$HF_HOME/token`, else `~/.cache/huggingface/token`
/// (home from `HOME`, else `USERPROFILE`). Values are trimmed; empty values are skipped.
/// An unreadable token file counts as no token.
pub fn token_from_env_with(var: impl Fn(&str) -> Option<String>) -> Option<(Token, TokenSource)> {
    for name in TOKEN_ENV_VARS {
        if let Some(token) = var(name).and_then(Token::new) {
            return Some((token, TokenSource::EnvVar(name)));
        }
    }
    let path = token_file_path(&var)?;
    let contents = std::fs::read_to_string(&path).ok()?;
    Token::new(contents).map(|token| (token, TokenSource::File(path)))
}

/// The token file path: `HF_TOKEN_PATH`, else `$HF_HOME/token`, else `~/.cache/huggingface/token`.
pub fn token_file_path(var: &impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let non_empty = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    if let Some(path) = non_empty("HF_TOKEN_PATH") {
        return Some(PathBuf::from(path));
    }
    if let Some(home) = non_empty("HF_HOME") {
        return Some(PathBuf::from(home).join("token"));
    }
    let home = non_empty("HOME").or_else(|| non_empty("USERPROFILE"))?;
    Some(
        PathBuf::from(home)
            .join(".cache")
            .join("huggingface")
            .join("token"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn env_vars_are_read_in_order() {
        let all = env(&[
            ("HF_TOKEN", "a_token"),
            ("HUGGING_FACE_HUB_TOKEN", "b_token"),
            ("HUGGINGFACE_API_KEY", "c_token"),
        ]);
        let (t, src) = token_from_env_with(all).unwrap();
        assert_eq!(
            (t.expose_secret(), src),
            ("a_token", TokenSource::EnvVar("HF_TOKEN"))
        );

        let two = env(&[
            ("HUGGING_FACE_HUB_TOKEN", " b_token\n"),
            ("HUGGINGFACE_API_KEY", "c_token"),
        ]);
        let (t, src) = token_from_env_with(two).unwrap();
        assert_eq!(
            (t.expose_secret(), src),
            ("b_token", TokenSource::EnvVar("HUGGING_FACE_HUB_TOKEN"))
        );

        let empty_first = env(&[("HF_TOKEN", "  "), ("HUGGINGFACE_API_KEY", "c_token")]);
        let (t, src) = token_from_env_with(empty_first).unwrap();
        assert_eq!(
            (t.expose_secret(), src),
            ("c_token", TokenSource::EnvVar("HUGGINGFACE_API_KEY"))
        );
    }

    #[test]
    fn token_files_are_read_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let explicit = dir.path().join("explicit");
        std::fs::write(&explicit, "hf_explicit\n").unwrap();
        let hf_home = dir.path().join("hfhome");
        std::fs::create_dir_all(&hf_home).unwrap();
        std::fs::write(hf_home.join("token"), "  hf_home_token \n").unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".cache/huggingface")).unwrap();
        std::fs::write(home.join(".cache/huggingface/token"), "hf_home_cache").unwrap();
        let (e, h, c) = (
            explicit.to_str().unwrap(),
            hf_home.to_str().unwrap(),
            home.to_str().unwrap(),
        );

        let (t, src) =
            token_from_env_with(env(&[("HF_TOKEN_PATH", e), ("HF_HOME", h), ("HOME", c)])).unwrap();
        assert_eq!(t.expose_secret(), "hf_explicit");
        assert_eq!(src, TokenSource::File(explicit.clone()));

        let (t, _) = token_from_env_with(env(&[("HF_HOME", h), ("HOME", c)])).unwrap();
        assert_eq!(t.expose_secret(), "hf_home_token");

        let (t, _) = token_from_env_with(env(&[("HOME", c)])).unwrap();
        assert_eq!(t.expose_secret(), "hf_home_cache");

        // An env var wins over every file.
        let (t, _) =
            token_from_env_with(env(&[("HUGGINGFACE_API_KEY", "hf_var"), ("HOME", c)])).unwrap();
        assert_eq!(t.expose_secret(), "hf_var");

        // A missing file is no token, not an error.
        let missing = dir.path().join("nope");
        assert!(
            token_from_env_with(env(&[("HF_TOKEN_PATH", missing.to_str().unwrap())])).is_none()
        );
        assert!(token_from_env_with(env(&[])).is_none());
    }
}
