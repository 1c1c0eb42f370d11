//! The ADR-013 naming convention of GGUF files: `ruvltra-[variant-]{size}-{quant}.gguf`,
//! with an optional llama.cpp split suffix `-NNNNN-of-MMMMM` before `.gguf`.

use crate::Quant;

/// The parts of a file name that follows the convention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedName {
    /// The variant between `ruvltra-` and the size (`claude-code`), if any.
    pub variant: Option<String>,
    /// The parameter label (`0.5b`, `1.1b`, `494m`).
    pub size: String,
    /// The quantisation, from its lowercase label.
    pub quant: Quant,
    /// For one shard of a split GGUF: its 1-based number and the shard count.
    pub split: Option<(u32, u32)>,
}

impl ParsedName {
    /// The file stem without the split suffix (`ruvltra-small-0.5b-q4_k_m`): a GGUF model's id.
    pub fn stem(&self) -> String {
        match &self.variant {
            Some(variant) => format!("ruvltra-{variant}-{}-{}", self.size, self.quant),
            None => format!("ruvltra-{}-{}", self.size, self.quant),
        }
    }

    /// The file name of shard `no` of the same split model (`None` when not split).
    pub fn shard_file_name(&self, no: u32) -> Option<String> {
        let (_, count) = self.split?;
        Some(format!("{}-{no:05}-of-{count:05}.gguf", self.stem()))
    }
}

/// Parses a GGUF file name; `None` when it does not follow the convention.
///
/// `name` may be a path in the repository: only its last segment is parsed. The quant is the
/// last hyphen-separated part (labels use underscores), the size the part before it, and
/// whatever lies between `ruvltra-` and the size is the variant.
pub fn parse_file_name(name: &str) -> Option<ParsedName> {
    let name = name.rsplit('/').next().unwrap_or(name);
    let stem = name.strip_suffix(".gguf")?.strip_prefix("ruvltra-")?;
    let (stem, split) = split_suffix(stem);
    let (rest, quant_label) = stem.rsplit_once('-')?;
    let quant = Quant::from_label(quant_label).filter(|q| q.label() == quant_label)?;
    let (variant, size) = match rest.rsplit_once('-') {
        Some((variant, size)) => (Some(variant), size),
        None => (None, rest),
    };
    if !is_size_label(size) || !variant.is_none_or(is_variant) {
        return None;
    }
    Some(ParsedName {
        variant: variant.map(str::to_owned),
        size: size.to_owned(),
        quant,
        split,
    })
}

/// Strips a valid `-NNNNN-of-MMMMM` suffix (five digits each, as llama.cpp's gguf-split
/// writes them) and returns the shard number and count.
fn split_suffix(stem: &str) -> (&str, Option<(u32, u32)>) {
    const SUFFIX_LEN: usize = "-00001-of-00002".len();
    let Some(at) = stem.len().checked_sub(SUFFIX_LEN) else {
        return (stem, None);
    };
    let Some(suffix) = stem.get(at..).filter(|s| s.is_ascii()) else {
        return (stem, None);
    };
    let bytes = suffix.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = &suffix[range];
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if bytes[0] != b'-' || &suffix[6..10] != "-of-" {
        return (stem, None);
    }
    match (digits(1..6), digits(10..15)) {
        (Some(no), Some(count)) if no >= 1 && no <= count => (&stem[..at], Some((no, count))),
        _ => (stem, None),
    }
}

/// `\d+(\.\d+)?[bm]`: a parameter label such as `0.5b`, `3b` or `494m`.
pub fn is_size_label(size: &str) -> bool {
    let Some(number) = size.strip_suffix(['b', 'm']) else {
        return false;
    };
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (number, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && fraction.is_none_or(all_digits)
}

/// A variant label: lowercase letters, digits and single inner hyphens (`claude-code`).
pub fn is_variant(variant: &str) -> bool {
    !variant.is_empty()
        && !variant.starts_with('-')
        && !variant.ends_with('-')
        && !variant.contains("--")
        && variant
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Variant, size, quant label and split of a name, or `None` when it is rejected.
    type Expected<'a> = Option<(Option<&'a str>, &'a str, &'a str, Option<(u32, u32)>)>;

    #[track_caller]
    fn check(name: &str, expect: Expected<'_>) {
        let actual = parse_file_name(name);
        let actual = actual.as_ref().map(|p| {
            (
                p.variant.as_deref(),
                p.size.as_str(),
                p.quant.label(),
                p.split,
            )
        });
        assert_eq!(actual, expect, "{name}");
    }

    #[test]
    fn published_names_parse() {
        check(
            "ruvltra-claude-code-0.5b-q4_k_m.gguf",
            Some((Some("claude-code"), "0.5b", "q4_k_m", None)),
        );
        check(
            "ruvltra-small-0.5b-q4_k_m.gguf",
            Some((Some("small"), "0.5b", "q4_k_m", None)),
        );
        check(
            "ruvltra-medium-1.1b-q4_k_m.gguf",
            Some((Some("medium"), "1.1b", "q4_k_m", None)),
        );
    }

    #[test]
    fn adr_examples_parse() {
        check(
            "ruvltra-0.5b-q4_k_m.gguf",
            Some((None, "0.5b", "q4_k_m", None)),
        );
        check("ruvltra-3b-q8_0.gguf", Some((None, "3b", "q8_0", None)));
        check("ruvltra-494m-bf16.gguf", Some((None, "494m", "bf16", None)));
    }

    #[test]
    fn split_suffix_is_recognised() {
        check(
            "ruvltra-large-3b-f16-00002-of-00003.gguf",
            Some((Some("large"), "3b", "f16", Some((2, 3)))),
        );
        check(
            "models/ruvltra-3b-q8_0-00001-of-00001.gguf",
            Some((None, "3b", "q8_0", Some((1, 1)))),
        );
        // Shard 4 of 3 is no split suffix, so `00003` would be the quant: rejected.
        check("ruvltra-3b-f16-00004-of-00003.gguf", None);
        check("ruvltra-3b-f16-00000-of-00003.gguf", None);
        let parsed = parse_file_name("ruvltra-x-3b-f16-00001-of-00003.gguf").unwrap();
        assert_eq!(parsed.stem(), "ruvltra-x-3b-f16");
        assert_eq!(
            parsed.shard_file_name(3).as_deref(),
            Some("ruvltra-x-3b-f16-00003-of-00003.gguf")
        );
    }

    #[test]
    fn names_off_the_convention_are_rejected() {
        for name in [
            "ruvltra-0.5b-q4_k_m.GGUF",
            "RuvLTRA-0.5b-q4_k_m.gguf",
            "ruvltra-0.5b-Q4_K_M.gguf",
            "ruvltra-0.5B-q4_k_m.gguf",
            "ruvltra-q4_k_m.gguf",
            "ruvltra-0.5b.gguf",
            "ruvltra-0.5b-q4_k_x.gguf",
            "ruvltra-small-.5b-q4_k_m.gguf",
            "ruvltra-small-0.b-q4_k_m.gguf",
            "ruvltra--0.5b-q4_k_m.gguf",
            "ruvltra-claude--code-0.5b-q4_k_m.gguf",
            "ruvltra-Small-0.5b-q4_k_m.gguf",
            "ruvltra-small_v2-0.5b-q4_k_m.gguf",
            "qwen2-0.5b-q4_k_m.gguf",
            "ruvltra-small-0.5b-q4_k_m.safetensors",
            "ruvltra-small-0.5b-q4_k_m-1-of-2.gguf",
            "",
        ] {
            check(name, None);
        }
    }
}
