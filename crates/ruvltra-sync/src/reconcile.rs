//! The pure core of sync: registry + Hub snapshot -> updated registry + report. No I/O, no
//! clock (the time stamp comes in through [`SyncOptions`]), so every rule is unit-tested.
//!
//! Rules, per registry model at its repository and revision:
//! * every file found on the Hub gets the Hub's `bytes` and `sha256`; a sha256 that differs
//!   from one already set is drift: the file keeps its `bytes` and `sha256` (both, so they
//!   stay a consistent pair) unless `accept` is set;
//! * `hub` records the resolved commit and the sorted tags at it. `synced_at` is rewritten
//!   only when something else of the model changed (its Hub state or a file fact), so a sync
//!   with no Hub change gives a byte-identical file. A model with unaccepted drift keeps its
//!   old Hub state, which still describes the files the registry vouches for;
//! * a file that is not on the Hub is reported: a planned model as info, any other as an
//!   error that `--check` fails on. Nothing is deleted;
//! * a convention-named GGUF on the Hub that no registry model lists (in that repository) is
//!   added as a new model with `needs_review`, after the existing models, sorted by id;
//!   shards 2..N of a split belong to shard 1's model, and an incomplete split is reported,
//!   not added.
//!
//! A ModelScope snapshot ([`Origin::ModelScope`]) follows the same file rules at each model's
//! `modelscope_repo_name` and `modelscope_revision`, with three differences:
//! * the resolved commit, tags and `synced_at` go to `model.modelscope`, never `model.hub`;
//! * a repository or revision that does not exist is reported per model (an error for a
//!   published or deprecated model, with the advice to run `cargo xtask publish --to
//!   modelscope` first; info for a planned one);
//! * nothing is added: the Hub is where models are released and the registry's source of new
//!   entries, so a convention-named GGUF found only on ModelScope is a notice (it makes no
//!   registry fact wrong, and sync could not repair it, so `--check` does not fail on it).

use std::collections::{BTreeMap, HashSet};

use ruvltra_registry::naming::{ParsedName, parse_file_name};
use ruvltra_registry::{ArtifactKind, ExtraFile, HubState, Model, Registry, Status};

use crate::report::{Finding, FindingKind, SyncReport};
use crate::snapshot::{Absence, HubFile, HubSnapshot, Origin, RevisionSnapshot};

/// How to reconcile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOptions {
    /// Take the Hub's (or ModelScope's) sha256 and size where they differ from the
    /// registry's (drift).
    pub accept: bool,
    /// The RFC 3339 UTC time written to `synced_at` where the Hub (or ModelScope) state is
    /// rewritten.
    pub now: String,
}

/// Reconciles `registry` with `hub` (a snapshot of the Hub or of ModelScope, see
/// [`HubSnapshot::origin`]): returns the updated registry and the report of every change and
/// difference. Every field sync does not own (descriptions, hardware, unknown keys, ...) is
/// carried over untouched.
pub fn reconcile(
    registry: &Registry,
    hub: &HubSnapshot,
    opts: &SyncOptions,
) -> (Registry, SyncReport) {
    let origin = hub.origin();
    let mut out = registry.clone();
    let mut report = SyncReport::default();
    for model in &mut out.models {
        let (repo, revision) = match origin {
            Origin::Hub => (model.repo(registry), model.revision(registry)),
            Origin::ModelScope => (
                model.modelscope_repo_name(registry),
                model.modelscope_revision(registry),
            ),
        };
        let (repo, revision) = (repo.to_owned(), revision.to_owned());
        let place = Place {
            origin,
            repo: &repo,
            revision: &revision,
        };
        match (hub.get(&repo, &revision), hub.absence(&repo, &revision)) {
            (Some(snap), _) => sync_model(model, place, snap, opts, &mut report),
            (None, Some(absence)) => {
                let status = model.status.as_str().to_owned();
                let kind = match absence {
                    Absence::Repo => FindingKind::RepoNotFound { status },
                    Absence::Revision => FindingKind::RevisionNotFound { status },
                };
                report.push(place.finding(Some(&model.id), None, kind));
            }
            (None, None) => {
                report.push(place.finding(Some(&model.id), None, FindingKind::NotFetched));
            }
        }
    }
    match origin {
        Origin::Hub => add_new_models(registry, hub, opts, &mut out, &mut report),
        Origin::ModelScope => report_modelscope_only(registry, hub, &mut report),
    }
    (out, report)
}

/// A repository at a revision of one registry, for findings.
#[derive(Clone, Copy)]
struct Place<'a> {
    origin: Origin,
    repo: &'a str,
    revision: &'a str,
}

impl Place<'_> {
    fn finding(self, model: Option<&str>, file: Option<&str>, kind: FindingKind) -> Finding {
        Finding::new(model, self.repo, self.revision, file, kind).from_source(self.origin)
    }
}

/// Reports every convention-named GGUF of a ModelScope snapshot that no registry model lists
/// in that ModelScope repository, once per repository and path (at the first revision that
/// has it), sorted by repository and path.
fn report_modelscope_only(registry: &Registry, hub: &HubSnapshot, report: &mut SyncReport) {
    let known: HashSet<(&str, &str)> = registry
        .models
        .iter()
        .flat_map(|m| {
            let repo = m.modelscope_repo_name(registry);
            m.all_files().map(move |(file, _, _)| (repo, file))
        })
        .collect();
    let mut seen: HashSet<(&str, &str)> = HashSet::new();
    for (repo, revision, snap) in hub.iter() {
        let place = Place {
            origin: Origin::ModelScope,
            repo,
            revision,
        };
        for path in snap.files.keys() {
            let key = (repo, path.as_str());
            if known.contains(&key) || !seen.insert(key) {
                continue;
            }
            let Some(parsed) = parse_file_name(path) else {
                continue;
            };
            report.push(place.finding(
                Some(&parsed.stem()),
                Some(path),
                FindingKind::OnlyOnModelScope,
            ));
        }
    }
}

/// What happened to one file of a model.
#[derive(Default)]
struct FileOutcome {
    /// Its `bytes` or `sha256` changed.
    changed: bool,
    /// Drift was found and not accepted.
    held_back: bool,
}

fn sync_model(
    model: &mut Model,
    place: Place<'_>,
    snap: &RevisionSnapshot,
    opts: &SyncOptions,
    report: &mut SyncReport,
) {
    let id = model.id.clone();
    let status = model.status;
    let mut changed = false;
    let mut held_back = false;
    let main_found = snap.files.contains_key(&model.file);

    let mut files: Vec<(&str, &mut Option<u64>, &mut Option<String>)> =
        vec![(&model.file, &mut model.bytes, &mut model.sha256)];
    for extra in &mut model.extra_files {
        files.push((&extra.file, &mut extra.bytes, &mut extra.sha256));
    }
    for (path, bytes, sha256) in files {
        let found = snap.files.get(path);
        let outcome = sync_file(&id, status, place, path, found, bytes, sha256, opts, report);
        changed |= outcome.changed;
        held_back |= outcome.held_back;
    }

    if status == Status::Planned && main_found {
        report.push(place.finding(Some(&id), Some(&model.file), FindingKind::PlannedOnHub));
    }
    if !main_found || held_back {
        return;
    }
    let mut tags = snap.tags.clone();
    tags.sort();
    tags.dedup();
    let state = match place.origin {
        Origin::Hub => &mut model.hub,
        Origin::ModelScope => &mut model.modelscope,
    };
    let same_state = state
        .as_ref()
        .is_some_and(|h| h.commit == snap.commit && h.tags == tags);
    if same_state && !changed {
        return;
    }
    if !same_state {
        report.push(place.finding(
            Some(&id),
            None,
            FindingKind::HubStateUpdated {
                old_commit: state.as_ref().map(|h| h.commit.clone()),
                commit: snap.commit.clone(),
                old_tags: state.as_ref().map(|h| h.tags.clone()).unwrap_or_default(),
                tags: tags.clone(),
            },
        ));
    }
    match state {
        Some(hub) => {
            hub.commit.clone_from(&snap.commit);
            hub.tags = tags;
            hub.synced_at.clone_from(&opts.now);
        }
        None => {
            *state = Some(HubState {
                commit: snap.commit.clone(),
                synced_at: opts.now.clone(),
                tags,
                extra: BTreeMap::new(),
            });
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn sync_file(
    id: &str,
    status: Status,
    place: Place<'_>,
    path: &str,
    found: Option<&HubFile>,
    bytes: &mut Option<u64>,
    sha256: &mut Option<String>,
    opts: &SyncOptions,
    report: &mut SyncReport,
) -> FileOutcome {
    let mut outcome = FileOutcome::default();
    let mut push = |kind| report.push(place.finding(Some(id), Some(path), kind));
    let Some(hub) = found else {
        push(match status {
            Status::Planned => FindingKind::PlannedAbsent,
            Status::Published | Status::Deprecated => FindingKind::MissingOnHub {
                status: status.as_str().into(),
            },
        });
        return outcome;
    };
    if hub.size == 0 {
        // The registry's `bytes` must be positive; an empty upload is no model.
        push(FindingKind::EmptyOnHub);
        return outcome;
    }
    match (&hub.sha256, sha256.as_deref()) {
        (Some(hub_sha), Some(registry_sha)) if hub_sha != registry_sha => {
            push(FindingKind::Drift {
                registry: registry_sha.to_owned(),
                hub: hub_sha.clone(),
                registry_bytes: *bytes,
                hub_bytes: hub.size,
                accepted: opts.accept,
            });
            if opts.accept {
                *sha256 = Some(hub_sha.clone());
                *bytes = Some(hub.size);
                outcome.changed = true;
            } else {
                outcome.held_back = true;
            }
            return outcome;
        }
        (Some(hub_sha), None) => {
            push(FindingKind::Sha256Filled {
                new: hub_sha.clone(),
            });
            *sha256 = Some(hub_sha.clone());
            outcome.changed = true;
        }
        (Some(_), Some(_)) => {}
        (None, _) => push(FindingKind::NoHubSha256),
    }
    if *bytes != Some(hub.size) {
        push(FindingKind::BytesUpdated {
            old: *bytes,
            new: hub.size,
        });
        *bytes = Some(hub.size);
        outcome.changed = true;
    }
    outcome
}

/// Convention-named files of one directory and stem in one snapshot.
#[derive(Default)]
struct Group {
    parsed: Option<ParsedName>,
    /// The unsplit file, when there is one.
    single: Option<String>,
    /// Shards by number: (path, shard count its name says).
    shards: BTreeMap<u32, (String, u32)>,
}

fn add_new_models(
    registry: &Registry,
    hub: &HubSnapshot,
    opts: &SyncOptions,
    out: &mut Registry,
    report: &mut SyncReport,
) {
    let known: HashSet<(&str, &str)> = registry
        .models
        .iter()
        .flat_map(|m| {
            let repo = m.repo(registry);
            m.all_files().map(move |(file, _, _)| (repo, file))
        })
        .collect();
    let mut ids: HashSet<String> = registry.models.iter().map(|m| m.id.clone()).collect();
    let mut added_files: HashSet<(String, String)> = HashSet::new();
    let mut added: Vec<Model> = Vec::new();
    let mut not_added: Vec<Finding> = Vec::new();

    // The registry's default repository and revision first, so that a file seen at several
    // revisions is added with the default one.
    let mut snapshots: Vec<(&str, &str, &RevisionSnapshot)> = hub.iter().collect();
    snapshots.sort_by_key(|(repo, rev, _)| *repo != registry.repo || *rev != registry.revision);

    for (repo, revision, snap) in snapshots {
        let place = Place {
            origin: Origin::Hub,
            repo,
            revision,
        };
        let mut groups: BTreeMap<(Option<&str>, String), Group> = BTreeMap::new();
        for path in snap.files.keys() {
            if known.contains(&(repo, path.as_str())) {
                continue;
            }
            let Some(parsed) = parse_file_name(path) else {
                continue;
            };
            let dir = path.rsplit_once('/').map(|(dir, _)| dir);
            let group = groups.entry((dir, parsed.stem())).or_default();
            match parsed.split {
                None => group.single = Some(path.clone()),
                Some((no, count)) => {
                    group.shards.insert(no, (path.clone(), count));
                }
            }
            group.parsed.get_or_insert(parsed);
        }
        for ((_, stem), group) in groups {
            let Some(parsed) = group.parsed else { continue };
            let mut reject = |file: &str, reason: String| {
                not_added.push(place.finding(
                    Some(&stem),
                    Some(file),
                    FindingKind::NotAdded { reason },
                ));
            };
            let files: Vec<String> = match (&group.single, group.shards.is_empty()) {
                (Some(single), true) => vec![single.clone()],
                (Some(single), false) => {
                    for (path, _) in group.shards.values() {
                        reject(
                            path,
                            format!(
                                "the unsplit file {single} has the same name stem; remove one \
                                 of them from the Hub"
                            ),
                        );
                    }
                    vec![single.clone()]
                }
                (None, _) => match complete_split(&group.shards) {
                    Ok(files) => files,
                    Err(reason) => {
                        let first = group.shards.values().next().map(|(p, _)| p.as_str());
                        reject(first.unwrap_or_default(), reason);
                        continue;
                    }
                },
            };
            let main = &files[0];
            if added_files.contains(&(repo.to_owned(), main.clone())) {
                // The same file at another revision of the repository: added once.
                continue;
            }
            if ids.contains(&stem) {
                reject(
                    main,
                    format!(
                        "the id {stem} is already used by another model (another path or \
                         repository); rename the file or add it to the registry by hand"
                    ),
                );
                continue;
            }
            if let Some(empty) = files.iter().find(|f| snap.files[*f].size == 0) {
                reject(empty, "the file is empty; upload the real file".into());
                continue;
            }
            let model = new_model(registry, place, snap, &stem, &parsed, &files, opts);
            if let Some(problem) = model_problem(registry, &model) {
                // An odd path (say, an upper-case folder) must not block the whole sync.
                reject(
                    main,
                    format!("the new entry would be invalid ({problem}); add it by hand"),
                );
                continue;
            }
            added_files.insert((repo.to_owned(), main.clone()));
            ids.insert(model.id.clone());
            added.push(model);
        }
    }

    added.sort_by(|a, b| a.id.cmp(&b.id));
    for model in &added {
        let repo = model.repo.as_deref().unwrap_or(&registry.repo);
        let revision = model.revision.as_deref().unwrap_or(&registry.revision);
        report.push(Finding::new(
            Some(&model.id),
            repo,
            revision,
            Some(&model.file),
            FindingKind::ModelAdded {
                files: 1 + model.extra_files.len(),
            },
        ));
    }
    not_added.sort_by(|a, b| (&a.repo, &a.file, &a.revision).cmp(&(&b.repo, &b.file, &b.revision)));
    for finding in not_added {
        report.push(finding);
    }
    out.models.extend(added);
}

/// The first validation problem of `model`, checked alone in a copy of the registry's header.
fn model_problem(registry: &Registry, model: &Model) -> Option<String> {
    let alone = Registry {
        schema_version: registry.schema_version,
        repo: registry.repo.clone(),
        revision: registry.revision.clone(),
        catalog: registry.catalog.clone(),
        models: vec![model.clone()],
        extra: registry.extra.clone(),
    };
    let problems = ruvltra_registry::validate(&alone).err()?;
    problems
        .0
        .into_iter()
        .find(|p| p.path.starts_with("/models/0"))
        .map(|p| p.message)
}

/// The shard files 1..=N of a split in order, or why the split is unusable.
fn complete_split(shards: &BTreeMap<u32, (String, u32)>) -> Result<Vec<String>, String> {
    let counts: HashSet<u32> = shards.values().map(|(_, count)| *count).collect();
    if counts.len() != 1 {
        return Err(
            "its shards disagree on the shard count; re-split the model and upload every shard"
                .into(),
        );
    }
    let count = *counts.iter().next().expect("one count");
    let missing: Vec<String> = (1..=count)
        .filter(|no| !shards.contains_key(no))
        .take(5)
        .map(|no| no.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the split of {count} shards is incomplete on the Hub (missing shard {}); upload \
             every shard",
            missing.join(", ")
        ));
    }
    Ok(shards.values().map(|(path, _)| path.clone()).collect())
}

fn new_model(
    registry: &Registry,
    place: Place<'_>,
    snap: &RevisionSnapshot,
    stem: &str,
    parsed: &ParsedName,
    files: &[String],
    opts: &SyncOptions,
) -> Model {
    let facts = |path: &str| {
        let file = &snap.files[path];
        (Some(file.size), file.sha256.clone())
    };
    let (bytes, sha256) = facts(&files[0]);
    let mut tags = snap.tags.clone();
    tags.sort();
    tags.dedup();
    let mut model = Model::new(
        stem,
        files[0].clone(),
        parsed.quant.label(),
        parsed.size.clone(),
    );
    model.variant = parsed.variant.clone();
    model.kind = if parsed.quant.is_full_precision() {
        ArtifactKind::GgufFullPrecision
    } else {
        ArtifactKind::Gguf
    };
    model.repo = (place.repo != registry.repo).then(|| place.repo.to_owned());
    model.revision = (place.revision != registry.revision).then(|| place.revision.to_owned());
    model.bytes = bytes;
    model.sha256 = sha256;
    model.extra_files = files[1..]
        .iter()
        .map(|path| {
            let (bytes, sha256) = facts(path);
            ExtraFile {
                file: path.clone(),
                bytes,
                sha256,
                extra: BTreeMap::new(),
            }
        })
        .collect();
    model.hub = Some(HubState {
        commit: snap.commit.clone(),
        synced_at: opts.now.clone(),
        tags,
        extra: BTreeMap::new(),
    });
    model.needs_review = true;
    model
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Severity;

    const SHA_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const SHA_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const SHA_C: &str = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
    const COMMIT_1: &str = "1111111111111111111111111111111111111111";
    const COMMIT_2: &str = "2222222222222222222222222222222222222222";
    const T0: &str = "2026-01-01T00:00:00Z";
    const T1: &str = "2026-02-02T00:00:00Z";

    /// A registry with one published model (hand-written fields and unknown keys) and one
    /// planned model, in `ruv/ruvltra` at `main`.
    const REGISTRY: &str = r#"{
      "$schema": "./registry.schema.json",
      "schema_version": 1,
      "repo": "ruv/ruvltra",
      "revision": "main",
      "catalog": {"title": "RuvLTRA", "x-catalog-note": [1, 2]},
      "models": [
        {"id": "ruvltra-small-0.5b-q4_k_m", "file": "ruvltra-small-0.5b-q4_k_m.gguf",
         "quant": "q4_k_m", "size": "0.5b", "variant": "small",
         "description": "Hand-written description.",
         "hardware": {"min_ram_mib": 1024, "x-hw": true},
         "benchmarks": [{"name": "tok/s", "value": 42.5, "x-bench": "kept"}],
         "fallback_urls": ["https://example.com/small.gguf"],
         "x-custom": {"nested": ["kept"]}},
        {"id": "ruvltra-small-0.5b-q8_0", "file": "ruvltra-small-0.5b-q8_0.gguf",
         "quant": "q8_0", "size": "0.5b", "variant": "small", "status": "planned"}
      ],
      "x-top-level": "kept"
    }"#;

    fn registry(text: &str) -> Registry {
        let reg = ruvltra_registry::parse(text).unwrap();
        ruvltra_registry::validate(&reg).unwrap();
        reg
    }

    fn lfs(size: u64, sha: &str) -> HubFile {
        HubFile {
            size,
            sha256: Some(sha.to_owned()),
        }
    }

    fn snap(commit: &str, tags: &[&str], files: &[(&str, HubFile)]) -> RevisionSnapshot {
        RevisionSnapshot {
            commit: commit.to_owned(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            files: files
                .iter()
                .map(|(p, f)| ((*p).to_owned(), f.clone()))
                .collect(),
        }
    }

    fn hub_of(repo: &str, rev: &str, s: RevisionSnapshot) -> HubSnapshot {
        let mut hub = HubSnapshot::new();
        hub.insert(repo, rev, s);
        hub
    }

    fn opts(accept: bool, now: &str) -> SyncOptions {
        SyncOptions {
            accept,
            now: now.to_owned(),
        }
    }

    fn kinds(report: &SyncReport) -> Vec<(Option<&str>, &FindingKind)> {
        report
            .findings
            .iter()
            .map(|f| (f.file.as_deref(), &f.kind))
            .collect()
    }

    #[test]
    fn fills_sizes_hashes_and_hub_state_then_changes_nothing() {
        let reg = registry(REGISTRY);
        let hub = hub_of(
            "ruv/ruvltra",
            "main",
            snap(
                COMMIT_1,
                &["v2", "v1"],
                &[
                    ("ruvltra-small-0.5b-q4_k_m.gguf", lfs(1234, SHA_A)),
                    (
                        "README.md",
                        HubFile {
                            size: 10,
                            sha256: None,
                        },
                    ),
                ],
            ),
        );
        let (out, report) = reconcile(&reg, &hub, &opts(false, T0));
        let small = &out.models[0];
        assert_eq!(small.bytes, Some(1234));
        assert_eq!(small.sha256.as_deref(), Some(SHA_A));
        let state = small.hub.as_ref().unwrap();
        assert_eq!(
            (
                state.commit.as_str(),
                state.synced_at.as_str(),
                state.tags.clone()
            ),
            (COMMIT_1, T0, vec!["v1".to_owned(), "v2".to_owned()])
        );
        // The planned model is absent: reported as info, untouched.
        assert_eq!(out.models[1], reg.models[1]);
        assert!(report.changes_registry());
        assert_eq!(report.remaining().count(), 0);
        let planned: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::PlannedAbsent)
            .collect();
        assert_eq!(planned.len(), 1);
        assert_eq!(planned[0].severity, Severity::Info);
        assert!(!planned[0].difference);
        ruvltra_registry::validate(&out).unwrap();

        // A second run at a later time changes nothing, not even `synced_at`.
        let (again, report) = reconcile(&out, &hub, &opts(false, T1));
        assert_eq!(
            ruvltra_registry::to_canonical_json(&again),
            ruvltra_registry::to_canonical_json(&out)
        );
        assert!(!report.changes_registry());
        assert_eq!(report.differences().count(), 0);
    }

    #[test]
    fn hand_written_fields_and_unknown_keys_survive() {
        let reg = registry(REGISTRY);
        let hub = hub_of(
            "ruv/ruvltra",
            "main",
            snap(
                COMMIT_1,
                &[],
                &[("ruvltra-small-0.5b-q4_k_m.gguf", lfs(99, SHA_A))],
            ),
        );
        let (out, _) = reconcile(&reg, &hub, &opts(false, T0));
        let before: serde_json::Value = serde_json::to_value(&reg).unwrap();
        let mut after: serde_json::Value = serde_json::to_value(&out).unwrap();
        // Remove exactly what sync owns; everything else must be equal.
        for key in ["bytes", "sha256", "hub"] {
            after["models"][0].as_object_mut().unwrap().remove(key);
        }
        assert_eq!(before, after);
        // And the unknown keys really are there (not both missing).
        assert_eq!(after["x-top-level"], "kept");
        assert_eq!(after["models"][0]["x-custom"]["nested"][0], "kept");
        assert_eq!(after["models"][0]["hardware"]["x-hw"], true);
        assert_eq!(after["models"][0]["benchmarks"][0]["x-bench"], "kept");
        assert_eq!(after["catalog"]["x-catalog-note"][1], 2);
    }

    #[test]
    fn drift_is_held_back_without_accept_and_taken_with_it() {
        let reg = registry(REGISTRY);
        let (synced, _) = reconcile(
            &reg,
            &hub_of(
                "ruv/ruvltra",
                "main",
                snap(
                    COMMIT_1,
                    &[],
                    &[("ruvltra-small-0.5b-q4_k_m.gguf", lfs(100, SHA_A))],
                ),
            ),
            &opts(false, T0),
        );
        // Someone replaced the file on the Hub.
        let replaced = hub_of(
            "ruv/ruvltra",
            "main",
            snap(
                COMMIT_2,
                &[],
                &[("ruvltra-small-0.5b-q4_k_m.gguf", lfs(200, SHA_B))],
            ),
        );
        let (held, report) = reconcile(&synced, &replaced, &opts(false, T1));
        assert_eq!(
            held, synced,
            "without --accept nothing of the model changes"
        );
        let drift: Vec<_> = report.drift().collect();
        assert_eq!(drift.len(), 1);
        assert_eq!(drift[0].severity, Severity::Drift);
        assert_eq!(
            drift[0].file.as_deref(),
            Some("ruvltra-small-0.5b-q4_k_m.gguf")
        );
        assert!(drift[0].remaining && drift[0].difference && !drift[0].change);
        let line = drift[0].to_string();
        assert!(line.starts_with("DRIFT"), "{line}");
        assert!(line.contains(SHA_A) && line.contains(SHA_B), "{line}");
        assert!(line.contains("--accept"), "{line}");

        let (taken, report) = reconcile(&synced, &replaced, &opts(true, T1));
        let small = &taken.models[0];
        assert_eq!(
            (small.bytes, small.sha256.as_deref()),
            (Some(200), Some(SHA_B))
        );
        let state = small.hub.as_ref().unwrap();
        assert_eq!(
            (state.commit.as_str(), state.synced_at.as_str()),
            (COMMIT_2, T1)
        );
        assert_eq!(report.remaining().count(), 0);
        assert!(report.drift().all(|f| f.change));
    }

    #[test]
    fn a_new_commit_or_tag_updates_the_hub_state_and_synced_at() {
        let reg = registry(REGISTRY);
        let files = [("ruvltra-small-0.5b-q4_k_m.gguf", lfs(100, SHA_A))];
        let (synced, _) = reconcile(
            &reg,
            &hub_of("ruv/ruvltra", "main", snap(COMMIT_1, &[], &files)),
            &opts(false, T0),
        );
        let (tagged, report) = reconcile(
            &synced,
            &hub_of("ruv/ruvltra", "main", snap(COMMIT_1, &["v1.0"], &files)),
            &opts(false, T1),
        );
        let state = tagged.models[0].hub.as_ref().unwrap();
        assert_eq!(
            (state.tags.clone(), state.synced_at.as_str()),
            (vec!["v1.0".to_owned()], T1)
        );
        assert!(
            matches!(
                report.findings[..],
                [
                    ..,
                    Finding {
                        kind: FindingKind::HubStateUpdated { .. },
                        change: true,
                        ..
                    },
                    _
                ]
            ),
            "{:?}",
            report.findings
        );
        // Only the model's own facts changed: the planned model is identical.
        assert_eq!(tagged.models[1], synced.models[1]);
    }

    #[test]
    fn missing_published_model_is_reported_not_deleted() {
        let reg = registry(REGISTRY);
        let hub = hub_of("ruv/ruvltra", "main", snap(COMMIT_1, &[], &[]));
        let (out, report) = reconcile(&reg, &hub, &opts(false, T0));
        assert_eq!(out, reg);
        let missing: Vec<_> = report.remaining().collect();
        assert_eq!(missing.len(), 1);
        assert_eq!(
            missing[0].model.as_deref(),
            Some("ruvltra-small-0.5b-q4_k_m")
        );
        assert_eq!(missing[0].severity, Severity::Error);
        assert!(!report.changes_registry());
    }

    #[test]
    fn new_convention_named_files_are_added_for_review_sorted_and_grouped() {
        let reg = registry(REGISTRY);
        let hub = hub_of(
            "ruv/ruvltra",
            "main",
            snap(
                COMMIT_1,
                &["v1"],
                &[
                    ("ruvltra-small-0.5b-q4_k_m.gguf", lfs(100, SHA_A)),
                    ("ruvltra-medium-1.1b-q4_k_m.gguf", lfs(300, SHA_B)),
                    ("ruvltra-3b-f16.gguf", lfs(400, SHA_C)),
                    (
                        "big/ruvltra-large-7b-q8_0-00001-of-00002.gguf",
                        lfs(10, SHA_A),
                    ),
                    (
                        "big/ruvltra-large-7b-q8_0-00002-of-00002.gguf",
                        lfs(20, SHA_B),
                    ),
                    ("ruvltra-huge-70b-q4_0-00001-of-00003.gguf", lfs(10, SHA_A)),
                    ("ruvltra-huge-70b-q4_0-00003-of-00003.gguf", lfs(10, SHA_B)),
                    ("notes/other-model.gguf", lfs(5, SHA_C)),
                    (
                        "README.md",
                        HubFile {
                            size: 10,
                            sha256: None,
                        },
                    ),
                ],
            ),
        );
        let (out, report) = reconcile(&reg, &hub, &opts(false, T0));
        let ids: Vec<&str> = out.models.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "ruvltra-small-0.5b-q4_k_m",
                "ruvltra-small-0.5b-q8_0",
                "ruvltra-3b-f16",
                "ruvltra-large-7b-q8_0",
                "ruvltra-medium-1.1b-q4_k_m",
            ]
        );
        let f16 = &out.models[2];
        assert_eq!(
            (
                f16.quant.as_str(),
                f16.size.as_str(),
                f16.variant.as_deref(),
                f16.kind
            ),
            ("f16", "3b", None, ArtifactKind::GgufFullPrecision)
        );
        assert!(f16.needs_review && f16.status == Status::Published);
        assert_eq!((f16.bytes, f16.sha256.as_deref()), (Some(400), Some(SHA_C)));
        assert_eq!(f16.hub.as_ref().unwrap().tags, ["v1"]);
        assert!(f16.repo.is_none() && f16.revision.is_none());
        let large = &out.models[3];
        assert_eq!(large.file, "big/ruvltra-large-7b-q8_0-00001-of-00002.gguf");
        assert_eq!(large.variant.as_deref(), Some("large"));
        assert_eq!(large.extra_files.len(), 1);
        assert_eq!(
            (
                large.extra_files[0].file.as_str(),
                large.extra_files[0].bytes
            ),
            ("big/ruvltra-large-7b-q8_0-00002-of-00002.gguf", Some(20))
        );
        // The incomplete split is reported, not added.
        let not_added: Vec<_> = report
            .findings
            .iter()
            .filter(|f| matches!(f.kind, FindingKind::NotAdded { .. }))
            .collect();
        assert_eq!(not_added.len(), 1, "{not_added:?}");
        assert!(
            not_added[0].to_string().contains("missing shard 2"),
            "{}",
            not_added[0]
        );
        assert!(!not_added[0].difference);
        // The output is a valid registry, and a second sync adds nothing more.
        ruvltra_registry::validate(&out).unwrap();
        let (again, report) = reconcile(&out, &hub, &opts(false, T1));
        assert_eq!(again, out);
        assert!(!report.changes_registry());
    }

    #[test]
    fn an_added_id_that_collides_is_not_added() {
        // The registry has the stem at another path.
        let reg = registry(&REGISTRY.replace(
            r#""file": "ruvltra-small-0.5b-q8_0.gguf""#,
            r#""file": "old/ruvltra-small-0.5b-q8_0.gguf""#,
        ));
        let hub = hub_of(
            "ruv/ruvltra",
            "main",
            snap(
                COMMIT_1,
                &[],
                &[("ruvltra-small-0.5b-q8_0.gguf", lfs(5, SHA_A))],
            ),
        );
        let (out, report) = reconcile(&reg, &hub, &opts(false, T0));
        assert_eq!(out.models.len(), 2);
        assert!(
            report.findings.iter().any(|f| matches!(&f.kind, FindingKind::NotAdded { reason } if reason.contains("already used"))),
            "{:?}",
            report.findings
        );
    }

    #[test]
    fn a_new_file_the_registry_could_not_hold_is_reported_not_added() {
        let reg = registry(REGISTRY);
        // A path longer than the registry allows (1024 bytes), though the Hub accepts it.
        let long = format!("{}ruvltra-deep-1b-q4_0.gguf", "d/".repeat(600));
        let hub = hub_of(
            "ruv/ruvltra",
            "main",
            snap(
                COMMIT_1,
                &[],
                &[
                    ("ruvltra-small-0.5b-q4_k_m.gguf", lfs(1, SHA_A)),
                    (long.as_str(), lfs(2, SHA_B)),
                ],
            ),
        );
        let (out, report) = reconcile(&reg, &hub, &opts(false, T0));
        assert_eq!(out.models.len(), 2);
        let not_added: Vec<_> = report
            .findings
            .iter()
            .filter(
                |f| matches!(&f.kind, FindingKind::NotAdded { reason } if reason.contains("1024")),
            )
            .collect();
        assert_eq!(not_added.len(), 1, "{:?}", report.findings);
        assert_eq!(not_added[0].file.as_deref(), Some(long.as_str()));
        ruvltra_registry::validate(&out).unwrap();
    }

    #[test]
    fn pins_and_repo_overrides_read_their_own_snapshot() {
        let reg = registry(&REGISTRY.replace(
            r#""status": "planned"}"#,
            r#""repo": "ruv/other", "revision": "v1"}"#,
        ));
        let mut hub = hub_of(
            "ruv/ruvltra",
            "main",
            snap(
                COMMIT_1,
                &[],
                &[
                    ("ruvltra-small-0.5b-q4_k_m.gguf", lfs(1, SHA_A)),
                    // The pinned model's file name, but in another repository: no registry
                    // model lists it here, and its id is taken, so it is reported.
                    ("ruvltra-small-0.5b-q8_0.gguf", lfs(9, SHA_C)),
                ],
            ),
        );
        hub.insert(
            "ruv/other",
            "v1",
            snap(
                COMMIT_2,
                &["v1"],
                &[
                    ("ruvltra-small-0.5b-q8_0.gguf", lfs(2, SHA_B)),
                    ("ruvltra-tiny-1b-q4_0.gguf", lfs(3, SHA_C)),
                ],
            ),
        );
        let (out, report) = reconcile(&reg, &hub, &opts(false, T0));
        let pinned = &out.models[1];
        assert_eq!(
            (pinned.bytes, pinned.sha256.as_deref()),
            (Some(2), Some(SHA_B))
        );
        let state = pinned.hub.as_ref().unwrap();
        assert_eq!(
            (state.commit.as_str(), state.tags.clone()),
            (COMMIT_2, vec!["v1".to_owned()])
        );
        // The file of ruv/ruvltra with the pinned model's id is not added (id taken); the new
        // file of ruv/other is added with that repository and revision.
        let tiny = out
            .models
            .iter()
            .find(|m| m.id == "ruvltra-tiny-1b-q4_0")
            .unwrap();
        assert_eq!(
            (tiny.repo.as_deref(), tiny.revision.as_deref()),
            (Some("ruv/other"), Some("v1"))
        );
        assert_eq!(out.models.len(), 3);
        assert!(
            report
                .findings
                .iter()
                .any(|f| matches!(f.kind, FindingKind::NotAdded { .. }) && f.repo == "ruv/ruvltra")
        );
        ruvltra_registry::validate(&out).unwrap();
    }

    #[test]
    fn regular_files_update_bytes_but_keep_the_sha256() {
        let reg = registry(&REGISTRY.replace(
            r#""x-custom""#,
            &format!(r#""sha256": "{SHA_A}", "x-custom""#),
        ));
        let hub = hub_of(
            "ruv/ruvltra",
            "main",
            snap(
                COMMIT_1,
                &[],
                &[(
                    "ruvltra-small-0.5b-q4_k_m.gguf",
                    HubFile {
                        size: 77,
                        sha256: None,
                    },
                )],
            ),
        );
        let (out, report) = reconcile(&reg, &hub, &opts(false, T0));
        assert_eq!(
            (out.models[0].bytes, out.models[0].sha256.as_deref()),
            (Some(77), Some(SHA_A))
        );
        assert!(kinds(&report).contains(&(
            Some("ruvltra-small-0.5b-q4_k_m.gguf"),
            &FindingKind::NoHubSha256
        )));
    }

    fn modelscope_of(repo: &str, rev: &str, s: RevisionSnapshot) -> HubSnapshot {
        let mut ms = HubSnapshot::of(Origin::ModelScope);
        ms.insert(repo, rev, s);
        ms
    }

    #[test]
    fn a_modelscope_snapshot_fills_the_modelscope_state_and_adds_nothing() {
        let reg = registry(&REGISTRY.replace(
            r#""title": "RuvLTRA""#,
            r#""title": "RuvLTRA", "modelscope_repo": "ruvnet/ruvltra""#,
        ));
        let files = [
            ("ruvltra-small-0.5b-q4_k_m.gguf", lfs(100, SHA_A)),
            ("ruvltra-new-1b-q4_0.gguf", lfs(5, SHA_B)),
        ];
        // The Hub first, then the mirror at a different commit.
        let (synced, _) = reconcile(
            &reg,
            &hub_of("ruv/ruvltra", "main", snap(COMMIT_1, &[], &files[..1])),
            &opts(false, T0),
        );
        // A mirror snapshot under the Hub's names is not the model's mirror: nothing read.
        let (_, wrong) = reconcile(
            &synced,
            &modelscope_of("ruv/ruvltra", "main", snap(COMMIT_2, &[], &files)),
            &opts(false, T1),
        );
        assert!(
            wrong
                .findings
                .iter()
                .any(|f| f.model.as_deref() == Some("ruvltra-small-0.5b-q4_k_m")
                    && f.kind == FindingKind::NotFetched
                    && f.remaining)
        );
        assert!(!wrong.changes_registry());
        let ms = modelscope_of("ruvnet/ruvltra", "master", snap(COMMIT_2, &["v1"], &files));
        let (out, report) = reconcile(&synced, &ms, &opts(false, T1));
        let small = &out.models[0];
        assert_eq!(
            small.hub, synced.models[0].hub,
            "the Hub state is untouched"
        );
        let state = small.modelscope.as_ref().unwrap();
        assert_eq!(
            (
                state.commit.as_str(),
                state.synced_at.as_str(),
                state.tags.clone()
            ),
            (COMMIT_2, T1, vec!["v1".to_owned()])
        );
        // The unknown GGUF is a notice, not a new model.
        assert_eq!(out.models.len(), 2);
        let only: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::OnlyOnModelScope)
            .collect();
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].file.as_deref(), Some("ruvltra-new-1b-q4_0.gguf"));
        assert!(!only[0].difference && only[0].source == Origin::ModelScope);
        assert!(
            report
                .findings
                .iter()
                .all(|f| f.source == Origin::ModelScope)
        );
        assert_eq!(report.remaining().count(), 0);
        ruvltra_registry::validate(&out).unwrap();
        // A second run changes nothing.
        let (again, report) = reconcile(&out, &ms, &opts(false, T0));
        assert_eq!(again, out);
        assert!(!report.changes_registry());
    }

    #[test]
    fn an_absent_modelscope_repository_is_an_error_only_for_released_models() {
        let reg = registry(REGISTRY);
        let mut ms = HubSnapshot::of(Origin::ModelScope);
        // Without a catalog mirror, the Hub repository's name at `master`.
        ms.insert_absent("ruv/ruvltra", "master", Absence::Repo);
        let (out, report) = reconcile(&reg, &ms, &opts(false, T0));
        assert_eq!(out, reg);
        let severities: Vec<_> = report
            .findings
            .iter()
            .map(|f| (f.model.as_deref().unwrap(), f.severity, f.remaining))
            .collect();
        assert_eq!(
            severities,
            [
                ("ruvltra-small-0.5b-q4_k_m", Severity::Error, true),
                ("ruvltra-small-0.5b-q8_0", Severity::Info, false),
            ]
        );
        assert!(
            report.findings[0]
                .to_string()
                .contains("cargo xtask publish --to modelscope")
        );
    }

    #[test]
    fn a_repository_missing_from_the_snapshot_is_a_remaining_difference() {
        let reg = registry(REGISTRY);
        let (out, report) = reconcile(&reg, &HubSnapshot::new(), &opts(false, T0));
        assert_eq!(out, reg);
        assert_eq!(report.remaining().count(), 2);
        assert!(
            report
                .findings
                .iter()
                .all(|f| f.kind == FindingKind::NotFetched)
        );
    }
}
