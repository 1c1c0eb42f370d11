//! The licence section: what the catalog and each model are licensed under.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ruvltra_registry::Model;

use super::view::View;
use crate::text::license_name;

/// The `license_name` among a catalog's or a model's extra keys.
fn license_name_in(extra: &BTreeMap<String, serde_json::Value>) -> Option<&str> {
    extra.get("license_name").and_then(|v| v.as_str())
}

pub(super) fn licence(out: &mut String, view: &View<'_>) {
    out.push_str("\n## Licence\n\n");
    match view.license() {
        Some(id) => match license_name(&id) {
            Some((name, link)) => {
                let _ = writeln!(out, "Released under the [{name}]({link}) (`{id}`).");
            }
            None => {
                let extra = |key: &str| view.reg.catalog.extra.get(key).and_then(|v| v.as_str());
                let name = extra("license_name").unwrap_or(&id);
                match extra("license_link") {
                    Some(link) => {
                        let _ = writeln!(out, "Released under the licence [`{name}`]({link}).");
                    }
                    None => {
                        let _ = writeln!(out, "Released under the licence `{name}`.");
                    }
                }
            }
        },
        None => out.push_str("No licence is declared in the registry yet.\n"),
    }
    let differing: Vec<&Model> = view
        .available
        .iter()
        .copied()
        .filter(|m| {
            // Two `other` licences differ by their `license_name`.
            m.license.as_ref().is_some_and(|l| {
                Some(l) != view.reg.catalog.license.as_ref()
                    || (l == "other"
                        && license_name_in(&m.extra) != license_name_in(&view.reg.catalog.extra))
            })
        })
        .collect();
    if view.reg.catalog.license.is_some() {
        for model in differing {
            // A model under `other` names its licence with its own `license_name` and
            // `license_link`, as the catalog does.
            let extra = |key: &str| model.extra.get(key).and_then(|v| v.as_str());
            let license = model.license.as_deref().unwrap_or_default();
            let name = match extra("license_name") {
                Some(name) if license == "other" => name,
                _ => license,
            };
            match extra("license_link").filter(|_| license == "other") {
                Some(link) => {
                    let _ = writeln!(
                        out,
                        "\n`{}` is under its own licence, [`{name}`]({link}).",
                        model.id
                    );
                }
                None => {
                    let _ = writeln!(out, "\n`{}` is under its own licence, `{name}`.", model.id);
                }
            }
        }
    }
    let bases = view.base_models();
    if !bases.is_empty() {
        let _ = writeln!(
            out,
            "\nDerived from {}; {} and terms apply as well.",
            bases
                .iter()
                .map(|b| format!("[{b}](https://huggingface.co/{b})"))
                .collect::<Vec<_>>()
                .join(", "),
            if bases.len() == 1 {
                "its licence"
            } else {
                "their licences"
            }
        );
    }
}
