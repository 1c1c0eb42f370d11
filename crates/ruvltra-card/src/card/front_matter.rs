//! The YAML front matter of the Hub card and of the ModelScope card.

use std::fmt::Write as _;

use ruvltra_registry::Registry;

use super::view::View;
use crate::CardFacts;
use crate::text::yaml_scalar;

/// The YAML front matter (between `---` lines, newline-terminated) of the registry's card,
/// from the registry alone (as `model_card` with `CardFacts::default()`).
pub fn front_matter(reg: &Registry) -> String {
    front_matter_of(&View::new(reg, &CardFacts::default()))
}

pub(super) fn front_matter_of(view: &View<'_>) -> String {
    let mut out = String::from("---\n");
    if let Some(license) = view.license() {
        let extra = |key: &str| view.reg.catalog.extra.get(key).and_then(|v| v.as_str());
        // Only an id on the Hub's list goes in `license`: the Hub refuses any other.
        if ruvltra_vocab::is_hub_license(&license) && license != "other" {
            let _ = writeln!(out, "license: {}", yaml_scalar(&license));
        } else {
            // The Hub wants `license_name` (a slug) and `license_link` with `other`; the
            // catalog may give both as extra keys. An id the Hub does not know becomes the name.
            out.push_str("license: other\n");
            let name = match extra("license_name") {
                Some(name) => slug(name),
                None if license != "other" => slug(&license),
                None => slug(&view.title()),
            };
            let _ = writeln!(out, "license_name: {}", yaml_scalar(&name));
            if let Some(link) = extra("license_link") {
                let _ = writeln!(out, "license_link: {}", yaml_scalar(link));
            }
        }
    }
    list(&mut out, "language", &view.languages());
    out.push_str("library_name: gguf\npipeline_tag: text-generation\n");
    let bases = view.base_models();
    match bases.as_slice() {
        [] => {}
        [one] => {
            let _ = writeln!(out, "base_model: {}", yaml_scalar(one));
        }
        many => list(&mut out, "base_model", many),
    }
    if !bases.is_empty() {
        out.push_str("base_model_relation: quantized\n");
    }
    list(&mut out, "tags", &view.tags());
    out.push_str("---\n");
    out
}

pub(super) fn list(out: &mut String, key: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "{key}:");
    for item in items {
        let _ = writeln!(out, "- {}", yaml_scalar(item));
    }
}

/// `license_name` must be a lowercase slug.
pub(super) fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// The ModelScope front matter: `license`, `language`, `tasks`, `frameworks`,
/// `base_model`, `tags` (GGUF-AND-ECOSYSTEM.md section 5).
pub fn modelscope_front_matter(reg: &Registry) -> String {
    modelscope_front_matter_of(&View::new(reg, &CardFacts::default()))
}

pub(super) fn modelscope_front_matter_of(view: &View<'_>) -> String {
    let mut out = String::from("---\n");
    if let Some(license) = view.license() {
        let _ = writeln!(out, "license: {}", yaml_scalar(&license));
    }
    list(&mut out, "language", &view.languages());
    out.push_str("tasks:\n- text-generation\nframeworks:\n- gguf\n");
    list(&mut out, "base_model", &view.base_models());
    list(&mut out, "tags", &view.tags());
    out.push_str("---\n");
    out
}
