//! The keys each struct of the format knows, and the hint for an unknown key that looks like
//! a misspelt known one.

use std::collections::BTreeMap;

use serde_json::Value;

use super::pointer::Pointer;
use super::{Checker, show};

impl Checker<'_> {
    /// Unknown keys are kept, but one that looks like a misspelt known key is most likely a
    /// mistake that would silently lose its value (`sha265`, `Bytes`, `base-model`).
    pub(super) fn unknown_keys(
        &mut self,
        at: Pointer<'_>,
        extra: &BTreeMap<String, Value>,
        known: &[&str],
    ) {
        for key in extra.keys() {
            if key.starts_with("x_") || key.starts_with('$') {
                continue;
            }
            if let Some(similar) = known.iter().find(|known| looks_like(key, known)) {
                self.report(
                    at.key(key),
                    format!(
                        "unknown key {} looks like a misspelling of `{similar}`; fix it, or start \
                         custom keys with `x_`",
                        show(key)
                    ),
                );
            }
        }
    }
}

/// The keys each struct of the format knows; a test keeps them in step with the types.
pub(super) const REGISTRY_KEYS: &[&str] =
    &["schema_version", "repo", "revision", "catalog", "models"];
pub(super) const CATALOG_KEYS: &[&str] = &[
    "title",
    "description",
    "license",
    "languages",
    "tags",
    "modelscope_repo",
];
pub(super) const MODEL_KEYS: &[&str] = &[
    "id",
    "file",
    "quant",
    "size",
    "variant",
    "kind",
    "status",
    "name",
    "description",
    "architecture",
    "parameters",
    "context_length",
    "base_model",
    "base",
    "license",
    "languages",
    "hardware",
    "tags",
    "benchmarks",
    "fallback_urls",
    "repo",
    "revision",
    "bytes",
    "sha256",
    "extra_files",
    "modelscope_repo",
    "hub",
    "modelscope",
    "needs_review",
];
pub(super) const EXTRA_FILE_KEYS: &[&str] = &["file", "bytes", "sha256"];
pub(super) const HARDWARE_KEYS: &[&str] = &[
    "min_ram_mib",
    "recommended_ram_mib",
    "min_vram_mib",
    "accelerators",
];
pub(super) const BENCHMARK_KEYS: &[&str] = &["name", "value", "unit", "hardware"];
pub(super) const HUB_STATE_KEYS: &[&str] = &["commit", "synced_at", "tags"];

/// True when `key` is a known key spelt differently: other case or separators, or one edit
/// (a letter added, dropped, changed or two swapped) away; two edits for keys of eight or
/// more letters.
fn looks_like(key: &str, known: &str) -> bool {
    let normal = |s: &str| s.to_ascii_lowercase().replace(['-', ' '], "_");
    if normal(key) == known {
        return true;
    }
    let limit = if known.len() >= 8 { 2 } else { 1 };
    key.len().abs_diff(known.len()) <= limit && edit_distance(key, known) <= limit
}

/// The optimal-string-alignment distance over bytes (Levenshtein plus swaps of neighbours);
/// only called on keys of similar length to a short known key.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i * width + j] = if i == 0 || j == 0 {
                i + j
            } else {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut best = (d[(i - 1) * width + j] + 1)
                    .min(d[i * width + j - 1] + 1)
                    .min(d[(i - 1) * width + j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    best = best.min(d[(i - 2) * width + j - 2] + 1);
                }
                best
            };
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key lists used for misspelling hints match the properties of the JSON Schema,
    /// which is derived from the types.
    #[test]
    fn known_key_lists_match_the_types() {
        let schema = crate::json_schema();
        let keys = |definition: &Value| -> Vec<String> {
            let mut keys: Vec<String> = definition["properties"]
                .as_object()
                .unwrap()
                .keys()
                .filter(|key| *key != "$schema")
                .cloned()
                .collect();
            keys.sort();
            keys
        };
        let sorted = |list: &[&str]| {
            let mut list: Vec<String> = list.iter().map(|key| key.to_string()).collect();
            list.sort();
            list
        };
        assert_eq!(keys(&schema), sorted(REGISTRY_KEYS));
        for (name, list) in [
            ("CatalogInfo", CATALOG_KEYS),
            ("Model", MODEL_KEYS),
            ("ExtraFile", EXTRA_FILE_KEYS),
            ("Hardware", HARDWARE_KEYS),
            ("Benchmark", BENCHMARK_KEYS),
            ("HubState", HUB_STATE_KEYS),
        ] {
            assert_eq!(keys(&schema["$defs"][name]), sorted(list), "{name}");
        }
    }

    #[test]
    fn misspellings_are_recognised() {
        for (key, known) in [
            ("sha265", "sha256"),
            ("Bytes", "bytes"),
            ("base-model", "base_model"),
            ("contextlength", "context_length"),
            ("quantt", "quant"),
            ("titel", "title"),
            ("revison", "revision"),
            ("sha_256", "sha256"),
        ] {
            assert!(looks_like(key, known), "{key} ~ {known}");
        }
        for (key, known) in [
            ("notes", "bytes"),
            ("x", "id"),
            ("size_on_disk", "size"),
            ("min_ram", "min_ram_mib"),
        ] {
            assert!(!looks_like(key, known), "{key} !~ {known}");
        }
    }
}
