//! No module cycles inside any crate: at every level of a crate's module tree, the sibling
//! modules refer to one another (`use crate::…`, `crate::…::` paths, `super::…`) in one
//! direction only, so each crate reads as layers a newcomer can follow from the bottom up.
//!
//! References inside comments and after a file's `#[cfg(test)]` are not counted: doc links
//! and unit tests may look anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use test_support::workspace_root;

/// A module path inside one crate (`["hub", "commit"]` for `src/hub/commit.rs`).
type ModPath = Vec<String>;

/// The module path of a source file relative to its crate's `src/`, or `None` for the crate
/// root and binaries (they sit above every module and may use all of them).
fn module_path(src: &Path, file: &Path) -> Option<ModPath> {
    let rel = file.strip_prefix(src).ok()?;
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.first().is_some_and(|p| p == "bin") {
        return None;
    }
    let last = parts.pop()?;
    let stem = last.strip_suffix(".rs")?;
    if stem != "mod" {
        parts.push(stem.to_owned());
    }
    if parts.is_empty() || parts == ["lib"] || parts == ["main"] {
        return None;
    }
    Some(parts)
}

/// The code of a file that counts: comments dropped, and everything from the first
/// `#[cfg(test)]` on.
fn counted_code(text: &str) -> String {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    code.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads the path segments after a `crate::` or `super::` at the start of `rest`, expanding
/// `{a, b::c}` groups: every path it names, as segment lists.
fn paths_after(rest: &str) -> Vec<Vec<String>> {
    let rest = rest.trim_start();
    if let Some(group) = rest.strip_prefix('{') {
        let mut depth = 0usize;
        let mut items = Vec::new();
        let mut start = 0usize;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    items.push(&group[start..i]);
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&group[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        return items.into_iter().flat_map(paths_after).collect();
    }
    let mut segments = Vec::new();
    let mut text = rest;
    loop {
        let end = text
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(text.len());
        if end == 0 {
            break;
        }
        segments.push(text[..end].to_owned());
        match text[end..].strip_prefix("::") {
            Some(next) if next.trim_start().starts_with('{') => {
                return paths_after(next)
                    .into_iter()
                    .map(|tail| segments.iter().cloned().chain(tail).collect())
                    .collect();
            }
            Some(next) => text = next,
            None => break,
        }
    }
    vec![segments]
}

/// Every module path `code` (in the module `at`) refers to, resolved to absolute paths.
fn references(code: &str, at: &[String]) -> Vec<ModPath> {
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        out.extend(paths_after(&code[i + "crate::".len()..]));
    }
    for (i, _) in code.match_indices("super::") {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        // `super` of a module is its parent; a file's own path ends with its module name.
        let parent = &at[..at.len().saturating_sub(1)];
        for tail in paths_after(&code[i + "super::".len()..]) {
            out.push(parent.iter().cloned().chain(tail).collect());
        }
    }
    out
}

/// The edges between sibling modules of one crate: (parent, from, to), where `from` and `to`
/// are children of `parent` and something under `from` refers to something under `to`.
fn sibling_edges(src: &Path) -> BTreeSet<(ModPath, String, String)> {
    let mut modules = BTreeSet::new();
    let mut files = Vec::new();
    collect_rs(src, &mut files);
    for file in &files {
        if let Some(path) = module_path(src, file) {
            for len in 1..=path.len() {
                modules.insert(path[..len].to_vec());
            }
        }
    }
    let mut edges = BTreeSet::new();
    for file in &files {
        let Some(at) = module_path(src, file) else {
            continue;
        };
        let code = counted_code(&fs::read_to_string(file).expect("readable source"));
        for target in references(&code, &at) {
            // Keep the longest prefix of the reference that is a module of the crate.
            let Some(len) = (1..=target.len())
                .rev()
                .find(|&n| modules.contains(&target[..n]))
            else {
                continue;
            };
            let target = &target[..len];
            let common = at.iter().zip(target).take_while(|(a, b)| a == b).count();
            if common < at.len() && common < target.len() {
                edges.insert((
                    at[..common].to_vec(),
                    at[common].clone(),
                    target[common].clone(),
                ));
            }
        }
    }
    edges
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The cycles among siblings, each as "parent: a -> b -> … -> a".
fn cycles(crate_name: &str, src: &Path) -> Vec<String> {
    let mut graphs: BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (parent, from, to) in sibling_edges(src) {
        graphs
            .entry(parent)
            .or_default()
            .entry(from)
            .or_default()
            .insert(to);
    }
    let mut found = Vec::new();
    for (parent, graph) in &graphs {
        for start in graph.keys() {
            if let Some(cycle) = path_back(graph, start) {
                // Report each cycle once, from its smallest member.
                if cycle.iter().min() == Some(start) {
                    let scope = if parent.is_empty() {
                        crate_name.to_owned()
                    } else {
                        format!("{crate_name}::{}", parent.join("::"))
                    };
                    found.push(format!("{scope}: {}", cycle.join(" -> ")));
                }
            }
        }
    }
    found
}

/// A path of edges from `start` back to itself, if there is one (breadth first: shortest).
fn path_back(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for next in graph.get(node).into_iter().flatten() {
            if next == start {
                let mut path = vec![start.to_owned()];
                let mut at = node;
                while at != start {
                    path.insert(1, at.to_owned());
                    at = came_from[at];
                }
                path.push(start.to_owned());
                return Some(path);
            }
            if !came_from.contains_key(next.as_str()) {
                came_from.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    None
}

/// Every crate's `src/` folder: `crates/*` and `xtask`.
fn crate_sources(root: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(root.join("crates"))
        .expect("crates/ exists")
        .flatten()
    {
        let src = entry.path().join("src");
        if src.is_dir() {
            out.push((entry.file_name().to_string_lossy().into_owned(), src));
        }
    }
    out.push(("xtask".to_owned(), root.join("xtask/src")));
    out.sort();
    out
}

#[test]
fn no_crate_has_a_module_cycle() {
    let root = workspace_root();
    let sources = crate_sources(&root);
    assert!(sources.len() > 10, "found only {} crates", sources.len());
    let found: Vec<String> = sources
        .iter()
        .flat_map(|(name, src)| cycles(name, src))
        .collect();
    assert!(
        found.is_empty(),
        "module cycles (make the dependency run one way: move the shared item down into the \
         module both use):\n{}",
        found.join("\n")
    );
}

#[test]
fn a_cycle_is_found_at_any_level_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let write = |rel: &str, text: &str| {
        let path = src.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    write(
        "lib.rs",
        "mod a; mod b; mod c; mod hub;\nuse crate::a::A;\n",
    );
    write("a.rs", "//! A.\nuse crate::{b::B, c};\npub struct A;\n");
    // A doc link and a unit test may point back up without making a cycle.
    write(
        "b.rs",
        "//! See [`crate::a`].\npub struct B;\n#[cfg(test)]\nmod tests { use crate::a::A; }\n",
    );
    write("c.rs", "//! C.\npub fn f() { let _ = crate::b::B; }\n");
    write("hub/mod.rs", "//! Hub.\nmod x; mod y;\n");
    write("hub/x.rs", "//! X.\nuse super::y::Y;\npub struct X;\n");
    write("hub/y.rs", "//! Y.\nuse crate::hub::x::X;\npub struct Y;\n");
    assert_eq!(cycles("demo", &src), ["demo::hub: x -> y -> x"]);

    write("c.rs", "//! C.\nuse crate::a::A;\n");
    assert_eq!(
        cycles("demo", &src),
        ["demo: a -> c -> a", "demo::hub: x -> y -> x"]
    );
}
