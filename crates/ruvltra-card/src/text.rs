//! Small formatting rules shared by the card and the Modelfile: YAML scalars, human sizes,
//! licence names and Markdown table cells. Constant names come from the shared vocabulary
//! ([`ruvltra_vocab::ident::const_name`]), the rule the code generator uses.

pub use ruvltra_vocab::ident::const_name;

/// A YAML scalar for `value`: plain when that is unambiguous, else a double-quoted string
/// (written as a JSON string, which is a valid YAML double-quoted scalar).
pub(crate) fn yaml_scalar(value: &str) -> String {
    if is_plain_safe(value) {
        value.to_owned()
    } else {
        serde_json::Value::String(value.to_owned()).to_string()
    }
}

/// True when `value` reads back as the same string when written plain: it starts with a
/// letter or digit, holds only letters, digits and `._/-`, is not a YAML 1.1/1.2 keyword
/// (`yes`, `null`, ...) and does not look like a number, date or time.
fn is_plain_safe(value: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "y", "n", "yes", "no", "true", "false", "on", "off", "null", "nan", "inf",
    ];
    let starts_ok = value.starts_with(|c: char| c.is_ascii_alphanumeric());
    let chars_ok = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'));
    let keyword = KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(value));
    // Anything made only of digits and number punctuation may be read as a number or a
    // date (`1.0`, `2026-01-20`, `1_000`, `0x1f` excluded by requiring a letter other than
    // the exponent or hex markers); quote it.
    let has_letter = value.chars().any(|c| {
        c.is_ascii_alphabetic() && !matches!(c.to_ascii_lowercase(), 'e' | 'x' | 'o' | 'b')
    });
    let numberish = !has_letter;
    starts_ok && chars_ok && !keyword && !numberish
}

/// A byte count in decimal units, as the Hub shows them (`397.8 MB`, `1.2 GB`).
pub(crate) fn human_bytes(bytes: u64) -> String {
    const UNITS: &[&str] = &["kB", "MB", "GB", "TB", "PB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = u;
    }
    format!("{value:.1} {unit}")
}

/// A memory figure given in MiB: `512 MiB`, `1 GiB`, `1.5 GiB`.
pub(crate) fn human_mib(mib: u64) -> String {
    if mib < 1024 {
        return format!("{mib} MiB");
    }
    let gib = mib as f64 / 1024.0;
    if mib.is_multiple_of(1024) {
        format!("{} GiB", mib / 1024)
    } else {
        format!("{gib:.1} GiB")
    }
}

/// A benchmark figure without float noise: integers without a fraction, others as Rust's
/// shortest round-trip form.
pub(crate) fn number(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// The human name and link of a Hub licence id, when it is a well-known one.
pub(crate) fn license_name(id: &str) -> Option<(&'static str, &'static str)> {
    Some(match id.to_ascii_lowercase().as_str() {
        "apache-2.0" => (
            "Apache License 2.0",
            "https://www.apache.org/licenses/LICENSE-2.0",
        ),
        "mit" => ("MIT License", "https://opensource.org/license/mit"),
        "bsd-3-clause" => (
            "BSD 3-Clause License",
            "https://opensource.org/license/bsd-3-clause",
        ),
        "cc-by-4.0" => (
            "Creative Commons Attribution 4.0",
            "https://creativecommons.org/licenses/by/4.0/",
        ),
        "gpl-3.0" => (
            "GNU General Public License v3.0",
            "https://www.gnu.org/licenses/gpl-3.0.html",
        ),
        "llama3.1" => (
            "Llama 3.1 Community License",
            "https://www.llama.com/llama3_1/license/",
        ),
        _ => return None,
    })
}

/// True when `id` has the shape of a Hub licence id (`apache-2.0`, `cc-by-4.0`).
pub(crate) fn is_license_id(id: &str) -> bool {
    !id.is_empty()
        && id.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-'))
}

/// Text safe inside a Markdown table cell: `|` escaped, line breaks folded to spaces.
pub(crate) fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// The first 12 hex digits of a sha256, enough to tell files apart at a glance.
pub(crate) fn short_sha(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn const_names() {
        assert_eq!(
            const_name("ruvltra-claude-code-0.5b-q4_k_m"),
            "RUVLTRA_CLAUDE_CODE_0_5B_Q4_K_M"
        );
        assert_eq!(const_name("7b--chat"), "M_7B_CHAT");
    }

    #[test]
    fn yaml_scalars() {
        assert_eq!(yaml_scalar("apache-2.0"), "apache-2.0");
        assert_eq!(
            yaml_scalar("Qwen/Qwen2.5-0.5B-Instruct"),
            "Qwen/Qwen2.5-0.5B-Instruct"
        );
        assert_eq!(yaml_scalar("no"), "\"no\"");
        assert_eq!(yaml_scalar("1.0"), "\"1.0\"");
        assert_eq!(yaml_scalar("2026-01-20"), "\"2026-01-20\"");
        assert_eq!(yaml_scalar("1e5"), "\"1e5\"");
        assert_eq!(yaml_scalar("a: b"), "\"a: b\"");
        assert_eq!(yaml_scalar("#x"), "\"#x\"");
        assert_eq!(yaml_scalar(""), "\"\"");
    }

    #[test]
    fn sizes() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(397_808_000), "397.8 MB");
        assert_eq!(human_bytes(6_170_000_000), "6.2 GB");
        assert_eq!(human_mib(512), "512 MiB");
        assert_eq!(human_mib(2048), "2 GiB");
        assert_eq!(human_mib(1536), "1.5 GiB");
        assert_eq!(number(42.0), "42");
        assert_eq!(number(61.25), "61.25");
    }
}
