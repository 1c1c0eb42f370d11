//! Tidy checks in the spirit of rust-analyzer's: every Rust file opens with a `//!` line, and
//! the architecture invariants of ARCHITECTURE.md that `cargo metadata` can see hold: which
//! workspace crate may depend on which, dev-only crates stay dev-only, the binaries and
//! suites are depended on by nobody, the runtime trees keep out what they must, and the graph
//! stays acyclic when dev-dependencies (and the features they enable) are counted.
//!
//! [`CRATES`] is the one table of where each crate stands. A crate added to the workspace
//! fails these tests until a line there states its place.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

/// How other crates may depend on a crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A library: other crates may depend on it as their own places allow.
    Library,
    /// Test-only: only ever a dev-dependency (or a normal dependency of another dev-only crate).
    DevOnly,
    /// A binary or suite at the top (xtask, the cross-crate tests): nothing depends on it.
    Top,
}

/// The place of one workspace crate.
#[derive(Debug)]
struct Place {
    name: &'static str,
    role: Role,
    /// The workspace crates it may use as normal dependencies (optional ones included).
    uses: &'static [&'static str],
    /// The workspace crates its build script may use.
    build: &'static [&'static str],
    /// Workspace crates it must never reach, through any dependency of any kind (dev
    /// included) and what those pull in.
    never: &'static [&'static str],
    /// Crates (of the workspace or not) that must not be in its run-time tree: its normal
    /// dependencies, transitively, with all features, not counting what only proc-macros use.
    not_at_run_time: &'static [&'static str],
    /// A leaf: no normal or build dependency at all, not even outside the workspace, so that
    /// every crate (the runtime and the standalone readers included) can use it.
    leaf: bool,
}

impl Place {
    const fn library(name: &'static str, uses: &'static [&'static str]) -> Place {
        Place {
            name,
            role: Role::Library,
            uses,
            build: &[],
            never: &[],
            not_at_run_time: &[],
            leaf: false,
        }
    }

    const fn leaf(name: &'static str) -> Place {
        Place {
            leaf: true,
            ..Place::library(name, &[])
        }
    }
}

/// Crates that do I/O over the network or run an async runtime: the pure crates keep them out.
const IO_STACK: &[&str] = &["tokio", "reqwest", "hyper", "axum"];

/// Where every workspace crate stands: the executable form of ARCHITECTURE.md's invariants.
/// Adding a crate? Add its line here (which workspace crates it may use; what it must never
/// reach) and its section to ARCHITECTURE.md. Changing a boundary? Amend both together.
const CRATES: &[Place] = &[
    // The vocabulary and the one atomic write: leaves, with no dependency at all.
    Place::leaf("ruvltra-vocab"),
    Place::leaf("atomic-file"),
    // Registry types and validation: depends on no HTTP, GGUF or code-generation crate; of the
    // workspace, only on the leaves.
    Place {
        not_at_run_time: &[
            "ruvltra-gguf",
            "ruvltra-codegen",
            "prettyplease",
            "reqwest",
            "hyper",
            "axum",
        ],
        ..Place::library("ruvltra-registry", &["ruvltra-vocab", "atomic-file"])
    },
    // The pure generator: no I/O.
    Place {
        not_at_run_time: IO_STACK,
        ..Place::library("ruvltra-codegen", &["ruvltra-registry", "ruvltra-vocab"])
    },
    // The proc-macro front end: reads one file, no network; ruvllm never depends on it.
    Place {
        not_at_run_time: IO_STACK,
        ..Place::library(
            "ruvltra-registry-macro",
            &["ruvltra-registry", "ruvltra-codegen"],
        )
    },
    // Pure text from the registry: of the workspace only ruvltra-registry and the vocabulary,
    // no I/O.
    Place {
        not_at_run_time: IO_STACK,
        ..Place::library("ruvltra-card", &["ruvltra-registry", "ruvltra-vocab"])
    },
    // Standalone readers: of the workspace, only the leaves.
    Place::library("ruvltra-gguf", &["ruvltra-vocab", "atomic-file"]),
    Place::library("ruvltra-safetensors", &["atomic-file"]),
    // The Xet formats: pure (no I/O, no HTTP, no threads), no workspace crate.
    Place {
        not_at_run_time: IO_STACK,
        ..Place::library("xet-format", &[])
    },
    // The one transport of both clients: no workspace crate (it knows no API shape).
    Place::library("http-transport", &[]),
    // The Hub client knows nothing of the registry or GGUF; it shares no code with hub-server
    // (hub-server is only its tests' peer) but the Xet formats, checked against hf_xet.
    Place {
        never: &["ruvltra-registry", "ruvltra-gguf"],
        ..Place::library("hub-client", &["http-transport", "xet-format"])
    },
    // The local server shares no code with hub-client (nor its transport), not even in its
    // tests; of the workspace it uses only the Xet formats (its CAS), which hub-client may
    // share.
    Place {
        never: &["hub-client", "http-transport"],
        ..Place::library("hub-server", &["xet-format"])
    },
    Place::library("modelscope-client", &["http-transport", "hub-client"]),
    // The uploader plans Xet uploads (xet-format) and keeps its local index of sent xorbs
    // (atomic-file).
    Place::library(
        "ruvltra-uploader",
        &[
            "ruvltra-registry",
            "ruvltra-gguf",
            "ruvltra-safetensors",
            "ruvltra-card",
            "hub-client",
            "modelscope-client",
            // The Xet upload: chunks and xorbs (formats), the local index (atomic writes).
            "xet-format",
            "atomic-file",
        ],
    ),
    Place::library(
        "ruvltra-sync",
        &["ruvltra-registry", "hub-client", "modelscope-client"],
    ),
    // The runtime: the generator stack is a build-dependency only, the uploader and the
    // proc-macro never, and none of them is linked into a program.
    Place {
        name: "ruvllm",
        role: Role::Library,
        uses: &["hub-client", "ruvltra-vocab", "atomic-file", "xet-format"],
        build: &["ruvltra-registry", "ruvltra-codegen"],
        never: &["ruvltra-uploader", "ruvltra-registry-macro"],
        not_at_run_time: &[
            "syn",
            "quote",
            "proc-macro2",
            "prettyplease",
            "ruvltra-codegen",
            "ruvltra-registry",
            "ruvltra-registry-macro",
            "ruvltra-uploader",
        ],
        leaf: false,
    },
    // Test helpers: dev-dependencies only. dev-python is a leaf; test-support's optional
    // features pull in the Hub crates.
    Place {
        role: Role::DevOnly,
        ..Place::leaf("dev-python")
    },
    Place {
        role: Role::DevOnly,
        ..Place::library("test-support", &["dev-python", "hub-server", "hub-client"])
    },
    // The task runner and the cross-crate suite: at the top, depended on by nobody.
    Place {
        role: Role::Top,
        ..Place::library(
            "xtask",
            &[
                "ruvltra-registry",
                "ruvltra-codegen",
                "ruvltra-card",
                "ruvltra-gguf",
                "ruvltra-sync",
                "hub-server",
                "ruvltra-uploader",
                "hub-client",
                "modelscope-client",
                "ruvllm",
            ],
        )
    },
    Place {
        role: Role::Top,
        build: &["ruvltra-registry", "ruvltra-codegen"],
        ..Place::library(
            "ruvltra-tests",
            &[
                "hub-client",
                "hub-server",
                "ruvltra-registry",
                "ruvltra-uploader",
            ],
        )
    },
];

/// Where the table lives, for messages.
const TABLE: &str = "CRATES in tests/tests/tidy.rs";

fn place<'t>(table: &'t [Place], name: &str) -> Option<&'t Place> {
    table.iter().find(|p| p.name == name)
}

// ---------------------------------------------------------------------------------------------
// A workspace as `cargo metadata` sees it.

/// One dependency declaration of a workspace crate.
#[derive(Debug, Clone)]
struct Dep {
    name: String,
    /// `normal`, `build` or `dev`.
    kind: &'static str,
    optional: bool,
    features: Vec<String>,
    default_features: bool,
}

/// A workspace crate: its dependency declarations and its feature table.
#[derive(Debug)]
struct Member {
    name: String,
    manifest: String,
    deps: Vec<Dep>,
    features: BTreeMap<String, Vec<String>>,
}

#[derive(Debug)]
struct Workspace {
    members: BTreeMap<String, Member>,
    metadata: Value,
}

/// This workspace, read once.
fn workspace() -> &'static Workspace {
    static WORKSPACE: OnceLock<Workspace> = OnceLock::new();
    WORKSPACE.get_or_init(|| Workspace::load(&test_support::workspace_root()))
}

impl Workspace {
    /// `cargo metadata` (all features, offline) of the workspace at `root`.
    fn load(root: &Path) -> Workspace {
        let out = Command::new(env!("CARGO"))
            .current_dir(root)
            .args([
                "metadata",
                "--format-version",
                "1",
                "--all-features",
                "--offline",
            ])
            .output()
            .expect("cannot run cargo metadata");
        assert!(
            out.status.success(),
            "cargo metadata failed in {}: {}",
            root.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let metadata: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata JSON");
        let ids: BTreeSet<&str> = metadata["workspace_members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| id.as_str().unwrap())
            .collect();
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default()
        };
        let mut members = BTreeMap::new();
        for package in metadata["packages"].as_array().unwrap() {
            if !ids.contains(package["id"].as_str().unwrap()) {
                continue;
            }
            let name = package["name"].as_str().unwrap().to_owned();
            let deps = package["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| Dep {
                    name: d["name"].as_str().unwrap().to_owned(),
                    kind: match d["kind"].as_str() {
                        None => "normal",
                        Some("build") => "build",
                        Some("dev") => "dev",
                        Some(other) => panic!("unknown dependency kind {other}"),
                    },
                    optional: d["optional"].as_bool().unwrap_or(false),
                    features: strings(&d["features"]),
                    default_features: d["uses_default_features"].as_bool().unwrap_or(true),
                })
                .collect();
            let features = package["features"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), strings(v)))
                .collect();
            let manifest = package["manifest_path"].as_str().unwrap();
            let manifest = Path::new(manifest)
                .strip_prefix(root)
                .unwrap_or(Path::new(manifest))
                .display()
                .to_string();
            members.insert(
                name.clone(),
                Member {
                    name,
                    manifest,
                    deps,
                    features,
                },
            );
        }
        Workspace { members, metadata }
    }

    /// Workspace dependencies of `member` of the given kinds, with the optional ones only
    /// when `features` (plus `default` when `default_features`) enable them.
    fn enabled_deps<'a>(
        &'a self,
        member: &'a Member,
        kinds: &[&str],
        features: &[String],
        default_features: bool,
    ) -> Vec<&'a Dep> {
        let enabled = enabled_optional_deps(member, features, default_features);
        member
            .deps
            .iter()
            .filter(|d| self.members.contains_key(&d.name) && kinds.contains(&d.kind))
            .filter(|d| !d.optional || enabled.contains(&d.name))
            .collect()
    }

    /// The workspace crates `dep` brings in: itself, then what its normal and build
    /// dependencies bring in (optional ones as the requesting edges enable them).
    fn reach(&self, dep: &Dep, seen: &mut BTreeSet<String>) {
        if !seen.insert(dep.name.clone()) {
            return;
        }
        let member = &self.members[&dep.name];
        let next = self.enabled_deps(
            member,
            &["normal", "build"],
            &dep.features,
            dep.default_features,
        );
        for next in next {
            self.reach(next, seen);
        }
    }
}

/// The optional dependencies that `features` (and `default`) switch on in `member`.
fn enabled_optional_deps(
    member: &Member,
    features: &[String],
    default_features: bool,
) -> BTreeSet<String> {
    let mut todo: Vec<String> = features.to_vec();
    if default_features {
        todo.push("default".to_owned());
    }
    let mut done = BTreeSet::new();
    let mut deps = BTreeSet::new();
    while let Some(feature) = todo.pop() {
        if !done.insert(feature.clone()) {
            continue;
        }
        if let Some(list) = member.features.get(&feature) {
            todo.extend(list.iter().cloned());
        } else if let Some(dep) = feature.strip_prefix("dep:") {
            deps.insert(dep.to_owned());
        } else if let Some((dep, _)) = feature.split_once('/') {
            if !dep.ends_with('?') {
                deps.insert(dep.to_owned());
            }
        } else {
            // An optional dependency used as its own implicit feature.
            deps.insert(feature);
        }
    }
    deps
}

// ---------------------------------------------------------------------------------------------
// The checks: each lists every problem it finds.

/// Every crate has a line in `table`, and every line names a crate.
fn place_problems(ws: &Workspace, table: &[Place]) -> Vec<String> {
    let mut problems = Vec::new();
    for member in ws.members.values() {
        if place(table, &member.name).is_none() {
            problems.push(format!(
                "crate `{}` ({}) has no place in the dependency table: add a line for it to \
                 {TABLE} (which workspace crates it may use as normal and build dependencies, \
                 what it must never reach) and its section to ARCHITECTURE.md's code map",
                member.name, member.manifest
            ));
        }
    }
    for p in table {
        if !ws.members.contains_key(p.name) {
            problems.push(format!(
                "{TABLE} has a line for `{}`, which is not a workspace crate: remove it (and its \
                 ARCHITECTURE.md section) or fix the name",
                p.name
            ));
        }
        for used in p.uses.iter().chain(p.build).chain(p.never) {
            if place(table, used).is_none() {
                problems.push(format!(
                    "the line of `{}` in {TABLE} names `{used}`, which has no line itself",
                    p.name
                ));
            }
        }
    }
    problems
}

/// Normal and build dependencies are the ones the table allows; dev-only crates are only
/// dev-dependencies; nothing depends on a crate at the top; leaves depend on nothing.
fn dependency_problems(ws: &Workspace, table: &[Place]) -> Vec<String> {
    let mut problems = Vec::new();
    let fix = "remove the dependency, or if the architecture changed, amend the table and \
               ARCHITECTURE.md together";
    for member in ws.members.values() {
        let Some(here) = place(table, &member.name) else {
            continue; // A problem of place_problems.
        };
        for dep in member.deps.iter() {
            let Some(there) = place(table, &dep.name) else {
                continue; // Not a workspace crate, or a problem of place_problems.
            };
            let allowed = match dep.kind {
                "normal" => here.uses,
                "build" => here.build,
                _ => &[][..],
            };
            if dep.kind != "dev" && !allowed.contains(&dep.name.as_str()) {
                problems.push(format!(
                    "`{}` has `{}` as a {} dependency, which its line in {TABLE} does not allow \
                     (it may use {allowed:?}): {fix}",
                    member.name, dep.name, dep.kind
                ));
            }
            if there.role == Role::DevOnly && dep.kind != "dev" && here.role != Role::DevOnly {
                problems.push(format!(
                    "`{}` has the dev-only `{}` as a {} dependency: it is a dev-dependency only",
                    member.name, dep.name, dep.kind
                ));
            }
            if there.role == Role::Top {
                problems.push(format!(
                    "`{}` depends on `{}` ({}), which sits at the top: nothing depends on it; \
                     move what is shared into a library crate",
                    member.name, dep.name, dep.kind
                ));
            }
        }
    }
    // A leaf can be used by every crate, the standalone ones included, because it depends on
    // nothing at all.
    for p in table.iter().filter(|p| p.leaf) {
        let Some(member) = ws.members.get(p.name) else {
            continue;
        };
        for dep in member.deps.iter().filter(|d| d.kind != "dev") {
            problems.push(format!(
                "the leaf crate `{}` has `{}` as a {} dependency: a leaf depends on nothing, so \
                 that any crate can use it",
                p.name, dep.name, dep.kind
            ));
        }
    }
    problems
}

/// No dependency of any kind (with the features it enables) brings its crate back in, and
/// none reaches what the crate's line says never.
fn graph_problems(ws: &Workspace, table: &[Place]) -> Vec<String> {
    let mut problems = Vec::new();
    for member in ws.members.values() {
        for dep in ws.enabled_deps(member, &["normal", "build", "dev"], &[], true) {
            let mut reached = BTreeSet::new();
            ws.reach(dep, &mut reached);
            let features = if dep.features.is_empty() {
                String::new()
            } else {
                format!(" with features {:?}", dep.features)
            };
            if reached.contains(&member.name) {
                problems.push(format!(
                    "`{}` uses `{}`{features} ({}), which brings `{}` back in ({reached:?}): its \
                     tests would build a second copy of it; use a feature that does not pull it \
                     in, or keep the helper in the crate's own tests",
                    member.name, dep.name, dep.kind, member.name
                ));
            }
            let never = place(table, &member.name).map_or(&[][..], |p| p.never);
            for banned in never.iter().filter(|b| reached.contains(**b)) {
                problems.push(format!(
                    "`{}` reaches `{banned}` through its {} dependency `{}`{features}: its line \
                     in {TABLE} says never",
                    member.name, dep.kind, dep.name
                ));
            }
        }
    }
    problems
}

/// The run-time tree of every crate whose line keeps crates out of it: the crates it reaches
/// through normal dependencies (all features), not counting what only proc-macros use.
fn run_time_trees(ws: &Workspace, table: &[Place]) -> (BTreeMap<String, Vec<String>>, Vec<String>) {
    let metadata = &ws.metadata;
    let mut names = BTreeMap::new();
    let mut proc_macros = BTreeSet::new();
    for package in metadata["packages"].as_array().unwrap() {
        let id = package["id"].as_str().unwrap();
        names.insert(id, package["name"].as_str().unwrap());
        let kinds = package["targets"].as_array().unwrap().iter();
        if kinds
            .flat_map(|t| t["kind"].as_array().unwrap())
            .any(|k| k == "proc-macro")
        {
            proc_macros.insert(id);
        }
    }
    let mut normal_edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for node in metadata["resolve"]["nodes"].as_array().unwrap() {
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].is_null())
            })
            .map(|d| d["pkg"].as_str().unwrap())
            .collect();
        normal_edges.insert(node["id"].as_str().unwrap(), deps);
    }
    let mut problems = Vec::new();
    let mut trees = BTreeMap::new();
    for p in table.iter().filter(|p| !p.not_at_run_time.is_empty()) {
        let Some((start, _)) = names.iter().find(|(_, name)| **name == p.name) else {
            continue;
        };
        // A proc-macro is in the tree; what it uses is not (it runs in the compiler and is
        // never linked into the program).
        let mut seen = BTreeSet::new();
        let mut todo = vec![(*start, vec![p.name])];
        while let Some((id, path)) = todo.pop() {
            if !seen.insert(id) {
                continue;
            }
            let name = names[id];
            if id != *start && p.not_at_run_time.contains(&name) {
                problems.push(format!(
                    "`{name}` is in the run-time tree of `{}` ({}): its line in {TABLE} keeps it \
                     out; make it a build- or dev-dependency, or drop it",
                    p.name,
                    path.join(" -> ")
                ));
            }
            if proc_macros.contains(id) && id != *start {
                continue;
            }
            for next in normal_edges.get(id).into_iter().flatten() {
                let mut next_path = path.clone();
                next_path.push(names[next]);
                todo.push((next, next_path));
            }
        }
        let tree = seen.iter().map(|id| names[id].to_owned()).collect();
        trees.insert(p.name.to_owned(), tree);
    }
    (trees, problems)
}

/// Fails with every problem at once, each on its own line.
#[track_caller]
fn assert_no_problems(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// This workspace.

#[test]
fn every_crate_has_a_place_in_the_table() {
    assert_no_problems(place_problems(workspace(), CRATES));
}

#[test]
fn workspace_dependencies_follow_the_table() {
    assert_no_problems(dependency_problems(workspace(), CRATES));
}

#[test]
fn the_graph_stays_acyclic_with_dev_dependencies_and_their_features() {
    assert_no_problems(graph_problems(workspace(), CRATES));
}

#[test]
fn run_time_trees_keep_out_what_they_must() {
    let (trees, problems) = run_time_trees(workspace(), CRATES);
    // The walk itself is right: ruvllm's run-time tree holds the Hub client and sha2, and
    // stops at proc-macros (thiserror's derive is there, the syn it uses is not).
    let ruvllm = &trees["ruvllm"];
    for expected in ["hub-client", "sha2", "thiserror-impl"] {
        assert!(
            ruvllm.iter().any(|n| n == expected),
            "{expected} missing: {ruvllm:?}"
        );
    }
    assert_no_problems(problems);
}

#[test]
fn every_rust_file_opens_with_a_doc_line() {
    let root = test_support::workspace_root();
    let (checked, problems) = doc_line_problems(&root);
    assert!(checked > 50, "too few .rs files found: {checked}");
    assert_no_problems(problems);
}

/// How many `.rs` files under `root` were read, and those that do not open with `//!`.
fn doc_line_problems(root: &Path) -> (usize, Vec<String>) {
    let files = test_support::workspace_files(root, "rs");
    let mut problems = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let first = text.lines().next().unwrap_or_default();
        if !first.starts_with("//!") {
            problems.push(format!(
                "{}: opens with {first:?}; every .rs file opens with a `//!` line saying why it \
                 exists",
                path.strip_prefix(root).unwrap_or(path).display()
            ));
        }
    }
    (files.len(), problems)
}

#[test]
fn a_file_without_a_doc_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in [
        ("src/lib.rs", "//! Why this exists.\n"),
        ("src/bad.rs", "use std::fs;\n"),
        ("tests/empty.rs", ""),
        ("target/debug/build/out.rs", "fn generated() {}\n"),
    ] {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let (checked, problems) = doc_line_problems(dir.path());
    assert_eq!(checked, 3);
    assert_eq!(
        problems,
        [
            "src/bad.rs: opens with \"use std::fs;\"; every .rs file opens with a `//!` line \
             saying why it exists",
            "tests/empty.rs: opens with \"\"; every .rs file opens with a `//!` line saying why \
             it exists",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// The checks fail when they should: a small workspace that breaks every rule.

/// Writes a crate `name` with `manifest_tail` after its `[package]` table.
fn write_crate(root: &Path, name: &str, manifest_tail: &str) {
    let dir = root.join(name);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
             publish = false\n{manifest_tail}"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        "//! A crate of the tidy test's sample.\n",
    )
    .unwrap();
}

#[test]
fn a_workspace_that_breaks_the_rules_is_reported_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nresolver = \"3\"\nmembers = [\"base\", \"mid\", \"helper\", \"top\", \
         \"user\", \"newcomer\"]\n",
    )
    .unwrap();
    write_crate(root, "base", "");
    // `mid` uses `base` (allowed), the dev-only `helper` as a normal dependency (not allowed),
    // and `helper` with the feature that pulls `mid` itself back in.
    write_crate(
        root,
        "mid",
        "[dependencies]\nbase = { path = \"../base\" }\ntop = { path = \"../top\" }\n\
         [dev-dependencies]\nhelper = { path = \"../helper\", features = [\"mid\"] }\n",
    );
    write_crate(
        root,
        "helper",
        "[dependencies]\nmid = { path = \"../mid\", optional = true }\n\
         [features]\nmid = [\"dep:mid\"]\n",
    );
    write_crate(root, "top", "");
    // `user`, said to be a leaf, takes the dev-only `helper` as a normal dependency.
    write_crate(
        root,
        "user",
        "[dependencies]\nhelper = { path = \"../helper\" }\n",
    );
    write_crate(
        root,
        "newcomer",
        "[dependencies]\nbase = { path = \"../base\" }\n",
    );
    let ws = Workspace::load(root);
    let table = [
        Place {
            not_at_run_time: &["base"],
            never: &["helper"],
            ..Place::library("mid", &["base", "top"])
        },
        Place::library("base", &[]),
        Place {
            role: Role::DevOnly,
            ..Place::library("helper", &["mid"])
        },
        Place {
            role: Role::Top,
            ..Place::library("top", &[])
        },
        // A leaf that is not one.
        Place {
            leaf: true,
            ..Place::library("user", &["helper"])
        },
        Place::library("gone", &["nowhere"]),
    ];

    let places = place_problems(&ws, &table);
    assert_eq!(places.len(), 3, "{places:#?}");
    assert!(places[0].starts_with(
        "crate `newcomer` (newcomer/Cargo.toml) has no place in the dependency table: add a \
         line for it to CRATES in tests/tests/tidy.rs"
    ));
    assert!(places[1].contains("has a line for `gone`, which is not a workspace crate"));
    assert!(places[2].contains("names `nowhere`, which has no line itself"));

    let deps = dependency_problems(&ws, &table);
    assert_eq!(
        deps,
        [
            "`mid` depends on `top` (normal), which sits at the top: nothing depends on it; \
             move what is shared into a library crate",
            "`user` has the dev-only `helper` as a normal dependency: it is a dev-dependency only",
            "the leaf crate `user` has `helper` as a normal dependency: a leaf depends on \
             nothing, so that any crate can use it",
        ],
    );

    let graph = graph_problems(&ws, &table);
    assert_eq!(graph.len(), 2, "{graph:#?}");
    assert!(graph[0].starts_with(
        "`mid` uses `helper` with features [\"mid\"] (dev), which brings `mid` back in"
    ));
    assert!(graph[1].starts_with("`mid` reaches `helper` through its dev dependency `helper`"));

    let (_, run_time) = run_time_trees(&ws, &table);
    assert_eq!(run_time.len(), 1, "{run_time:#?}");
    assert!(run_time[0].starts_with("`base` is in the run-time tree of `mid` (mid -> base)"));

    // Without the feature, the dev-dependency on the helper would bring in nothing else.
    let helper_plain = ws.members["mid"]
        .deps
        .iter()
        .map(|d| Dep {
            features: Vec::new(),
            ..d.clone()
        })
        .find(|d| d.name == "helper")
        .unwrap();
    let mut reached = BTreeSet::new();
    ws.reach(&helper_plain, &mut reached);
    assert_eq!(reached, BTreeSet::from(["helper".to_owned()]));
}
