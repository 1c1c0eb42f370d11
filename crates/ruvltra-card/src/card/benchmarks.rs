//! The benchmarks section: the figures the registry records for each available model.

use std::fmt::Write as _;

use ruvltra_registry::Model;

use super::view::View;
use crate::text::{cell, number};

pub(super) fn benchmarks(out: &mut String, view: &View<'_>) {
    let rows: Vec<(&Model, &ruvltra_registry::Benchmark)> = view
        .available
        .iter()
        .flat_map(|m| m.benchmarks.iter().map(move |b| (*m, b)))
        .collect();
    if rows.is_empty() {
        return;
    }
    out.push_str(
        "\n## Benchmarks\n\n| Model | Benchmark | Result | Hardware |\n|---|---|---|---|\n",
    );
    for (model, b) in rows {
        let value = match &b.unit {
            Some(unit) if unit == "%" => format!("{}%", number(b.value)),
            Some(unit) => format!("{} {}", number(b.value), unit),
            None => number(b.value),
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            model.id,
            cell(&b.name),
            cell(&value),
            cell(b.hardware.as_deref().unwrap_or("–"))
        );
    }
}
