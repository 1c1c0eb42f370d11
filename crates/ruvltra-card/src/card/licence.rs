//! The licence section: what the catalog and each model are licensed under.

use std::fmt::Write as _;

use ruvltra_registry::Model;

use super::view::View;
use crate::text::license_name;

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
            m.license
                .as_ref()
                .is_some_and(|l| Some(l) != view.reg.catalog.license.as_ref())
        })
        .collect();
    if view.reg.catalog.license.is_some() {
        for model in differing {
            let _ = writeln!(
                out,
                "\n`{}` is under its own licence, `{}`.",
                model.id,
                model.license.as_deref().unwrap_or_default()
            );
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
