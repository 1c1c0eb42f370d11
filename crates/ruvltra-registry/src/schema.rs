//! The JSON Schema of `registry.json`, derived from the types so that the two cannot drift;
//! editors use the checked-in `registry.schema.json` to complete and check the file.

use serde_json::{Value, json};

use crate::model::Registry;

/// The schema's file name next to `registry.json` at the repository root.
pub const SCHEMA_FILE_NAME: &str = "registry.schema.json";

/// The JSON Schema (draft 2020-12) of a registry file.
///
/// It checks shapes, formats and ranges; rules across fields (naming convention, unique
/// ids, existing adapter bases, ...) are only checked by [`crate::validate`].
pub fn json_schema() -> Value {
    let mut schema = schemars::schema_for!(Registry).to_value();
    // `$schema` lives in the flattened `extra` map; name it so editors offer it.
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        properties.insert(
            "$schema".to_owned(),
            json!({
                "description": "Path or URL of this JSON Schema, for editors.",
                "type": "string"
            }),
        );
    }
    schema
}

/// [`json_schema`] as the text of `registry.schema.json`: pretty JSON and a final newline.
pub fn json_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&json_schema()).expect("schema serialises");
    text.push('\n');
    text
}
