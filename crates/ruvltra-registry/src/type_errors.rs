//! Values of the wrong type (`"bytes": -5`, `"bytes": "12"`, a missing `file`) as problems of
//! the models they are in, listed with every other problem instead of stopping the load at the
//! first one, and [`ParseError`], the position of JSON that cannot be read at all.
//!
//! serde stops at the first value it cannot read. When it does, [`read_registry`] reads the
//! file again as a JSON tree, the catalog-wide keys and then model by model: each value serde
//! refuses is reported with its JSON pointer (and its model's id), then set aside (an optional
//! key removed, a required one given a placeholder of a fitting type) and the part read again,
//! until it reads. Validation then runs on what was read; [`merge`] drops its findings at the
//! paths already reported, so each wrong value is reported once.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use serde_path_to_error::Segment;

use crate::model::{Model, Registry};
use crate::validate::Problem;

/// Malformed JSON, or JSON that does not fit the registry's types, with the position where
/// the reader gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    /// 1-based line of the error (0 when the reader knows no position).
    pub line: usize,
    /// 1-based column of the error (0 when the reader knows no position).
    pub column: usize,
    /// What is wrong, without the position.
    pub message: String,
}

impl ParseError {
    pub(crate) fn from_json(err: &serde_json::Error) -> ParseError {
        let (line, column) = (err.line(), err.column());
        let full = err.to_string();
        // serde_json appends the position to its message; it is kept in separate fields here.
        let suffix = format!(" at line {line} column {column}");
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
        // serde_json says column 0 for an error before the first character of a line; people
        // count from 1.
        let column = if line > 0 { column.max(1) } else { column };
        ParseError {
            line,
            column,
            message,
        }
    }
}

/// What [`read_registry`] made of a file that is JSON.
pub(crate) enum Read {
    /// Every value has the type its key takes.
    Clean(Registry),
    /// Some do not: each is a problem. `registry` is what was read with those values set aside,
    /// for validation of everything else; `None` when a model could not be read at all.
    Typed {
        registry: Option<Registry>,
        problems: Vec<Problem>,
    },
}

/// Reads registry JSON; a file that is not JSON, or whose top level is not an object, is a
/// [`ParseError`] with its position.
pub(crate) fn read_registry(bytes: &[u8]) -> Result<Read, ParseError> {
    let strict = match serde_json::from_slice::<Registry>(bytes) {
        Ok(registry) => return Ok(Read::Clean(registry)),
        Err(err) if err.classify() != serde_json::error::Category::Data => {
            return Err(ParseError::from_json(&err));
        }
        Err(err) => err,
    };
    let Ok(Value::Object(mut top)) = serde_json::from_slice::<Value>(bytes) else {
        return Err(ParseError::from_json(&strict));
    };

    let mut problems = Vec::new();
    let models = top.insert("models".to_owned(), Value::Array(Vec::new()));
    let mut top = Value::Object(top);
    let mut found = Vec::new();
    let shell: Option<Registry> = read_repairing(&mut top, &mut found);
    problems.extend(
        found
            .into_iter()
            .map(|(at, message)| problem(None, at, &message)),
    );

    let mut ids = Vec::new();
    let mut read_models = Some(Vec::new());
    match models {
        Some(Value::Array(items)) => {
            for (index, mut item) in items.into_iter().enumerate() {
                let id = item
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|id| !id.is_empty())
                    .map(str::to_owned);
                let mut found = Vec::new();
                let model: Option<Model> = read_repairing(&mut item, &mut found);
                for (at, message) in found {
                    let at = [Step::Key("models".to_owned()), Step::Index(index)]
                        .into_iter()
                        .chain(at)
                        .collect();
                    problems.push(problem(id.clone(), at, &message));
                }
                match (model, &mut read_models) {
                    (Some(model), Some(models)) => models.push(model),
                    _ => read_models = None,
                }
                ids.push(id);
            }
        }
        other => {
            let message = match other {
                None => "missing field `models`".to_owned(),
                Some(value) => match serde_json::from_value::<Vec<Model>>(value) {
                    Err(err) => err.to_string(),
                    Ok(_) => unreachable!("`models` is not an array"),
                },
            };
            problems.push(problem(
                None,
                vec![Step::Key("models".to_owned())],
                &message,
            ));
        }
    }

    // A problem only the strict reader sees (a key given twice, which a JSON tree keeps once).
    if let Err(err) = serde_path_to_error::deserialize::<_, Registry>(
        &mut serde_json::Deserializer::from_slice(bytes),
    ) {
        let (at, message) = located(&err);
        let id = match at.as_slice() {
            [Step::Key(key), Step::Index(index), ..] if key == "models" => {
                ids.get(*index).cloned().flatten()
            }
            _ => None,
        };
        let extra = problem(id, at, &message);
        if !problems.iter().any(|p| p.path == extra.path) {
            problems.push(extra);
        }
    }
    if problems.is_empty() {
        return Err(ParseError::from_json(&strict));
    }
    let registry = match (shell, read_models) {
        (Some(mut registry), Some(models)) => {
            registry.models = models;
            Some(registry)
        }
        _ => None,
    };
    Ok(Read::Typed { registry, problems })
}

/// The type problems followed by the validation problems of what was read, without those at
/// (or inside) a value already reported, in file order: the catalog's first, then model by
/// model.
pub(crate) fn merge(mut problems: Vec<Problem>, validation: Vec<Problem>) -> Vec<Problem> {
    let reported: Vec<String> = problems.iter().map(|p| p.path.clone()).collect();
    let covered = |path: &str| {
        reported.iter().any(|at| {
            path == at
                || path
                    .strip_prefix(at.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    };
    problems.extend(validation.into_iter().filter(|p| !covered(&p.path)));
    problems.sort_by_key(|p| model_index(&p.path));
    problems
}

/// `None` for a catalog-wide path, else the index of the model it is in.
fn model_index(path: &str) -> Option<usize> {
    let rest = path.strip_prefix("/models/")?;
    rest.split('/').next()?.parse().ok()
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Step {
    Key(String),
    Index(usize),
}

/// How many times one part (the catalog's keys, or one model) is read before giving up: each
/// wrong value costs a read or a few, so a hostile file cannot make this slow.
const MAX_READS: usize = 256;

/// Reads `value` as a `T`. Every value serde refuses is added to `found` (path, serde's
/// message) once and set aside until `value` reads; `None` when it still does not read after
/// [`MAX_READS`] attempts.
fn read_repairing<T: DeserializeOwned>(
    value: &mut Value,
    found: &mut Vec<(Vec<Step>, String)>,
) -> Option<T> {
    let mut tries: HashMap<Vec<Step>, Tries> = HashMap::new();
    for _ in 0..MAX_READS {
        let err = match serde_path_to_error::deserialize::<_, T>(&*value) {
            Ok(read) => return Some(read),
            Err(err) => err,
        };
        let (at, message) = located(&err);
        if !found.iter().any(|(path, _)| *path == at) {
            found.push((at.clone(), message));
        }
        let tries = tries.entry(at.clone()).or_default();
        if !set_aside(value, &at, tries) {
            return None;
        }
    }
    None
}

/// What was tried at one path so far.
#[derive(Default)]
struct Tries {
    removed: bool,
    placeholders: usize,
}

/// A placeholder for a required value: the first of these that reads is kept.
fn placeholder(n: usize) -> Option<Value> {
    Some(match n {
        0 => Value::String(String::new()),
        1 => Value::from(0),
        2 => Value::Array(Vec::new()),
        3 => Value::Object(Map::new()),
        _ => return None,
    })
}

/// Sets the value at `at` aside: a key is removed first (an optional key then takes its
/// default); after that, or for an array element or a missing key, placeholders are tried in
/// turn. False when nothing is left to try.
fn set_aside(root: &mut Value, at: &[Step], tries: &mut Tries) -> bool {
    let Some((last, parent)) = at.split_last() else {
        let Some(value) = placeholder(tries.placeholders) else {
            return false;
        };
        tries.placeholders += 1;
        *root = value;
        return true;
    };
    let Some(parent) = lookup_mut(root, parent) else {
        return false;
    };
    match (last, parent) {
        (Step::Key(key), Value::Object(map)) => {
            if !tries.removed && map.contains_key(key) {
                tries.removed = true;
                map.remove(key);
                return true;
            }
            let Some(value) = placeholder(tries.placeholders) else {
                return false;
            };
            tries.placeholders += 1;
            map.insert(key.clone(), value);
            true
        }
        (Step::Index(index), Value::Array(items)) if *index < items.len() => {
            let Some(value) = placeholder(tries.placeholders) else {
                return false;
            };
            tries.placeholders += 1;
            items[*index] = value;
            true
        }
        _ => false,
    }
}

fn lookup_mut<'v>(mut value: &'v mut Value, steps: &[Step]) -> Option<&'v mut Value> {
    for step in steps {
        value = match (step, value) {
            (Step::Key(key), Value::Object(map)) => map.get_mut(key)?,
            (Step::Index(index), Value::Array(items)) => items.get_mut(*index)?,
            _ => return None,
        };
    }
    Some(value)
}

/// The path of a serde error and its message; a missing or repeated key's path ends in that
/// key (serde reports it at the object).
fn located<E: std::fmt::Display>(err: &serde_path_to_error::Error<E>) -> (Vec<Step>, String) {
    let mut at = Vec::new();
    for segment in err.path().iter() {
        match segment {
            Segment::Seq { index } => at.push(Step::Index(*index)),
            Segment::Map { key } => at.push(Step::Key(key.clone())),
            Segment::Enum { .. } => {}
            Segment::Unknown => break,
        }
    }
    let message = err.inner().to_string();
    if let Some(key) = named_field(&message, "missing field `")
        .or_else(|| named_field(&message, "duplicate field `"))
    {
        at.push(Step::Key(key.to_owned()));
    }
    (at, message)
}

/// `x` of a serde message `<prefix>x`…`.
fn named_field<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    message.strip_prefix(prefix)?.split('`').next()
}

/// A problem at `at` with serde's message turned into one that says what to do.
fn problem(model_id: Option<String>, at: Vec<Step>, message: &str) -> Problem {
    let message = if let Some(key) = named_field(message, "missing field `") {
        format!("required key `{key}` is missing; add it (registry.schema.json says what it takes)")
    } else if let Some(key) = named_field(message, "duplicate field `") {
        format!("key `{key}` is given twice; keep one")
    } else {
        format!(
            "{}; fix the value (registry.schema.json says what each key takes)",
            shorten(message)
        )
    };
    Problem {
        model_id,
        path: pointer(&at),
        message,
    }
}

/// A JSON pointer (RFC 6901) of a path.
fn pointer(at: &[Step]) -> String {
    let mut text = String::new();
    for step in at {
        text.push('/');
        match step {
            Step::Key(key) => text.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Step::Index(index) => text.push_str(&index.to_string()),
        }
    }
    text
}

/// serde's message, which quotes the wrong value, cut short and with control characters
/// escaped, so that a hostile file cannot flood the report.
fn shorten(message: &str) -> String {
    const MAX_CHARS: usize = 200;
    let mut shown = String::new();
    for c in message.chars().take(MAX_CHARS) {
        if c.is_control() {
            shown.extend(c.escape_debug());
        } else {
            shown.push(c);
        }
    }
    if message.chars().nth(MAX_CHARS).is_some() {
        shown.push('…');
    }
    shown
}
