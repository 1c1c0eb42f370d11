//! Every citation of a document under `docs/` (`docs/HUB-PROTOCOL-NOTES.md#retries`) in the
//! workspace's comments and Markdown names a file that exists and, with an anchor, one of its
//! headings, so a reader of this repository can always open what a comment points to.

use std::fs;

/// The anchors GitHub gives a Markdown file's headings: lowercase, spaces to `-`, other
/// punctuation dropped.
fn anchors(markdown: &str) -> Vec<String> {
    markdown
        .lines()
        .filter(|l| l.starts_with('#'))
        .filter_map(|l| l.trim_start_matches('#').strip_prefix(' '))
        .map(|heading| {
            heading
                .trim()
                .to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

/// Every citation of one of the project's documents in `text`, as (file name, anchor). The
/// project names its documents in capitals (`docs/RELIABILITY.md`); a lowercase `docs/` path
/// is another repository's (Ollama's `docs/template.md`) or test data.
fn citations(text: &str) -> Vec<(String, Option<String>)> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    let mut out = Vec::new();
    for (at, _) in text.match_indices("docs/") {
        let rest = &text[at + "docs/".len()..];
        let name: String = rest.chars().take_while(|c| word(*c)).collect();
        // A sentence may end right after the file name.
        let name = name.strip_suffix('.').unwrap_or(&name).to_owned();
        let Some(stem) = name.strip_suffix(".md") else {
            continue;
        };
        if stem.is_empty() || stem.chars().any(|c| c.is_ascii_lowercase()) {
            continue;
        }
        let after = &rest[name.len()..];
        let anchor = after.strip_prefix('#').map(|a| {
            a.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect::<String>()
        });
        out.push((name, anchor.filter(|a| !a.is_empty())));
    }
    out
}

#[test]
fn every_docs_citation_names_a_file_and_a_heading_that_exist() {
    let root = test_support::workspace_root();
    let mut files = Vec::new();
    for dir in ["crates", "xtask", "tests", "docs"] {
        for extension in ["rs", "md"] {
            files.extend(test_support::workspace_files(&root.join(dir), extension));
        }
    }
    for top in fs::read_dir(&root).unwrap() {
        let path = top.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    let mut seen = 0;
    let mut wrong = Vec::new();
    for file in &files {
        let mut text = fs::read_to_string(file).unwrap();
        if file.extension().is_some_and(|e| e == "rs") {
            // In Rust sources only comments cite; strings are data (test fixtures' paths).
            text = text
                .lines()
                .filter(|l| l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
        }
        for (name, anchor) in citations(&text) {
            seen += 1;
            let target = root.join("docs").join(&name);
            let where_ = file.strip_prefix(&root).unwrap().display();
            let Ok(doc) = fs::read_to_string(&target) else {
                wrong.push(format!("{where_}: docs/{name} does not exist"));
                continue;
            };
            if let Some(anchor) = anchor
                && !anchors(&doc).contains(&anchor)
            {
                wrong.push(format!("{where_}: docs/{name} has no heading #{anchor}"));
            }
        }
    }
    assert!(
        seen > 0,
        "no docs/ citation found: the scan is broken ({} files)",
        files.len()
    );
    assert!(wrong.is_empty(), "broken citations:\n{}", wrong.join("\n"));
}

#[test]
fn citations_and_anchors_are_read_as_github_does() {
    assert_eq!(
        citations("see `docs/HUB-PROTOCOL-NOTES.md#refs-tags-branches`, and docs/RELIABILITY.md."),
        [
            (
                "HUB-PROTOCOL-NOTES.md".to_owned(),
                Some("refs-tags-branches".to_owned())
            ),
            ("RELIABILITY.md".to_owned(), None),
        ]
    );
    assert!(citations("Ollama's `docs/template.md`").is_empty());
    assert_eq!(
        anchors("# Title\n## Refs, tags, branches\ntext\n## LFS batch\n"),
        ["title", "refs-tags-branches", "lfs-batch"]
    );
}
