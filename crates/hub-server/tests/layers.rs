//! Keeps the server's layout as ARCHITECTURE.md describes it: dependencies between its modules
//! run one way (routing, then the Hub and ModelScope APIs, then the transfers, then the request
//! context and errors, then the store), every source file opens with a `//!` line, and none
//! grows much past 600 lines.

use std::path::{Path, PathBuf};

/// The layers, top first; a module may use only modules of lower layers (and itself). The Hub
/// API and the ModelScope API share a layer, so neither may use the other.
const LAYERS: &[&[&str]] = &[
    &["server"],
    &["routing"],
    &["hub", "modelscope"],
    &["transfer"],
    &["context"],
    &["error"],
    &["store"],
    &["config", "fault"],
];

/// The longest a source file may grow before it should be split.
const MAX_LINES: usize = 650;

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// Every `.rs` file below `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The top-level modules a source text names through `crate::`, test modules left out.
fn crate_uses(text: &str) -> Vec<String> {
    let text = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut out = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::c, d::{e, f}}`: the first name of each top-level item.
            let mut depth = 0;
            let mut item_start = true;
            let mut name = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        if !name.is_empty() {
                            out.push(std::mem::take(&mut name));
                        }
                        item_start = true;
                    }
                    c if item_start && (c.is_alphanumeric() || c == '_') => name.push(c),
                    _ if item_start && !name.is_empty() => {
                        out.push(std::mem::take(&mut name));
                        item_start = false;
                    }
                    _ => {}
                }
            }
            if !name.is_empty() {
                out.push(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push(name);
        }
    }
    out
}

#[test]
fn modules_depend_one_way_and_files_stay_small_and_documented() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut problems = Vec::new();
    for path in sources(&src) {
        let rel = path.strip_prefix(&src).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        if !text.starts_with("//! ") {
            problems.push(format!(
                "{}: does not open with a `//!` line",
                rel.display()
            ));
        }
        let lines = text.lines().count();
        if lines > MAX_LINES {
            problems.push(format!(
                "{}: {lines} lines, more than {MAX_LINES}: split it by concern",
                rel.display()
            ));
        }
        let module = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if module == "lib" {
            continue;
        }
        let Some(own) = layer_of(&module) else {
            problems.push(format!(
                "{}: module {module} is in no layer; add it to LAYERS and ARCHITECTURE.md",
                rel.display()
            ));
            continue;
        };
        for used in crate_uses(&text) {
            if used == module || used.chars().next().is_some_and(char::is_uppercase) {
                // Itself, or an item of the crate root (`crate::HubServer`).
                continue;
            }
            match layer_of(&used) {
                Some(layer) if layer > own => {}
                _ => problems.push(format!(
                    "{}: {module} uses crate::{used}, which is not below it",
                    rel.display()
                )),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_sees_grouped_and_plain_uses() {
    let text = "use crate::{hub, modelscope::x, transfer::{a, b}};\nuse crate::error::ApiError;\n\
                fn f() { crate::store::random_hex(1); }\n#[cfg(test)]\nuse crate::server;";
    assert_eq!(
        crate_uses(text),
        ["hub", "modelscope", "transfer", "error", "store"]
    );
    assert_eq!(layer_of("hub"), layer_of("modelscope"));
    assert!(layer_of("transfer") > layer_of("hub"));
}
