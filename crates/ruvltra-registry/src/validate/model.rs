//! The rules of one model entry: identity, labels, where it lives and its descriptive fields;
//! the checks of single values are in the sibling modules.

use super::keys::{BENCHMARK_KEYS, EXTRA_FILE_KEYS, MODEL_KEYS};
use super::names::id_problem;
use super::pointer::Pointer;
use super::{Checker, show};
use crate::model::{ArtifactKind, Model};
use crate::naming;

impl<'a> Checker<'a> {
    pub(super) fn check_model(&mut self, index: usize, model: &'a Model) {
        let models = Pointer::ROOT.key("models");
        let here = models.index(index);
        let at = |key| here.key(key);

        // Identity.
        if let Some(problem) = id_problem(&model.id) {
            self.report(at("id"), problem);
        }
        let first = self.first_index_of_id[model.id.as_str()];
        if first != index {
            self.report(
                at("id"),
                format!(
                    "duplicate id {}, first used at /models/{first}/id; ids must be unique",
                    show(&model.id)
                ),
            );
        }

        // Files.
        let repo = model.repo.as_deref().unwrap_or(&self.registry.repo);
        self.file(at("file"), repo, &model.file, (index, None));
        self.bytes(at("bytes"), model.bytes);
        self.sha256(at("sha256"), model.sha256.as_deref());
        for (n, extra) in model.extra_files.iter().enumerate() {
            let extra_files = here.key("extra_files");
            let path = extra_files.index(n);
            self.file(path.key("file"), repo, &extra.file, (index, Some(n)));
            self.unknown_keys(path, &extra.extra, EXTRA_FILE_KEYS);
            self.bytes(path.key("bytes"), extra.bytes);
            self.sha256(path.key("sha256"), extra.sha256.as_deref());
        }

        // Labels.
        let quant = self.quant(at("quant"), &model.quant);
        if !naming::is_size_label(&model.size) {
            self.report(
                at("size"),
                format!(
                    "size {} is not a parameter label; write digits, an optional fraction and \
                     `b` or `m`, lowercase (`0.5b`, `1.1b`, `3b`, `494m`)",
                    show(&model.size)
                ),
            );
        }
        if let Some(variant) = &model.variant
            && !naming::is_variant(variant)
        {
            self.report(
                at("variant"),
                format!(
                    "variant {} may only hold lowercase letters, digits and single inner \
                     hyphens (`claude-code`)",
                    show(variant)
                ),
            );
        }

        // Kind-specific rules.
        if model.kind.is_gguf() {
            self.gguf(index, model, quant);
        }
        self.adapter_base(index, model);

        // Where it lives.
        if let Some(repo) = &model.repo {
            self.repo_id(at("repo"), repo, true);
        }
        if let Some(revision) = &model.revision {
            self.revision(at("revision"), revision);
        }
        if let Some(repo) = &model.modelscope_repo {
            self.repo_id(at("modelscope_repo"), repo, true);
        }
        if let Some(base_model) = &model.base_model {
            self.repo_id(at("base_model"), base_model, false);
        }
        self.fallback_urls(at("fallback_urls"), &model.fallback_urls);

        // Descriptive fields.
        self.non_empty(at("name"), model.name.as_deref());
        self.non_empty(at("description"), model.description.as_deref());
        if let Some(architecture) = &model.architecture
            && (architecture.is_empty()
                || !architecture.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.')
                }))
        {
            self.report(
                at("architecture"),
                format!(
                    "architecture {} is not a GGUF `general.architecture` value such as `qwen2` \
                     (lowercase letters, digits, `_`, `-`, `.`)",
                    show(architecture)
                ),
            );
        }
        self.positive(at("parameters"), model.parameters);
        self.positive(at("context_length"), model.context_length);
        self.license(at("license"), model.license.as_deref());
        self.languages(at("languages"), &model.languages);
        self.tags(at("tags"), &model.tags);
        if let Some(hardware) = &model.hardware {
            self.hardware(at("hardware"), hardware);
        }
        for (n, benchmark) in model.benchmarks.iter().enumerate() {
            let benchmarks = here.key("benchmarks");
            let path = benchmarks.index(n);
            self.non_empty(path.key("name"), Some(&benchmark.name));
            if !benchmark.value.is_finite() {
                self.report(path.key("value"), "benchmark value must be a finite number");
            }
            self.non_empty(path.key("unit"), benchmark.unit.as_deref());
            self.non_empty(path.key("hardware"), benchmark.hardware.as_deref());
            self.unknown_keys(path, &benchmark.extra, BENCHMARK_KEYS);
        }
        if let Some(hub) = &model.hub {
            self.hub(at("hub"), hub);
        }
        if let Some(mirror) = &model.modelscope {
            self.hub(at("modelscope"), mirror);
        }
        self.unknown_keys(here, &model.extra, MODEL_KEYS);
    }

    /// Adapters name an existing GGUF model as `base`; other artifacts have no `base`.
    pub(super) fn adapter_base(&mut self, index: usize, model: &Model) {
        let models = Pointer::ROOT.key("models");
        let here = models.index(index);
        let path = here.key("base");
        match (model.kind, &model.base) {
            (ArtifactKind::Adapter, None) => self.report(
                path,
                "an adapter must name the id of the model it applies to in `base`",
            ),
            (ArtifactKind::Adapter, Some(base)) => {
                match self.first_index_of_id.get(base.as_str()) {
                    None => self.report(
                        path,
                        format!(
                            "base {} is not the id of any model in this registry; add that \
                             model or fix the id",
                            show(base)
                        ),
                    ),
                    Some(&base_index) => {
                        let kind = self.registry.models[base_index].kind;
                        if !kind.is_gguf() {
                            self.report(
                                path,
                                format!(
                                    "base {} (/models/{base_index}) is of kind `{}`; an adapter's \
                                     base must be a GGUF model",
                                    show(base),
                                    kind.as_str()
                                ),
                            );
                        }
                    }
                }
            }
            (kind, Some(_)) => self.report(
                path,
                format!(
                    "only adapters have `base`, this is of kind `{}`; use `base_model` for the \
                     upstream Hub model",
                    kind.as_str()
                ),
            ),
            (_, None) => {}
        }
    }
}
