//! The plan of a generated module (models sorted with their constant names, the variants)
//! and the tokens of the items around the models: the catalog head and the variant tail.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use ruvltra_registry::{Model, Registry};

use crate::model::{model_doc, model_spec};
use crate::{Problem, RESERVED_NAMES, ast, const_name, is_identifier, variant_name};

/// The models to emit, sorted by id with their constant names, and the variants; built
/// before any token so that name problems of every model are known at once.
pub(crate) struct Plan<'a> {
    pub(crate) reg: &'a Registry,
    /// Models whose names are valid, sorted by id, with their constant names.
    pub(crate) models: Vec<(&'a Model, String)>,
    /// Variant label -> enum case name, sorted by label.
    pub(crate) variants: BTreeMap<&'a str, String>,
}

impl<'a> Plan<'a> {
    /// Sorts the models and checks their constant and variant names; name problems are
    /// returned next to the plan so that the per-model checks can still add theirs.
    pub(crate) fn new(reg: &'a Registry) -> (Plan<'a>, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut sorted: Vec<&Model> = reg.models.iter().collect();
        sorted.sort_by(|a, b| a.id.cmp(&b.id));

        // Constant names: one per model, unique and valid.
        let mut names: BTreeMap<String, &str> = BTreeMap::new();
        let mut models = Vec::with_capacity(sorted.len());
        for model in &sorted {
            let name = const_name(&model.id);
            let problem = |message: String| Problem {
                model_id: Some(model.id.clone()),
                message,
            };
            if !is_identifier(&name) {
                problems.push(problem(format!(
                    "the id gives the constant name `{name}`, which is not a Rust identifier; \
                     use an id with at least one letter or digit"
                )));
            } else if RESERVED_NAMES.contains(&name.as_str()) {
                problems.push(problem(format!(
                    "the id gives the constant name `{name}`, which the generated module \
                     reserves; rename the model"
                )));
            } else if let Some(other) = names.insert(name.clone(), &model.id) {
                problems.push(problem(format!(
                    "the id gives the constant name `{name}`, as does model `{other}`; \
                     ids must differ in more than punctuation and case"
                )));
            } else {
                models.push((*model, name));
            }
        }

        // Variants: one enum case per distinct label.
        let mut variants: BTreeMap<&str, String> = BTreeMap::new();
        let mut variant_names: BTreeMap<String, &str> = BTreeMap::new();
        for model in &sorted {
            let Some(label) = model.variant.as_deref() else {
                continue;
            };
            if variants.contains_key(label) {
                continue;
            }
            let name = variant_name(label);
            let problem = |message: String| Problem {
                model_id: Some(model.id.clone()),
                message,
            };
            if !is_identifier(&name) {
                problems.push(problem(format!(
                    "variant `{label}` gives the enum case `{name}`, which is not a Rust \
                     identifier; use a variant with at least one letter or digit"
                )));
            } else if let Some(other) = variant_names.insert(name.clone(), label) {
                problems.push(problem(format!(
                    "variant `{label}` gives the enum case `{name}`, as does variant \
                     `{other}`; spell the variants the same way"
                )));
            } else {
                variants.insert(label, name);
            }
        }
        (
            Plan {
                reg,
                models,
                variants,
            },
            problems,
        )
    }

    /// The documented constants of some models, in order, or every problem found in them.
    pub(crate) fn model_items(
        &self,
        models: &[(&Model, String)],
    ) -> Result<Vec<syn::Item>, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut items = Vec::with_capacity(models.len());
        for (model, name) in models {
            match model_spec(self.reg, model) {
                Ok(spec) if problems.is_empty() => {
                    items.push(ast::documented_const(
                        &model_doc(model),
                        name,
                        "ModelSpec",
                        spec,
                    ));
                }
                Ok(_) => {}
                Err(more) => problems.extend(more),
            }
        }
        if problems.is_empty() {
            Ok(items)
        } else {
            Err(problems)
        }
    }

    /// The catalog-wide constants that come before the models.
    pub(crate) fn head(&self) -> TokenStream {
        let repo = &self.reg.repo;
        let revision = &self.reg.revision;
        let repo_doc = format!(" The catalog's default Hub repository, `{repo}`.");
        let revision_doc = format!(" The catalog's default revision, `{revision}`.");
        quote! {
            #[doc = #repo_doc]
            pub const REPO: &str = #repo;

            #[doc = #revision_doc]
            pub const REVISION: &str = #revision;
        }
    }

    /// `MODELS`, `CATALOG`, `Variant` and the lookups, after the models.
    pub(crate) fn tail(&self) -> TokenStream {
        let idents = self
            .models
            .iter()
            .map(|(_, name)| format_ident!("{}", name));
        let count_doc = format!(
            " Every model of the catalog ({} in all), sorted by id.",
            self.models.len()
        );
        let variant_idents: Vec<_> = self
            .variants
            .values()
            .map(|n| format_ident!("{}", n))
            .collect();
        let variant_labels: Vec<&str> = self.variants.keys().copied().collect();
        let variant_docs: Vec<String> = variant_labels.iter().map(|l| format!(" `{l}`.")).collect();
        // A catalog without variants gets no one-armed match (clippy's match_single_binding).
        let from_label_body = if variant_labels.is_empty() {
            quote! {
                let _ = label;
                None
            }
        } else {
            quote! {
                match label {
                    #(#variant_labels => Some(Variant::#variant_idents),)*
                    _ => None,
                }
            }
        };
        quote! {
            #[doc = #count_doc]
            pub const MODELS: &[ModelSpec] = &[#(#idents),*];

            /// The whole catalog: its defaults and [`MODELS`].
            pub const CATALOG: Catalog = Catalog {
                repo: REPO,
                revision: REVISION,
                models: MODELS,
            };

            /// The variants that occur in the catalog.
            #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
            pub enum Variant {
                #(
                    #[doc = #variant_docs]
                    #variant_idents,
                )*
            }

            impl Variant {
                /// Every variant, sorted by label.
                pub const ALL: &[Variant] = &[#(Variant::#variant_idents),*];

                /// The label as written in `registry.json`.
                pub const fn as_str(self) -> &'static str {
                    match self {
                        #(Variant::#variant_idents => #variant_labels,)*
                    }
                }

                /// The variant with this label.
                pub fn from_label(label: &str) -> Option<Variant> {
                    #from_label_body
                }

                /// The variant of a spec, if it has one.
                pub fn of(spec: &ModelSpec) -> Option<Variant> {
                    spec.variant.and_then(Variant::from_label)
                }
            }

            /// The model with this exact id.
            pub const fn by_id(id: &str) -> Option<&'static ModelSpec> {
                CATALOG.by_id(id)
            }

            /// The model owning this repository path, as its main file or an extra file.
            pub const fn by_file(file: &str) -> Option<&'static ModelSpec> {
                CATALOG.by_file(file)
            }

            /// Models of this variant, in id order.
            pub fn by_variant(variant: Variant) -> impl Iterator<Item = &'static ModelSpec> {
                CATALOG.by_variant(variant.as_str())
            }

            /// Models with this quantisation, in id order.
            pub fn by_quant(quant: Quant) -> impl Iterator<Item = &'static ModelSpec> {
                CATALOG.by_quant(quant)
            }

            /// Adapters of the model with this id, in id order.
            pub fn adapters_of(base_id: &str) -> impl Iterator<Item = &'static ModelSpec> + '_ {
                CATALOG.adapters_of(base_id)
            }

            /// The largest published GGUF model whose RAM need fits in `ram_mib`
            /// (see [`Catalog::largest_fitting`]).
            pub fn largest_fitting(ram_mib: u64) -> Option<&'static ModelSpec> {
                CATALOG.largest_fitting(ram_mib)
            }
        }
    }
}
