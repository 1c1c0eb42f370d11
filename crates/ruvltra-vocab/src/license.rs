//! The licence ids the Hub accepts in a card's `license`, so that the registry's validation and
//! the model card refuse or rewrite an id before the Hub does.
//!
//! The local server (`hub-server`) keeps its own copy of this list (it shares no code with the
//! clients); `tests/hub_licenses.rs` checks that the two lists are equal.

/// The licence ids the Hub accepts in `license` (hub-docs `repositories-licenses.md`, with the
/// ids added to it since: the Llama 3 family), in the order of that page. Any other licence is
/// written as `license: other` with `license_name` and `license_link`.
#[rustfmt::skip]
pub const HUB_LICENSES: &[&str] = &[
    "apache-2.0", "mit", "openrail", "bigscience-openrail-m", "creativeml-openrail-m",
    "bigscience-bloom-rail-1.0", "bigcode-openrail-m", "afl-3.0", "artistic-2.0", "bsl-1.0",
    "bsd", "bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear", "c-uda", "cc", "cc0-1.0",
    "cc-by-2.0", "cc-by-2.5", "cc-by-3.0", "cc-by-4.0", "cc-by-sa-3.0", "cc-by-sa-4.0",
    "cc-by-nc-2.0", "cc-by-nc-3.0", "cc-by-nc-4.0", "cc-by-nd-4.0", "cc-by-nc-nd-3.0",
    "cc-by-nc-nd-4.0", "cc-by-nc-sa-2.0", "cc-by-nc-sa-3.0", "cc-by-nc-sa-4.0",
    "cdla-sharing-1.0", "cdla-permissive-1.0", "cdla-permissive-2.0", "wtfpl", "ecl-2.0",
    "epl-1.0", "epl-2.0", "etalab-2.0", "eupl-1.1", "eupl-1.2", "agpl-3.0", "gfdl", "gpl",
    "gpl-2.0", "gpl-3.0", "lgpl", "lgpl-2.1", "lgpl-3.0", "isc", "lppl-1.3c", "ms-pl",
    "mpl-2.0", "odc-by", "odbl", "openrail++", "osl-3.0", "postgresql", "ofl-1.1", "ncsa",
    "unlicense", "zlib", "pddl", "lgpl-lr", "deepfloyd-if-license", "llama2", "llama3",
    "llama3.1", "llama3.2", "llama3.3", "gemma", "unknown", "other",
];

/// True when the Hub accepts `id` as a card's `license` (exact spelling: the ids are
/// lowercase).
pub fn is_hub_license(id: &str) -> bool {
    HUB_LICENSES.contains(&id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hub_list_holds_its_common_ids_and_nothing_else() {
        for id in ["apache-2.0", "mit", "llama3.1", "openrail++", "other"] {
            assert!(is_hub_license(id), "{id}");
        }
        for id in ["Apache-2.0", "my-licence-1.0", "", "apache"] {
            assert!(!is_hub_license(id), "{id}");
        }
    }
}
