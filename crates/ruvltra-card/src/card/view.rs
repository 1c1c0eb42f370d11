//! The registry seen from one repository, which every section of the card reads: which
//! models are here, which are available, and the facts to show for them.

use std::collections::BTreeSet;

use ruvltra_registry::{ArtifactKind, Model, Registry, Status};

use crate::CardFacts;

/// Tags every GGUF repository carries (GGUF-AND-ECOSYSTEM.md section 2).
pub(super) const GGUF_TAGS: &[&str] = &["gguf", "quantized", "llama-cpp"];
/// Tags of a repository that also holds SONA adapters.
pub(super) const ADAPTER_TAGS: &[&str] = &["sona", "lora", "adaptive-learning"];

/// The registry seen from one repository: which models are here and which are available.
pub(super) struct View<'a> {
    pub(super) reg: &'a Registry,
    pub(super) facts: &'a CardFacts,
    /// Available models of this repository, in registry order.
    pub(super) available: Vec<&'a Model>,
    /// Planned models of this repository whose file is not being published now.
    pub(super) planned: Vec<&'a Model>,
    /// Models published in another repository.
    pub(super) elsewhere: Vec<&'a Model>,
}

impl<'a> View<'a> {
    pub(super) fn new(reg: &'a Registry, facts: &'a CardFacts) -> Self {
        let mut view = View {
            reg,
            facts,
            available: Vec::new(),
            planned: Vec::new(),
            elsewhere: Vec::new(),
        };
        for model in &reg.models {
            if model.repo(reg) != reg.repo {
                view.elsewhere.push(model);
            } else if model.status != Status::Planned || facts.files.contains_key(&model.file) {
                view.available.push(model);
            } else {
                view.planned.push(model);
            }
        }
        view
    }

    pub(super) fn ggufs(&self) -> impl Iterator<Item = &'a Model> + '_ {
        self.available.iter().copied().filter(|m| m.kind.is_gguf())
    }

    pub(super) fn adapters(&self) -> impl Iterator<Item = &'a Model> + '_ {
        self.available
            .iter()
            .copied()
            .filter(|m| m.kind == ArtifactKind::Adapter)
    }

    /// Size of one file: the registry's, else the uploader's.
    pub(super) fn bytes(&self, path: &str, registry: Option<u64>) -> Option<u64> {
        registry.or_else(|| self.facts.get(path).and_then(|f| f.bytes))
    }

    /// sha256 of one file: the registry's, else the uploader's.
    pub(super) fn sha256(&self, path: &str, registry: Option<&'a str>) -> Option<String> {
        registry
            .map(str::to_owned)
            .or_else(|| self.facts.get(path).and_then(|f| f.sha256.clone()))
    }

    /// Total size of every file of a model, when all are known.
    pub(super) fn model_bytes(&self, model: &Model) -> Option<u64> {
        model
            .all_files()
            .map(|(path, bytes, _)| self.bytes(path, bytes))
            .sum()
    }

    pub(super) fn context_length(&self, model: &Model) -> Option<u64> {
        model
            .context_length
            .or_else(|| self.facts.get(&model.file).and_then(|f| f.context_length))
    }

    /// Every path of every available model: what the repository holds for `compat`.
    pub(super) fn repo_paths(&self) -> Vec<&'a str> {
        self.available
            .iter()
            .flat_map(|m| m.all_files().map(|(path, _, _)| path))
            .collect()
    }

    pub(super) fn license(&self) -> Option<String> {
        if let Some(license) = &self.reg.catalog.license {
            return Some(license.clone());
        }
        let all: BTreeSet<&str> = self
            .available
            .iter()
            .filter_map(|m| m.license.as_deref())
            .collect();
        match all.len() {
            0 => None,
            1 => all.into_iter().next().map(str::to_owned),
            _ => Some("other".to_owned()),
        }
    }

    pub(super) fn languages(&self) -> Vec<String> {
        let mut langs: BTreeSet<String> = self.reg.catalog.languages.iter().cloned().collect();
        for model in &self.available {
            langs.extend(model.languages.iter().cloned());
        }
        langs.into_iter().collect()
    }

    /// Upstream Hub ids of the available GGUF models, sorted.
    pub(super) fn base_models(&self) -> Vec<String> {
        let set: BTreeSet<&str> = self
            .ggufs()
            .filter_map(|m| m.base_model.as_deref())
            .collect();
        set.into_iter().map(str::to_owned).collect()
    }

    pub(super) fn architectures(&self) -> Vec<String> {
        let set: BTreeSet<&str> = self
            .ggufs()
            .filter_map(|m| m.architecture.as_deref())
            .collect();
        set.into_iter().map(str::to_owned).collect()
    }

    pub(super) fn tags(&self) -> Vec<String> {
        let mut tags: Vec<String> = GGUF_TAGS.iter().map(|t| (*t).to_owned()).collect();
        tags.extend(self.architectures());
        let mut rest: BTreeSet<String> = self.reg.catalog.tags.iter().cloned().collect();
        for model in &self.available {
            rest.extend(model.tags.iter().cloned());
        }
        if self.adapters().next().is_some() {
            rest.extend(ADAPTER_TAGS.iter().map(|t| (*t).to_owned()));
        }
        for tag in rest {
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        tags
    }

    pub(super) fn title(&self) -> String {
        self.reg
            .catalog
            .title
            .clone()
            .unwrap_or_else(|| "RuvLTRA".to_owned())
    }

    /// The model the usage examples use: a published Q4_K_M single file when there is one.
    pub(super) fn example(&self) -> Option<&'a Model> {
        let single = |m: &&Model| !m.extra_files.iter().any(|f| f.file.ends_with(".gguf"));
        let current = |m: &&Model| m.status != Status::Deprecated;
        let mut ggufs: Vec<&Model> = self.ggufs().filter(single).collect();
        if ggufs.is_empty() {
            ggufs = self.ggufs().collect();
        }
        ggufs
            .iter()
            .copied()
            .find(|m| current(m) && m.quant.eq_ignore_ascii_case("q4_k_m"))
            .or_else(|| ggufs.iter().copied().find(current))
            .or_else(|| ggufs.first().copied())
    }
}

pub(super) fn name_of(model: &Model) -> String {
    model.name.clone().unwrap_or_else(|| model.id.clone())
}
