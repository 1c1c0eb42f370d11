//! The rules a registry must follow beyond its JSON shape. Every problem is collected, each
//! with the model id and the JSON pointer of the offending value, so one run shows them all.
//!
//! Every check is linear in the size of the registry (hash maps for uniqueness and base
//! lookups), so a registry of a hundred thousand models validates in bounded time.

mod fields;
mod files;
mod keys;
mod model;
mod names;
mod pointer;

use std::collections::HashMap;
use std::fmt;

use crate::model::{Registry, SCHEMA_VERSION};

use keys::{CATALOG_KEYS, REGISTRY_KEYS};
use pointer::{FileUse, Pointer};

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The id of the model the problem is in, when it is in one.
    pub model_id: Option<String>,
    /// JSON pointer of the offending value (`/models/2/sha256`).
    pub path: String,
    /// What is wrong and what to do, lowercase without a trailing period.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.model_id {
            Some(id) => write!(f, "{} ({}): {}", self.path, cut(id), self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// Every problem of a registry, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, problem) in self.0.iter().enumerate() {
            if n > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// Checks every rule and returns every problem at once.
pub fn validate(reg: &Registry) -> Result<(), Problems> {
    let mut checker = Checker {
        registry: reg,
        problems: Vec::new(),
        model_id: None,
        first_index_of_id: HashMap::with_capacity(reg.models.len()),
        first_use_of_file: HashMap::with_capacity(reg.models.len()),
    };
    checker.check_registry();
    if checker.problems.is_empty() {
        Ok(())
    } else {
        Err(Problems(checker.problems))
    }
}

/// Parses a sha256 written as 64 lowercase hex digits, the only form the registry stores.
pub fn parse_sha256(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex, &mut out).ok()?;
    Some(out)
}

struct Checker<'a> {
    registry: &'a Registry,
    problems: Vec<Problem>,
    /// The id of the model being checked, attached to every problem found in it.
    model_id: Option<&'a str>,
    first_index_of_id: HashMap<&'a str, usize>,
    /// (repository, lowercase file) -> its first use.
    first_use_of_file: HashMap<(&'a str, String), FileUse>,
}

impl<'a> Checker<'a> {
    fn report(&mut self, path: Pointer<'_>, message: impl Into<String>) {
        self.problems.push(Problem {
            model_id: self.model_id.filter(|id| !id.is_empty()).map(str::to_owned),
            path: path.render(),
            message: message.into(),
        });
    }

    fn check_registry(&mut self) {
        let reg = self.registry;
        if reg.schema_version != SCHEMA_VERSION {
            self.report(
                Pointer::ROOT.key("schema_version"),
                format!(
                    "unsupported schema_version {}: this tool reads version {SCHEMA_VERSION}; \
                     use a matching tool or convert the file",
                    reg.schema_version
                ),
            );
        }
        self.repo_id(Pointer::ROOT.key("repo"), &reg.repo, true);
        self.revision(Pointer::ROOT.key("revision"), &reg.revision);

        let catalog = &reg.catalog;
        let catalog_at = Pointer::ROOT.key("catalog");
        self.non_empty(catalog_at.key("title"), catalog.title.as_deref());
        self.non_empty(
            catalog_at.key("description"),
            catalog.description.as_deref(),
        );
        self.license(catalog_at.key("license"), catalog.license.as_deref());
        self.languages(catalog_at.key("languages"), &catalog.languages);
        self.tags(catalog_at.key("tags"), &catalog.tags);
        if let Some(repo) = &catalog.modelscope_repo {
            self.repo_id(catalog_at.key("modelscope_repo"), repo, true);
        }
        self.unknown_keys(Pointer::ROOT, &reg.extra, REGISTRY_KEYS);
        self.unknown_keys(catalog_at, &catalog.extra, CATALOG_KEYS);

        // Ids first, so that an adapter may name a base listed after it.
        for (index, model) in reg.models.iter().enumerate() {
            self.first_index_of_id.entry(&model.id).or_insert(index);
        }
        for (index, model) in reg.models.iter().enumerate() {
            self.model_id = Some(&model.id);
            self.check_model(index, model);
        }
        self.model_id = None;
    }
}

/// Quotes a value from the file for a message: escaped, in backticks, and cut short when long
/// so that a hostile file cannot flood the report.
fn show(value: &str) -> String {
    format!("`{}`", cut(value))
}

/// Escapes control characters and cuts a value short at 80 characters.
fn cut(value: &str) -> String {
    const MAX_CHARS: usize = 80;
    let mut shown: String = value
        .chars()
        .take(MAX_CHARS)
        .flat_map(char::escape_debug)
        .collect();
    if value.chars().nth(MAX_CHARS).is_some() {
        shown.push('…');
    }
    shown
}
