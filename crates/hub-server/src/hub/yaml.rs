//! The checks the Hub makes on a repository card's YAML front matter, used by
//! `POST /api/validate-yaml` and by commits that add a root `README.md`.
//!
//! The Hub's validator is not public. What it rejects here, each as one error:
//! * front matter that is not YAML (syntax errors, duplicate keys, as JavaScript YAML
//!   parsers and the YAML specification require) or whose top level is not a mapping;
//! * a well-known key with the wrong type: `license`, `license_name`, `license_link`,
//!   `library_name`, `pipeline_tag`, `base_model_relation`, `thumbnail` must be strings
//!   (a dataset's `license` may be a list); `tags`, `language`, `datasets`, `metrics`,
//!   `base_model` a string or a list of strings; `inference` a boolean or a mapping; `widget`
//!   a list; `model-index` the shape huggingface_hub reads (`name`, `results[].task.type`,
//!   `results[].dataset.{type,name}`, `results[].metrics[].{type,value}`);
//! * a `license_name` that is not a lowercase slug, and a `base_model_relation` that is not
//!   `adapter`, `merge`, `quantized` or `finetune` (hub-docs `model-cards.md`);
//! * a `license` (each one, for a dataset's list) that is not one of the Hub's licence ids
//!   ([`LICENSES`], hub-docs `repositories-licenses.md`), as `"license" must be one of [...]`.
//!
//! Unknown keys are accepted, as on the Hub. An empty front matter block, and a card with no
//! front matter at all, are warnings (the Hub's "empty or missing yaml metadata in repo card";
//! huggingface_hub shows warnings as a `UserWarning` before it commits a `README.md`).

use saphyr::{LoadableYamlNode as _, Scalar, Yaml};

/// The licence ids the Hub accepts in `license` (hub-docs `repositories-licenses.md`, with
/// the ids added to it since: the Llama 3 family). Assumption: the Hub's list changes now and
/// then; an id missing here is refused locally only. The clients keep a copy
/// (`ruvltra_vocab::HUB_LICENSES`: the server shares no code with them) and a test of
/// `ruvltra-vocab` checks that the two are equal, so an id is added to both.
#[rustfmt::skip]
pub(crate) const LICENSES: &[&str] = &[
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

/// The warning for a card without metadata (an empty block, or none at all).
pub(crate) const MISSING_METADATA: &str = "empty or missing yaml metadata in repo card \
     (https://huggingface.co/docs/hub/model-cards#model-card-metadata): add a YAML block \
     between --- lines at the top of README.md";

/// The warning for an empty front matter block.
const EMPTY_METADATA: &str = "empty metadata: the YAML block has no key; empty or missing yaml \
     metadata in repo card (https://huggingface.co/docs/hub/model-cards#model-card-metadata)";

/// What the check found: each message is one line for a person.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Findings {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// The YAML between the opening `---` line and the closing `---` line at the start of a card
/// (leading whitespace allowed, as huggingface_hub's `REGEX_YAML_BLOCK`); `None` without one.
pub(crate) fn front_matter(card: &str) -> Option<&str> {
    let rest = card.trim_start();
    let rest = rest.strip_prefix("---")?;
    let body_start = rest.len() - rest.trim_start_matches(['\r', '\n']).len();
    if body_start == 0 {
        return None;
    }
    let body = &rest[body_start..];
    // The block may be empty: the closing line follows the opening one directly.
    if is_closing(body) {
        return Some("");
    }
    let mut offset = 0;
    while let Some(nl) = body[offset..].find(['\r', '\n']) {
        let end = offset + nl;
        let after = body[end..].trim_start_matches(['\r', '\n']);
        if is_closing(after) {
            return Some(&body[..end]);
        }
        offset = end + 1;
    }
    None
}

/// True when `text` starts with a `---` line (then a line break or the end).
fn is_closing(text: &str) -> bool {
    text.strip_prefix("---").is_some_and(|after| {
        after.is_empty() || after.starts_with('\n') || after.starts_with("\r\n")
    })
}

/// Checks a card (the whole `README.md`) for a repository of kind `repo_type`
/// (`model`, `dataset` or `space`).
pub(crate) fn check_card(card: &str, repo_type: &str) -> Findings {
    let mut findings = Findings::default();
    let Some(yaml) = front_matter(card) else {
        findings.warnings.push(MISSING_METADATA.into());
        return findings;
    };
    let docs = match Yaml::load_from_str(yaml) {
        Ok(docs) => docs,
        Err(e) => {
            let at = e.marker();
            findings.errors.push(format!(
                "the YAML metadata is not valid YAML: {} (line {}, column {} of the block)",
                e.info(),
                at.line(),
                at.col() + 1
            ));
            return findings;
        }
    };
    let root = match docs.as_slice() {
        [] => {
            findings.warnings.push(EMPTY_METADATA.into());
            return findings;
        }
        [one] => one,
        _ => {
            findings
                .errors
                .push("the YAML metadata holds several documents: use one mapping".into());
            return findings;
        }
    };
    let Yaml::Mapping(map) = root else {
        if matches!(root, Yaml::Value(Scalar::Null)) {
            findings.warnings.push(EMPTY_METADATA.into());
        } else {
            findings.errors.push(format!(
                "the YAML metadata must be a mapping of keys to values, not {}",
                kind(root)
            ));
        }
        return findings;
    };
    for (key, value) in map {
        let Some(key) = key.as_str() else {
            findings
                .errors
                .push(format!("metadata keys must be strings, not {}", kind(key)));
            continue;
        };
        check_key(key, value, repo_type, &mut findings.errors);
    }
    findings
}

/// The card's metadata as JSON, as the Hub shows it in a repo's info (`cardData`): the front
/// matter's mapping, or `None` without valid metadata. Keys that are not strings, aliases and
/// nesting deeper than 64 levels are left out.
pub(crate) fn card_data(card: &str) -> Option<serde_json::Value> {
    let docs = Yaml::load_from_str(front_matter(card)?).ok()?;
    match docs.as_slice() {
        [root @ Yaml::Mapping(_)] => Some(to_json(root, 0)),
        _ => None,
    }
}

fn to_json(value: &Yaml<'_>, depth: usize) -> serde_json::Value {
    use serde_json::Value as J;
    if depth > 64 {
        return J::Null;
    }
    match value {
        Yaml::Value(Scalar::Null) | Yaml::Alias(_) | Yaml::BadValue => J::Null,
        Yaml::Value(Scalar::Boolean(b)) => J::Bool(*b),
        Yaml::Value(Scalar::Integer(i)) => J::from(*i),
        Yaml::Value(Scalar::FloatingPoint(f)) => {
            serde_json::Number::from_f64(f.into_inner()).map_or(J::Null, J::Number)
        }
        Yaml::Value(Scalar::String(s)) | Yaml::Representation(s, ..) => J::String(s.to_string()),
        Yaml::Sequence(items) => J::Array(items.iter().map(|v| to_json(v, depth + 1)).collect()),
        Yaml::Mapping(map) => J::Object(
            map.iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), to_json(v, depth + 1))))
                .collect(),
        ),
        Yaml::Tagged(_, inner) => to_json(inner, depth + 1),
    }
}

fn check_key(key: &str, value: &Yaml<'_>, repo_type: &str, errors: &mut Vec<String>) {
    match key {
        "license" if repo_type == "dataset" => {
            string_or_list(key, value, errors);
            match value {
                Yaml::Sequence(items) => {
                    for (i, item) in items.iter().enumerate() {
                        known_license(&format!("license[{i}]"), item, errors);
                    }
                }
                _ => known_license(key, value, errors),
            }
        }
        "license" => {
            string(key, value, errors);
            known_license(key, value, errors);
        }
        "license_link" | "library_name" | "pipeline_tag" | "thumbnail" => {
            string(key, value, errors);
        }
        "license_name" => {
            if string(key, value, errors)
                && let Some(name) = value.as_str()
                && !is_slug(name)
            {
                errors.push(format!(
                    "\"license_name\" must be a lowercase slug (letters, digits, '-', '.'), not {name:?}"
                ));
            }
        }
        "base_model_relation" => {
            const RELATIONS: [&str; 4] = ["adapter", "merge", "quantized", "finetune"];
            if string(key, value, errors)
                && let Some(relation) = value.as_str()
                && !RELATIONS.contains(&relation)
            {
                errors.push(format!(
                    "\"base_model_relation\" must be one of {}, not {relation:?}",
                    RELATIONS.join(", ")
                ));
            }
        }
        "tags" | "language" | "datasets" | "metrics" | "base_model" => {
            string_or_list(key, value, errors);
        }
        "inference" if !matches!(value, Yaml::Value(Scalar::Boolean(_)) | Yaml::Mapping(_)) => {
            errors.push(format!(
                "\"inference\" must be a boolean or a mapping, not {}",
                kind(value)
            ));
        }
        "widget" if !matches!(value, Yaml::Sequence(_)) => {
            errors.push(format!("\"widget\" must be a list, not {}", kind(value)));
        }
        "model-index" => model_index(value, errors),
        _ => {}
    }
}

/// Refuses a licence string that is not one of [`LICENSES`], in the words of the Hub's
/// validator (`"license" must be one of [...]`); a value that is not a string was reported
/// already.
fn known_license(key: &str, value: &Yaml<'_>, errors: &mut Vec<String>) {
    if let Some(id) = value.as_str()
        && !LICENSES.contains(&id)
    {
        errors.push(format!(
            "\"{key}\" must be one of [{}]; {id:?} is not a licence id the Hub knows: use \"other\" with license_name and license_link for another licence",
            LICENSES.join(", ")
        ));
    }
}

/// Checks `model-index`: a list of `{name, results: [{task, dataset, metrics}]}`.
fn model_index(value: &Yaml<'_>, errors: &mut Vec<String>) {
    let Yaml::Sequence(models) = value else {
        errors.push(format!(
            "\"model-index\" must be a list, not {}",
            kind(value)
        ));
        return;
    };
    for (i, model) in models.iter().enumerate() {
        let at = format!("model-index[{i}]");
        let Yaml::Mapping(_) = model else {
            errors.push(format!("\"{at}\" must be a mapping, not {}", kind(model)));
            continue;
        };
        required_string(model, &at, "name", errors);
        let Some(results) = get(model, "results") else {
            errors.push(format!("\"{at}.results\" is required"));
            continue;
        };
        let Yaml::Sequence(results) = results else {
            errors.push(format!(
                "\"{at}.results\" must be a list, not {}",
                kind(results)
            ));
            continue;
        };
        for (j, result) in results.iter().enumerate() {
            let at = format!("{at}.results[{j}]");
            if !matches!(result, Yaml::Mapping(_)) {
                errors.push(format!("\"{at}\" must be a mapping, not {}", kind(result)));
                continue;
            }
            match get(result, "task") {
                Some(task @ Yaml::Mapping(_)) => {
                    required_string(task, &format!("{at}.task"), "type", errors);
                }
                Some(other) => errors.push(format!(
                    "\"{at}.task\" must be a mapping, not {}",
                    kind(other)
                )),
                None => errors.push(format!("\"{at}.task\" is required")),
            }
            match get(result, "dataset") {
                Some(dataset @ Yaml::Mapping(_)) => {
                    for field in ["type", "name"] {
                        required_string(dataset, &format!("{at}.dataset"), field, errors);
                    }
                }
                Some(other) => errors.push(format!(
                    "\"{at}.dataset\" must be a mapping, not {}",
                    kind(other)
                )),
                None => errors.push(format!("\"{at}.dataset\" is required")),
            }
            match get(result, "metrics") {
                Some(Yaml::Sequence(metrics)) => {
                    for (k, metric) in metrics.iter().enumerate() {
                        let at = format!("{at}.metrics[{k}]");
                        if !matches!(metric, Yaml::Mapping(_)) {
                            errors
                                .push(format!("\"{at}\" must be a mapping, not {}", kind(metric)));
                            continue;
                        }
                        required_string(metric, &at, "type", errors);
                        if get(metric, "value").is_none() {
                            errors.push(format!("\"{at}.value\" is required"));
                        }
                    }
                }
                Some(other) => errors.push(format!(
                    "\"{at}.metrics\" must be a list, not {}",
                    kind(other)
                )),
                None => errors.push(format!("\"{at}.metrics\" is required")),
            }
        }
    }
}

/// The value of `key` in a mapping.
fn get<'a, 'input>(map: &'a Yaml<'input>, key: &str) -> Option<&'a Yaml<'input>> {
    let Yaml::Mapping(map) = map else {
        return None;
    };
    map.iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

fn required_string(map: &Yaml<'_>, at: &str, field: &str, errors: &mut Vec<String>) {
    match get(map, field) {
        Some(value) => {
            string(&format!("{at}.{field}"), value, errors);
        }
        None => errors.push(format!("\"{at}.{field}\" is required")),
    }
}

/// Requires a string; returns whether it is one.
fn string(key: &str, value: &Yaml<'_>, errors: &mut Vec<String>) -> bool {
    if value.as_str().is_some() {
        return true;
    }
    errors.push(format!("\"{key}\" must be a string, not {}", kind(value)));
    false
}

fn string_or_list(key: &str, value: &Yaml<'_>, errors: &mut Vec<String>) {
    match value {
        Yaml::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                if item.as_str().is_none() {
                    errors.push(format!(
                        "\"{key}[{i}]\" must be a string, not {}",
                        kind(item)
                    ));
                }
            }
        }
        _ if value.as_str().is_some() => {}
        _ => errors.push(format!(
            "\"{key}\" must be a string or a list of strings, not {}",
            kind(value)
        )),
    }
}

fn is_slug(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.'))
}

/// A short name of a node's type for messages.
fn kind(value: &Yaml<'_>) -> &'static str {
    match value {
        Yaml::Value(Scalar::Null) => "null",
        Yaml::Value(Scalar::Boolean(_)) => "a boolean",
        Yaml::Value(Scalar::Integer(_)) => "an integer",
        Yaml::Value(Scalar::FloatingPoint(_)) => "a number",
        Yaml::Value(Scalar::String(_)) | Yaml::Representation(..) => "a string",
        Yaml::Sequence(_) => "a list",
        Yaml::Mapping(_) => "a mapping",
        Yaml::Tagged(..) => "a tagged value",
        Yaml::Alias(_) | Yaml::BadValue => "an invalid value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(card: &str) -> Vec<String> {
        check_card(card, "model").errors
    }

    #[test]
    fn front_matter_is_found_as_huggingface_hub_finds_it() {
        assert_eq!(front_matter("---\na: 1\n---\n# x"), Some("a: 1"));
        assert_eq!(front_matter("\n  ---\r\na: 1\r\n---\r\n"), Some("a: 1"));
        assert_eq!(front_matter("---\na: 1\n---"), Some("a: 1"));
        assert_eq!(front_matter("---\n---\n"), Some(""));
        // `----` does not close the block; a later `---` does.
        assert_eq!(front_matter("---\na: 1\n----\n---\n"), Some("a: 1\n----"));
        assert_eq!(front_matter("# no metadata\n---\na: 1\n---\n"), None);
        assert_eq!(front_matter("---\na: 1\n"), None, "never closed");
        assert_eq!(front_matter("---a: 1\n---\n"), None);
    }

    #[test]
    fn a_valid_model_card_passes() {
        let card = "---\nlicense: apache-2.0\nlanguage:\n- en\nlibrary_name: gguf\n\
                    pipeline_tag: text-generation\nbase_model: Qwen/Qwen2.5-0.5B\n\
                    base_model_relation: quantized\ntags:\n- gguf\n- 'q4'\n\
                    custom_key: [1, {a: b}]\n---\n# Card\n";
        assert_eq!(check_card(card, "model"), Findings::default());
        // No metadata at all is a warning, not an error.
        assert_eq!(
            check_card("# No metadata at all\n", "model"),
            Findings {
                errors: Vec::new(),
                warnings: vec![MISSING_METADATA.to_owned()],
            }
        );
    }

    #[test]
    fn wrong_types_of_well_known_keys_are_errors() {
        let card = "---\nlicense: [mit]\ntags: 7\nlanguage: [en, 3]\nbase_model: {a: b}\n\
                    pipeline_tag: [x]\ninference: maybe\nwidget: {}\n---\n";
        let found = errors(card);
        for needle in [
            "\"license\" must be a string, not a list",
            "\"tags\" must be a string or a list of strings, not an integer",
            "\"language[1]\" must be a string, not an integer",
            "\"base_model\" must be a string or a list of strings, not a mapping",
            "\"pipeline_tag\" must be a string, not a list",
            "\"inference\" must be a boolean or a mapping, not a string",
            "\"widget\" must be a list, not a mapping",
        ] {
            assert!(found.iter().any(|e| e == needle), "{needle}: {found:#?}");
        }
        assert_eq!(found.len(), 7, "{found:#?}");
        // A dataset's licence may be a list.
        assert!(
            check_card("---\nlicense: [mit, cc-by-4.0]\n---\n", "dataset")
                .errors
                .is_empty()
        );
    }

    #[test]
    fn licences_must_be_ids_the_hub_knows() {
        let e = errors("---\nlicense: asdf\n---\n");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("\"license\" must be one of [apache-2.0, mit, "),
            "{e:?}"
        );
        assert!(e[0].contains("\"asdf\""), "{e:?}");
        for good in ["apache-2.0", "llama3.1", "other", "cc-by-nc-sa-4.0"] {
            assert!(
                errors(&format!("---\nlicense: {good}\n---\n")).is_empty(),
                "{good}"
            );
        }
        let dataset = check_card("---\nlicense: [mit, nope]\n---\n", "dataset").errors;
        assert_eq!(dataset.len(), 1, "{dataset:?}");
        assert!(
            dataset[0].starts_with("\"license[1]\" must be one of ["),
            "{dataset:?}"
        );
    }

    #[test]
    fn malformed_yaml_and_non_mappings_are_errors() {
        let e = errors("---\nlicense: [mit\n---\n");
        assert!(
            e[0].starts_with("the YAML metadata is not valid YAML"),
            "{e:?}"
        );
        let e = errors("---\nlicense: mit\nlicense: apache-2.0\n---\n");
        assert!(
            e[0].starts_with("the YAML metadata is not valid YAML"),
            "duplicate key: {e:?}"
        );
        assert_eq!(
            errors("---\n- a\n- b\n---\n"),
            ["the YAML metadata must be a mapping of keys to values, not a list"]
        );
        assert_eq!(
            errors("---\njust text\n---\n"),
            ["the YAML metadata must be a mapping of keys to values, not a string"]
        );
        assert_eq!(
            errors("---\n? [a]\n: b\n---\n"),
            ["metadata keys must be strings, not a list"]
        );
        let empty = check_card("---\n---\n", "model");
        assert!(
            empty.errors.is_empty() && empty.warnings.len() == 1,
            "{empty:?}"
        );
    }

    #[test]
    fn slugs_relations_and_model_index() {
        assert_eq!(
            errors("---\nlicense: other\nlicense_name: My Licence\n---\n"),
            [
                "\"license_name\" must be a lowercase slug (letters, digits, '-', '.'), not \"My Licence\""
            ]
        );
        assert!(errors("---\nlicense: other\nlicense_name: ruvltra-1.0\n---\n").is_empty());
        assert_eq!(errors("---\nbase_model_relation: copy\n---\n").len(), 1);
        let good = "---\nmodel-index:\n- name: m\n  results:\n  - task: {type: text-generation}\n    \
                    dataset: {type: gsm8k, name: GSM8K}\n    metrics:\n    - {type: accuracy, value: 0.5}\n---\n";
        assert!(errors(good).is_empty(), "{:?}", errors(good));
        let bad = "---\nmodel-index:\n- name: 3\n  results:\n  - task: text\n    metrics:\n    - {type: acc}\n---\n";
        assert_eq!(
            errors(bad),
            [
                "\"model-index[0].name\" must be a string, not an integer",
                "\"model-index[0].results[0].task\" must be a mapping, not a string",
                "\"model-index[0].results[0].dataset\" is required",
                "\"model-index[0].results[0].metrics[0].value\" is required",
            ]
        );
        assert_eq!(
            errors("---\nmodel-index: {}\n---\n"),
            ["\"model-index\" must be a list, not a mapping"]
        );
    }

    #[test]
    fn alias_bombs_and_deep_nesting_end_in_an_error_not_a_crash() {
        let mut bomb = String::from("---\na0: [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            bomb.push_str(&format!(
                "a{i}: [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        bomb = bomb.replacen("a0: [", "a0: &a0 [", 1);
        for i in 1..11 {
            bomb = bomb.replacen(&format!("a{i}: ["), &format!("a{i}: &a{i} ["), 1);
        }
        bomb.push_str("---\n");
        let found = check_card(&bomb, "model");
        assert_eq!(found.errors.len(), 1, "{found:?}");
        let deep = format!(
            "---\nx: {}{}\n---\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(check_card(&deep, "model").errors.len(), 1);
    }
}
