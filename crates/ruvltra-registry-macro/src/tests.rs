//! Unit tests of the expansion: it is the generator's tokens plus the tracking constant,
//! paths resolve against the calling crate, and a bad registry gives the build script's lines
//! as compile errors.

use std::fs;

use proc_macro2::{Span, TokenTree};

use super::*;

/// Every fixture registry of the generator, sorted, and the workspace's `registry.json`.
fn registries() -> Vec<PathBuf> {
    let dir = test_support::workspace_root().join("crates/ruvltra-codegen/tests/fixtures");
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("list the generator's fixtures")
        .map(|entry| entry.expect("fixture entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 5, "the fixtures went missing: {paths:?}");
    paths.push(test_support::workspace_root().join("registry.json"));
    paths
}

/// The macro's argument: one string literal.
fn argument(text: &str) -> TokenStream {
    let literal = LitStr::new(text, Span::call_site());
    quote!(#literal)
}

fn utf8(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// The messages of every error, in order.
fn messages(err: syn::Error) -> Vec<String> {
    err.into_iter().map(|e| e.to_string()).collect()
}

#[test]
fn the_expansion_is_the_generated_module_then_one_tracking_constant() {
    for path in registries() {
        let registry = ruvltra_registry::load(&path).expect("the fixtures are valid");
        let generated = ruvltra_codegen::generate(&registry).expect("the fixtures generate");
        let expanded = try_expand(argument(utf8(&path)), None).expect("the macro expands");

        let generated_len = generated.clone().into_iter().count();
        let trees: Vec<TokenTree> = expanded.clone().into_iter().collect();
        assert!(trees.len() > generated_len, "{}", path.display());
        let head: TokenStream = trees[..generated_len].iter().cloned().collect();
        let tail: TokenStream = trees[generated_len..].iter().cloned().collect();
        assert_eq!(
            head.to_string(),
            generated.to_string(),
            "{}",
            path.display()
        );
        let tracked = LitStr::new(utf8(&path), Span::call_site());
        assert_eq!(
            tail.to_string(),
            quote!(
                const _: &[u8] = ::core::include_bytes!(#tracked);
            )
            .to_string()
        );
        // The whole expansion is a valid list of items.
        let file: syn::File = syn::parse2(expanded).expect("the expansion parses as items");
        assert!(matches!(file.items.last(), Some(syn::Item::Const(c)) if c.ident == "_"));
    }
}

#[test]
fn a_relative_path_is_taken_from_the_calling_crate() {
    let manifest_dir = test_support::workspace_root().join("crates/ruvltra-registry-macro");
    let written = "../ruvltra-codegen/tests/fixtures/one_model.json";
    let expanded = try_expand(argument(written), Some(&manifest_dir)).expect("expands");
    let tracked = LitStr::new(utf8(&manifest_dir.join(written)), Span::call_site());
    let text = expanded.to_string();
    assert!(
        text.ends_with(&quote!(::core::include_bytes!(#tracked);).to_string()),
        "the tracked path must be absolute: {text}"
    );
    assert!(text.contains("RUVLTRA_CLAUDE_CODE_0_5B_Q4_K_M"));

    // Without cargo's variable a relative path has no base; an absolute one still works.
    let err = try_expand(argument(written), None).expect_err("no base directory");
    assert_eq!(
        messages(err),
        [format!(
            "CARGO_MANIFEST_DIR is not set, so the relative registry path `{written}` has no \
             base; build with cargo or give an absolute path"
        )]
    );
    let absolute = manifest_dir.join(written);
    assert!(try_expand(argument(utf8(&absolute)), None).is_ok());
}

#[test]
fn the_argument_is_one_string_literal() {
    let usage = "expected the registry path as one string literal, \
                 such as ruvltra_registry!(\"registry.json\")";
    let one =
        test_support::workspace_root().join("crates/ruvltra-codegen/tests/fixtures/one_model.json");
    let literal = LitStr::new(utf8(&one), Span::call_site());
    assert!(
        try_expand(quote!(#literal,), None).is_ok(),
        "a trailing comma is fine"
    );
    for wrong in [
        quote!(),
        quote!(registry_json),
        quote!(#literal, #literal),
        quote!(#literal;),
        quote!(b"registry.json"),
    ] {
        let err = try_expand(wrong.clone(), None).expect_err("rejected");
        assert_eq!(messages(err), [usage], "input: {wrong}");
    }
}

/// Writes `json` to a temporary registry and returns its path, the build script's message
/// lines without its framing, and the macro's messages.
fn both_errors(json: &str) -> (PathBuf, Vec<String>, Vec<String>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bad-registry.json");
    fs::write(&path, json).expect("write the fixture");
    let build = build_script::generate_source(&path).expect_err("build.rs rejects it");
    let mut lines: Vec<String> = build.lines().map(str::to_owned).collect();
    // The build script frames the detail with a line naming itself and a hint about its
    // environment variable; neither applies to the macro.
    assert!(lines.len() >= 3, "{build}");
    assert!(lines[0].starts_with("error: ruvllm cannot build its model registry from "));
    assert!(lines[lines.len() - 1].starts_with("(fix the file, or set RUVLLM_REGISTRY"));
    lines.remove(0);
    lines.pop();
    let err = try_expand(argument(utf8(&path)), None).expect_err("the macro rejects it");
    (path, lines, messages(err), dir)
}

const VALID: &str = r#"{"schema_version":1,"repo":"ruv/ruvltra","revision":"main","models":[
  {"id":"ruvltra-small-0.5b-q4_k_m","file":"ruvltra-small-0.5b-q4_k_m.gguf","quant":"q4_k_m","size":"0.5b","variant":"small"}]}"#;

#[test]
fn validation_problems_are_the_build_scripts_lines_one_error_each() {
    let json = VALID
        .replace(r#""quant":"q4_k_m""#, r#""quant":"q4_k_x""#)
        .replace(r#""variant""#, r#""sha256":"ABC","variant""#);
    let (path, build, macro_lines, _dir) = both_errors(&json);
    assert_eq!(macro_lines, build);
    assert_eq!(
        macro_lines[0],
        format!("registry {} has 2 problems; fix them:", path.display())
    );
    assert!(
        macro_lines[1..]
            .iter()
            .any(|l| l.contains("/models/0/quant"))
    );
    assert!(
        macro_lines[1..]
            .iter()
            .any(|l| l.contains("/models/0/sha256"))
    );
    assert!(
        macro_lines[1..]
            .iter()
            .all(|l| l.contains("ruvltra-small-0.5b-q4_k_m")),
        "{macro_lines:?}"
    );
}

/// Values of the wrong type in two models: both front ends list them all, with ids and paths.
#[test]
fn type_errors_are_the_build_scripts_lines_one_error_each() {
    let second = r#"{"id":"ruvltra-small-0.5b-q8_0","file":"ruvltra-small-0.5b-q8_0.gguf","quant":"q8_0","size":"0.5b","variant":"small","bytes":"12"}]}"#;
    let json = VALID.replace(
        r#""variant":"small"}]}"#,
        &format!(r#""variant":"small","bytes":-5}},{second}"#),
    );
    let (path, build, macro_lines, _dir) = both_errors(&json);
    assert_eq!(macro_lines, build);
    assert_eq!(
        macro_lines,
        [
            format!("registry {} has 2 problems; fix them:", path.display()),
            "/models/0/bytes (ruvltra-small-0.5b-q4_k_m): invalid value: integer `-5`, expected \
             u64; fix the value (registry.schema.json says what each key takes)"
                .to_owned(),
            "/models/1/bytes (ruvltra-small-0.5b-q8_0): invalid type: string \"12\", expected \
             u64; fix the value (registry.schema.json says what each key takes)"
                .to_owned(),
        ]
    );
}

#[test]
fn generation_problems_are_the_build_scripts_lines() {
    // Valid for the registry (kind `file` has no naming rule), but both ids give `NOTES_1_0`.
    let json = r#"{"schema_version":1,"repo":"ruv/ruvltra","revision":"main","models":[
        {"id":"notes-1.0","file":"a.md","quant":"f16","size":"1b","kind":"file"},
        {"id":"notes-1_0","file":"b.md","quant":"f16","size":"1b","kind":"file"}]}"#;
    let (path, build, macro_lines, _dir) = both_errors(json);
    assert_eq!(macro_lines, build);
    assert_eq!(
        macro_lines,
        [
            format!(
                "registry {} cannot be turned into Rust constants; fix these entries:",
                path.display()
            ),
            "model `notes-1_0`: the id gives the constant name `NOTES_1_0`, as does model \
             `notes-1.0`; ids must differ in more than punctuation and case"
                .to_owned(),
        ]
    );
}

#[test]
fn malformed_and_missing_files_are_the_build_scripts_lines() {
    let (path, build, macro_lines, dir) = both_errors("{\"schema_version\": 1,\n  \"repo\": }");
    assert_eq!(macro_lines, build);
    assert_eq!(macro_lines.len(), 1);
    assert!(macro_lines[0].contains(&path.display().to_string()));
    assert!(macro_lines[0].contains("line 2, column"), "{macro_lines:?}");

    let missing = dir.path().join("missing.json");
    let build = build_script::generate_source(&missing).expect_err("missing");
    let err = try_expand(argument(utf8(&missing)), None).expect_err("missing");
    let macro_lines = messages(err);
    assert_eq!(macro_lines.len(), 1);
    assert_eq!(build.lines().nth(1), Some(macro_lines[0].as_str()));
    assert!(macro_lines[0].starts_with(&format!("cannot read registry {}", missing.display())));
}

#[test]
fn an_error_expands_to_compile_errors_and_nothing_else() {
    let tokens = expand(argument("/nonexistent/registry.json"), None);
    let text = tokens.to_string();
    assert!(text.contains("compile_error"), "{text}");
    assert!(
        text.contains("cannot read registry /nonexistent/registry.json"),
        "{text}"
    );
    assert!(!text.contains("include_bytes"), "{text}");
    assert!(!text.contains("ModelSpec"), "{text}");
}
