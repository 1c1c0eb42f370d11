//! The serde types of `registry.json`: the whole RuvLTRA catalog as data.
//!
//! Key names in this file are part of the project's contract: the code generator, the
//! uploader, `sync` and CI checks all rely on them. Every struct keeps the keys it does not
//! know in `extra`, so a hand-written field is never lost by a load/save round trip.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use ruvltra_vocab::{ArtifactKind, Status};

use crate::labels::LabelSchema;

/// The schema version this crate reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole catalog, as stored in `registry.json`.
///
/// `Serialize` is written by hand (below) only to put a `$schema` key, which lives in
/// `extra`, first in the file where editors and people expect it.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[schemars(title = "RuvLTRA model registry")]
pub struct Registry {
    /// Version of this file's schema; this crate reads and writes version 1.
    pub schema_version: u32,
    /// The default Hub repository of every model, `namespace/name` (ADR-013: `ruv/ruvltra`).
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]{1,96}/[A-Za-z0-9._-]{1,96}$"))]
    pub repo: String,
    /// The default revision models are published to and downloaded from (a branch, tag or
    /// 40-hex commit), `main` unless a release is pinned.
    pub revision: String,
    /// Defaults shared by the model card and by every model that does not override them.
    #[serde(default, skip_serializing_if = "CatalogInfo::is_empty")]
    pub catalog: CatalogInfo,
    /// Every artifact of the catalog: GGUF models, adapters and other files.
    pub models: Vec<Model>,
    /// Keys this version does not know; kept verbatim.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl Serialize for Registry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;

        const SCHEMA_KEY: &str = "$schema";
        let mut map = serializer.serialize_map(None)?;
        if let Some(schema) = self.extra.get(SCHEMA_KEY) {
            map.serialize_entry(SCHEMA_KEY, schema)?;
        }
        map.serialize_entry("schema_version", &self.schema_version)?;
        map.serialize_entry("repo", &self.repo)?;
        map.serialize_entry("revision", &self.revision)?;
        if !self.catalog.is_empty() {
            map.serialize_entry("catalog", &self.catalog)?;
        }
        map.serialize_entry("models", &self.models)?;
        for (key, value) in &self.extra {
            if key != SCHEMA_KEY {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

/// Catalog-wide facts used by the model card and as defaults for models.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CatalogInfo {
    /// Human title of the repository's model card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Markdown paragraph describing the catalog on the model card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Hub licence id (e.g. `apache-2.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// ISO 639-1 language codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// Tags for the model card front matter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Optional ModelScope repository (`owner/name`) that mirrors the catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]{1,96}/[A-Za-z0-9._-]{1,96}$"))]
    pub modelscope_repo: Option<String>,
    /// Keys this version does not know; kept verbatim.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, Value>,
}

impl CatalogInfo {
    /// True when nothing is set, so the key is left out of the canonical file.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// One artifact of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Model {
    /// Unique id: the file stem of `file` (`ruvltra-claude-code-0.5b-q4_k_m`).
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9._-]*$"))]
    pub id: String,
    /// Path of the file in the repository (`ruvltra-claude-code-0.5b-q4_k_m.gguf`). For a
    /// split GGUF this is the first shard; the others are in `extra_files`.
    pub file: String,
    /// Lowercase llama.cpp quantisation label (`q4_k_m`, `q8_0`, `f16`, ...).
    #[schemars(schema_with = "quant_schema")]
    pub quant: String,
    /// Parameter-count label as in the file name (`0.5b`, `1.1b`, `3b`).
    #[schemars(regex(pattern = r"^[0-9]+(\.[0-9]+)?[bm]$"))]
    pub size: String,
    /// Optional variant (`claude-code`, `small`, `medium`, `large`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$"))]
    pub variant: Option<String>,
    /// What the artifact is; `gguf` when absent.
    #[serde(default, skip_serializing_if = "is_default", with = "crate::labels")]
    #[schemars(with = "LabelSchema<ArtifactKind>")]
    pub kind: ArtifactKind,
    /// Whether it is on the Hub yet; `published` when absent.
    #[serde(default, skip_serializing_if = "is_default", with = "crate::labels")]
    #[schemars(with = "LabelSchema<Status>")]
    pub status: Status,
    /// Human name (`RuvLTRA Claude Code 0.5B`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// One or two sentences for the model card and `ruvllm info`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `general.architecture` of the GGUF (`qwen2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// Exact parameter count when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub parameters: Option<u64>,
    /// Context length in tokens when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub context_length: Option<u64>,
    /// Upstream model this one derives from, as a Hub id (`Qwen/Qwen2.5-0.5B-Instruct`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_model: Option<String>,
    /// For adapters: the registry id of the model the adapter applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// Hub licence id; the catalog's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// ISO 639-1 codes; the catalog's when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// What the model needs to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware: Option<Hardware>,
    /// Free-form tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Measured results, shown on the model card.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub benchmarks: Vec<Benchmark>,
    /// Direct https URLs tried in order when the Hub fails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(url, regex(pattern = r"^https?://")))]
    pub fallback_urls: Vec<String>,
    /// Hub repository of this model when it is not the catalog's `repo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]{1,96}/[A-Za-z0-9._-]{1,96}$"))]
    pub repo: Option<String>,
    /// Revision pin (branch, tag or 40-hex commit) overriding the catalog's `revision`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Size of `file` in bytes; absent until synced or published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub bytes: Option<u64>,
    /// Lowercase hex sha256 of `file`; absent until synced or published, never invented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    pub sha256: Option<String>,
    /// Further files that belong to this artifact: the other shards of a split GGUF, or an
    /// adapter's config and data files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_files: Vec<ExtraFile>,
    /// Optional ModelScope repository (`owner/name`) overriding the catalog's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]{1,96}/[A-Za-z0-9._-]{1,96}$"))]
    pub modelscope_repo: Option<String>,
    /// What `cargo xtask sync` last saw on the Hub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub: Option<HubState>,
    /// What `cargo xtask sync --from modelscope` last saw on the ModelScope mirror
    /// ([`Model::modelscope_repo_name`] at [`Model::modelscope_revision`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modelscope: Option<HubState>,
    /// Set by `sync` for entries it added from the Hub: a person should review them.
    #[serde(default, skip_serializing_if = "is_default")]
    pub needs_review: bool,
    /// Keys this version does not know; kept verbatim.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, Value>,
}

/// A further file of an artifact (split shard, adapter config, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExtraFile {
    /// Path in the repository.
    pub file: String,
    /// Size in bytes; absent until synced or published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub bytes: Option<u64>,
    /// Lowercase hex sha256; absent until synced or published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    pub sha256: Option<String>,
    /// Keys this version does not know; kept verbatim.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, Value>,
}

/// Hardware a model needs. Memory figures are in MiB.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Hardware {
    /// Minimum system RAM in MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub min_ram_mib: Option<u64>,
    /// Recommended system RAM in MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub recommended_ram_mib: Option<u64>,
    /// Minimum accelerator memory in MiB, when a GPU is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub min_vram_mib: Option<u64>,
    /// Accelerators the runtime supports for this model: `cpu`, `metal`, `ane`, `cuda`, ...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accelerators: Vec<String>,
    /// Keys this version does not know; kept verbatim.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, Value>,
}

/// One measured benchmark result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Benchmark {
    /// What was measured (`tokens per second`, `HumanEval pass@1`).
    pub name: String,
    /// The figure.
    pub value: f64,
    /// Unit of `value` (`tok/s`, `%`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Hardware or setup the figure comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware: Option<String>,
    /// Keys this version does not know; kept verbatim.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, Value>,
}

/// The Hub's default branch.
pub const HUB_DEFAULT_BRANCH: &str = "main";

/// ModelScope's default branch, where the Hub's `main` is mirrored.
pub const MODELSCOPE_DEFAULT_BRANCH: &str = "master";

/// What `cargo xtask sync` last saw on the Hub (or, in `Model::modelscope`, on ModelScope)
/// for a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HubState {
    /// The 40-hex commit the model's revision resolved to.
    #[schemars(regex(pattern = r"^[0-9a-f]{40}$"))]
    pub commit: String,
    /// When sync read it, RFC 3339 UTC.
    #[schemars(extend("format" = "date-time"))]
    pub synced_at: String,
    /// Tags that pointed at `commit`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Keys this version does not know; kept verbatim.
    #[serde(flatten)]
    #[schemars(skip)]
    pub extra: BTreeMap<String, Value>,
}

/// The schema of a quant label: one of the known lowercase llama.cpp labels, so that editors
/// offer them.
fn quant_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let labels: Vec<&str> = crate::Quant::ALL.iter().map(|q| q.label()).collect();
    schemars::json_schema!({
        "description": "Lowercase llama.cpp quantisation label (`q4_k_m`, `q8_0`, `f16`, ...).",
        "type": "string",
        "enum": labels
    })
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

impl Model {
    /// A model with its identity fields set and every other field at the default of
    /// `registry.json` (kind `gguf`, status `published`, nothing optional set, not awaiting
    /// review); callers set what else they know on the value returned.
    pub fn new(
        id: impl Into<String>,
        file: impl Into<String>,
        quant: impl Into<String>,
        size: impl Into<String>,
    ) -> Model {
        Model {
            id: id.into(),
            file: file.into(),
            quant: quant.into(),
            size: size.into(),
            variant: None,
            kind: ArtifactKind::default(),
            status: Status::default(),
            name: None,
            description: None,
            architecture: None,
            parameters: None,
            context_length: None,
            base_model: None,
            base: None,
            license: None,
            languages: Vec::new(),
            hardware: None,
            tags: Vec::new(),
            benchmarks: Vec::new(),
            fallback_urls: Vec::new(),
            repo: None,
            revision: None,
            bytes: None,
            sha256: None,
            extra_files: Vec::new(),
            modelscope_repo: None,
            hub: None,
            modelscope: None,
            needs_review: false,
            extra: BTreeMap::new(),
        }
    }

    /// The repository this model lives in: its override, else the catalog's.
    pub fn repo<'a>(&'a self, registry: &'a Registry) -> &'a str {
        self.repo.as_deref().unwrap_or(&registry.repo)
    }

    /// The revision this model is published to and read from: its pin, else the catalog's.
    pub fn revision<'a>(&'a self, registry: &'a Registry) -> &'a str {
        self.revision.as_deref().unwrap_or(&registry.revision)
    }

    /// The ModelScope repository this model is mirrored to: its own `modelscope_repo`, else
    /// the catalog's `modelscope_repo` when the model lives in the catalog's Hub repository,
    /// else the name of its Hub repository.
    pub fn modelscope_repo_name<'a>(&'a self, registry: &'a Registry) -> &'a str {
        if let Some(repo) = &self.modelscope_repo {
            return repo;
        }
        if self.repo(registry) == registry.repo
            && let Some(repo) = &registry.catalog.modelscope_repo
        {
            return repo;
        }
        self.repo(registry)
    }

    /// The ModelScope revision this model is mirrored to: its Hub revision, except that the
    /// Hub's default branch `main` is ModelScope's default branch `master`. Experiment
    /// branches and tags keep their names on both registries.
    pub fn modelscope_revision<'a>(&'a self, registry: &'a Registry) -> &'a str {
        match self.revision(registry) {
            HUB_DEFAULT_BRANCH => MODELSCOPE_DEFAULT_BRANCH,
            other => other,
        }
    }

    /// Every file of the artifact, `file` first.
    pub fn all_files(&self) -> impl Iterator<Item = (&str, Option<u64>, Option<&str>)> {
        std::iter::once((self.file.as_str(), self.bytes, self.sha256.as_deref())).chain(
            self.extra_files
                .iter()
                .map(|f| (f.file.as_str(), f.bytes, f.sha256.as_deref())),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_model_is_what_registry_json_reads_from_the_identity_fields_alone() {
        let read: Model = serde_json::from_value(serde_json::json!({
            "id": "ruvltra-small-0.5b-q4_k_m",
            "file": "ruvltra-small-0.5b-q4_k_m.gguf",
            "quant": "q4_k_m",
            "size": "0.5b"
        }))
        .unwrap();
        let new = Model::new(
            "ruvltra-small-0.5b-q4_k_m",
            "ruvltra-small-0.5b-q4_k_m.gguf",
            "q4_k_m",
            "0.5b",
        );
        assert_eq!(new, read);
        assert_eq!(
            serde_json::to_value(&new).unwrap(),
            serde_json::json!({
                "id": "ruvltra-small-0.5b-q4_k_m",
                "file": "ruvltra-small-0.5b-q4_k_m.gguf",
                "quant": "q4_k_m",
                "size": "0.5b"
            })
        );
    }
}
