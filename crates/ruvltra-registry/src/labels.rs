//! serde and JSON Schema for the vocabulary's labelled enums ([`ArtifactKind`], [`Status`]).
//!
//! `ruvltra-vocab` defines them without serde so that `ruvllm`'s runtime can use them; the
//! registry's fields name this module in `#[serde(with = "crate::labels")]` and
//! [`LabelSchema`] in `#[schemars(with = ...)]`, so `registry.json` and
//! `registry.schema.json` spell every case with the vocabulary's label and description.

use std::borrow::Cow;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};
use serde_json::{Value, json};

use crate::{ArtifactKind, Status};

/// A vocabulary enum whose cases are written as kebab-case labels.
pub(crate) trait Labelled: Copy + 'static {
    /// The name of its definition in the JSON Schema.
    const SCHEMA_NAME: &'static str;
    /// What the type means.
    const DESCRIPTION: &'static str;
    /// Every case.
    const ALL: &'static [Self];
    /// Every label, for serde's "expected one of" message.
    const LABELS: &'static [&'static str];
    /// The label of a case.
    fn label(self) -> &'static str;
    /// What a case means.
    fn meaning(self) -> &'static str;
    /// The case with exactly this label.
    fn from_label(label: &str) -> Option<Self>;
}

macro_rules! labelled {
    ($($ty:ident),*) => {$(
        impl Labelled for $ty {
            const SCHEMA_NAME: &'static str = stringify!($ty);
            const DESCRIPTION: &'static str = $ty::DESCRIPTION;
            const ALL: &'static [Self] = $ty::ALL;
            const LABELS: &'static [&'static str] = $ty::LABELS;
            fn label(self) -> &'static str {
                self.as_str()
            }
            fn meaning(self) -> &'static str {
                self.description()
            }
            fn from_label(label: &str) -> Option<Self> {
                $ty::from_label(label)
            }
        }
    )*};
}

labelled!(ArtifactKind, Status);

/// Writes a case as its label.
pub(crate) fn serialize<T: Labelled, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value.label())
}

/// Reads a label; anything else is serde's "unknown variant" error listing the labels.
pub(crate) fn deserialize<'de, T: Labelled, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    struct LabelVisitor<T>(PhantomData<T>);

    impl<T: Labelled> Visitor<'_> for LabelVisitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            let labels: Vec<String> = T::LABELS.iter().map(|l| format!("`{l}`")).collect();
            write!(f, "one of {}", labels.join(", "))
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
            T::from_label(value).ok_or_else(|| E::unknown_variant(value, T::LABELS))
        }
    }

    deserializer.deserialize_str(LabelVisitor(PhantomData))
}

/// The JSON Schema of a labelled enum: one string constant per case, described.
pub(crate) struct LabelSchema<T>(PhantomData<T>);

impl<T: Labelled> JsonSchema for LabelSchema<T> {
    fn schema_name() -> Cow<'static, str> {
        T::SCHEMA_NAME.into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let cases: Vec<Value> = T::ALL
            .iter()
            .map(|case| json!({"const": case.label(), "description": case.meaning(), "type": "string"}))
            .collect();
        schemars::json_schema!({
            "description": T::DESCRIPTION,
            "oneOf": cases
        })
    }
}
