//! The tokens of one model's constant: its `ModelSpec` expression, doc comment and sha256
//! literal.

use proc_macro2::Literal;
use ruvltra_registry::{ArtifactKind, Model, Quant, Registry, Status};

use crate::{Problem, ast};

/// The `ModelSpec { .. }` expression of one model.
///
/// Only fields that differ from `ModelSpec::EMPTY` are written (as in `registry.json`, where
/// absent means unset), which keeps the output small enough to generate and compile
/// thousands of models quickly; the identity and location fields are always written.
///
/// The expression is built as typed `syn` nodes rather than with `quote!`: a large catalog
/// then needs no re-parsing before it is printed, which was most of `render`'s time.
pub(crate) fn model_spec(reg: &Registry, model: &Model) -> Result<syn::Expr, Vec<Problem>> {
    let mut problems = Vec::new();
    let problem = |message: String| Problem {
        model_id: Some(model.id.clone()),
        message,
    };

    let quant = match Quant::from_label(&model.quant) {
        Some(quant) => Some(quant.name()),
        None => {
            problems.push(problem(format!(
                "unknown quant `{}`; use a llama.cpp label such as q4_k_m, q8_0 or f16",
                model.quant
            )));
            None
        }
    };
    let sha256 = match sha256_literal(model.sha256.as_deref()) {
        Ok(literal) => literal,
        Err(message) => {
            problems.push(problem(format!("sha256: {message}")));
            None
        }
    };
    let mut extra_files = Vec::with_capacity(model.extra_files.len());
    for extra in &model.extra_files {
        match sha256_literal(extra.sha256.as_deref()) {
            Ok(sha) => extra_files.push(ast::structure(
                "FileSpec",
                vec![
                    ("file", ast::string(&extra.file)),
                    ("bytes", ast::option(extra.bytes.map(ast::number))),
                    ("sha256", ast::option(sha.map(ast::deref_literal))),
                ],
                None,
            )),
            Err(message) => {
                problems.push(problem(format!(
                    "sha256 of extra file `{}`: {message}",
                    extra.file
                )));
            }
        }
    }
    let (Some(quant), true) = (quant, problems.is_empty()) else {
        return Err(problems);
    };

    let repo = match &model.repo {
        Some(repo) => ast::string(repo),
        None => ast::path(&["REPO"]),
    };
    let revision = match &model.revision {
        Some(revision) => ast::string(revision),
        None => ast::path(&["REVISION"]),
    };
    let mut fields = vec![
        ("id", ast::string(&model.id)),
        ("file", ast::string(&model.file)),
        ("quant", ast::path(&["Quant", quant])),
        ("size", ast::string(&model.size)),
        ("repo", repo),
        ("revision", revision),
    ];
    // Kind and status are written only when they differ from `ModelSpec::EMPTY`'s defaults.
    if model.kind != ArtifactKind::default() {
        fields.push(("kind", ast::path(&["ArtifactKind", model.kind.case_name()])));
    }
    if model.status != Status::default() {
        fields.push(("status", ast::path(&["Status", model.status.case_name()])));
    }
    let optional_strs = [
        ("name", model.name.as_deref()),
        ("description", model.description.as_deref()),
        ("variant", model.variant.as_deref()),
        ("architecture", model.architecture.as_deref()),
        ("base_model", model.base_model.as_deref()),
        ("base", model.base.as_deref()),
        (
            "license",
            model.license.as_deref().or(reg.catalog.license.as_deref()),
        ),
    ];
    for (field, value) in optional_strs {
        if let Some(text) = value {
            fields.push((field, ast::some(ast::string(text))));
        }
    }
    let optional_numbers = [
        ("parameters", model.parameters),
        ("context_length", model.context_length),
        ("bytes", model.bytes),
    ];
    for (field, value) in optional_numbers {
        if let Some(number) = value {
            fields.push((field, ast::some(ast::number(number))));
        }
    }
    if let Some(literal) = sha256 {
        fields.push(("sha256", ast::some(ast::deref_literal(literal))));
    }
    let languages = if model.languages.is_empty() {
        &reg.catalog.languages
    } else {
        &model.languages
    };
    let lists = [
        ("languages", languages),
        ("tags", &model.tags),
        ("fallback_urls", &model.fallback_urls),
    ];
    for (field, values) in lists {
        if !values.is_empty() {
            fields.push((field, ast::slice(values.iter().map(|v| ast::string(v)))));
        }
    }
    if !extra_files.is_empty() {
        fields.push(("extra_files", ast::slice(extra_files)));
    }
    if let Some(hw) = &model.hardware {
        let mut parts = Vec::new();
        let numbers = [
            ("min_ram_mib", hw.min_ram_mib),
            ("recommended_ram_mib", hw.recommended_ram_mib),
            ("min_vram_mib", hw.min_vram_mib),
        ];
        for (field, value) in numbers {
            if let Some(number) = value {
                parts.push((field, ast::some(ast::number(number))));
            }
        }
        if !hw.accelerators.is_empty() {
            let accelerators = hw.accelerators.iter().map(|a| ast::string(a));
            parts.push(("accelerators", ast::slice(accelerators)));
        }
        if !parts.is_empty() {
            let rest = ast::path(&["Hardware", "UNKNOWN"]);
            fields.push(("hardware", ast::structure("Hardware", parts, Some(rest))));
        }
    }
    let rest = ast::path(&["ModelSpec", "EMPTY"]);
    Ok(ast::structure("ModelSpec", fields, Some(rest)))
}

/// The doc comment of a model's constant: its name (or id), file, quant and status. The
/// description is not repeated; it is the `description` field right below.
pub(crate) fn model_doc(model: &Model) -> String {
    let title = model.name.as_deref().unwrap_or(&model.id);
    format!(
        " {title}: `{}` ({}, {}).",
        model.file, model.quant, model.status
    )
}

/// The byte-string literal `b"\x12\x34..."` of a 64-digit lowercase hex digest (`None` when
/// absent). One literal token instead of a 32-element array keeps large catalogs fast to
/// parse and compile, and `\x` escapes keep every byte readable as the hex in registry.json.
fn sha256_literal(hex: Option<&str>) -> Result<Option<Literal>, String> {
    let Some(hex) = hex else {
        return Ok(None);
    };
    let digest = ruvltra_registry::parse_sha256(hex).ok_or_else(|| {
        format!(
            "`{hex}` is not 64 lowercase hex digits; copy the digest the Hub shows or leave it out"
        )
    })?;
    let mut text = String::with_capacity(3 + 4 * digest.len());
    text.push_str("b\"");
    for byte in digest {
        text.push_str(&format!("\\x{byte:02x}"));
    }
    text.push('"');
    // The text is a well-formed byte string; the fallback only guards against a lexer change.
    Ok(Some(
        text.parse::<Literal>()
            .unwrap_or_else(|_| Literal::byte_string(&digest)),
    ))
}
