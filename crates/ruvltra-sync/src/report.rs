//! The report of a reconciliation: every change sync makes and every difference it sees,
//! as data (for `--json`) and as lines for people.

use std::fmt;

use serde::Serialize;

use crate::snapshot::Origin;

/// How much a finding matters, loudest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A sha256 on the Hub (or ModelScope) differs from the one the registry already had.
    Drift,
    /// The registry and the Hub (or ModelScope) disagree in a way sync does not repair by
    /// itself.
    Error,
    /// Sync updates the registry to match the Hub.
    Change,
    /// Worth a look, but no difference between the registry and the Hub.
    Notice,
    /// Expected and harmless.
    Info,
}

impl Severity {
    fn label(self) -> &'static str {
        match self {
            Severity::Drift => "DRIFT",
            Severity::Error => "MISSING",
            Severity::Change => "change",
            Severity::Notice => "notice",
            Severity::Info => "info",
        }
    }
}

/// What was found. The names speak of the Hub; in a finding whose `source` is
/// [`Origin::ModelScope`] they mean the ModelScope mirror (`hub` fields hold its values and
/// `HubStateUpdated` is about `model.modelscope`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FindingKind {
    /// The file's size in the registry was absent or differed from the Hub's.
    BytesUpdated {
        /// The registry's value before sync.
        old: Option<u64>,
        /// The Hub's value.
        new: u64,
    },
    /// The registry had no sha256 for the file; the Hub's is taken.
    Sha256Filled {
        /// The Hub's sha256.
        new: String,
    },
    /// The Hub's sha256 differs from the one already in the registry: the file was replaced
    /// on the Hub, or the registry is wrong. Taken only with `--accept`.
    Drift {
        /// The registry's sha256.
        registry: String,
        /// The Hub's sha256.
        hub: String,
        /// The registry's size.
        registry_bytes: Option<u64>,
        /// The Hub's size.
        hub_bytes: u64,
        /// True when `--accept` made the registry take the Hub's values.
        accepted: bool,
    },
    /// The model's Hub state (resolved commit, tags at it) was absent or changed.
    HubStateUpdated {
        /// The commit recorded before, if any.
        old_commit: Option<String>,
        /// The commit the revision resolves to now.
        commit: String,
        /// The tags recorded before.
        old_tags: Vec<String>,
        /// The tags at `commit` now, sorted.
        tags: Vec<String>,
    },
    /// A file following the naming convention is on the Hub but not in the registry; a model
    /// was added for it with `needs_review`.
    ModelAdded {
        /// Number of files of the new model (shards of a split GGUF count one each).
        files: usize,
    },
    /// A published (or deprecated) model's file is not on the Hub. It is not deleted.
    MissingOnHub {
        /// The model's status (`published`, `deprecated`).
        status: String,
    },
    /// A planned model is not on the Hub yet, as expected.
    PlannedAbsent,
    /// A planned model's file is on the Hub: consider setting its status to `published`.
    PlannedOnHub,
    /// The file is a regular git file, not LFS, so the Hub gives no sha256 for it; the
    /// registry's sha256 is left as it is.
    NoHubSha256,
    /// The file on the Hub is empty; the registry is left as it is.
    EmptyOnHub,
    /// A convention-named file on the Hub was not added to the registry.
    NotAdded {
        /// Why not, and what to do.
        reason: String,
    },
    /// The snapshot holds nothing for this model's repository and revision.
    NotFetched,
    /// The model's ModelScope repository does not exist (or is private to another token).
    RepoNotFound {
        /// The model's status: `planned` makes this expected (info), any other an error.
        status: String,
    },
    /// The model's ModelScope repository exists, but not its branch or tag.
    RevisionNotFound {
        /// The model's status: `planned` makes this expected (info), any other an error.
        status: String,
    },
    /// A convention-named GGUF is on ModelScope in a repository where no registry model
    /// lists it. Sync adds models from the Hub only, so it is reported, not added.
    OnlyOnModelScope,
}

impl FindingKind {
    /// True when sync changes the registry because of this finding.
    pub fn is_change(&self) -> bool {
        match self {
            FindingKind::BytesUpdated { .. }
            | FindingKind::Sha256Filled { .. }
            | FindingKind::HubStateUpdated { .. }
            | FindingKind::ModelAdded { .. } => true,
            FindingKind::Drift { accepted, .. } => *accepted,
            _ => false,
        }
    }

    /// True when the registry (before sync) does not match the Hub: `--check` fails.
    pub fn is_difference(&self) -> bool {
        self.is_change()
            || matches!(
                self,
                FindingKind::Drift { .. }
                    | FindingKind::MissingOnHub { .. }
                    | FindingKind::NotFetched
            )
            || self.is_absent_error()
    }

    /// A repository or revision that does not exist, for a model that should be on it.
    fn is_absent_error(&self) -> bool {
        matches!(
            self,
            FindingKind::RepoNotFound { status } | FindingKind::RevisionNotFound { status }
                if status != "planned"
        )
    }

    /// True when the registry still does not match the Hub after sync: sync exits 1.
    pub fn is_remaining(&self) -> bool {
        matches!(
            self,
            FindingKind::Drift {
                accepted: false,
                ..
            } | FindingKind::MissingOnHub { .. }
                | FindingKind::NotFetched
        ) || self.is_absent_error()
    }

    /// How loud to be about it.
    pub fn severity(&self) -> Severity {
        match self {
            FindingKind::Drift { .. } => Severity::Drift,
            FindingKind::MissingOnHub { .. } | FindingKind::NotFetched => Severity::Error,
            FindingKind::RepoNotFound { .. } | FindingKind::RevisionNotFound { .. } => {
                if self.is_absent_error() {
                    Severity::Error
                } else {
                    Severity::Info
                }
            }
            FindingKind::PlannedAbsent => Severity::Info,
            FindingKind::PlannedOnHub
            | FindingKind::NoHubSha256
            | FindingKind::EmptyOnHub
            | FindingKind::NotAdded { .. }
            | FindingKind::OnlyOnModelScope => Severity::Notice,
            _ => Severity::Change,
        }
    }
}

/// One finding, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// The registry it was read from (`hub` or `modelscope`).
    pub source: Origin,
    /// The registry model it concerns (for an added model, the new id).
    pub model: Option<String>,
    /// The repository (on ModelScope for a ModelScope finding).
    pub repo: String,
    /// The revision, as the registry names it.
    pub revision: String,
    /// The file in the repository, when it concerns one file.
    pub file: Option<String>,
    /// True when sync changes the registry because of it.
    pub change: bool,
    /// True when the registry (before sync) does not match the Hub because of it.
    pub difference: bool,
    /// True when the registry still does not match the Hub after sync because of it.
    pub remaining: bool,
    /// What was found.
    #[serde(flatten)]
    pub kind: FindingKind,
}

impl Finding {
    /// A finding about the Hub; the flags and severity follow from `kind`.
    pub fn new(
        model: Option<&str>,
        repo: &str,
        revision: &str,
        file: Option<&str>,
        kind: FindingKind,
    ) -> Finding {
        Finding {
            severity: kind.severity(),
            source: Origin::Hub,
            model: model.map(str::to_owned),
            repo: repo.to_owned(),
            revision: revision.to_owned(),
            file: file.map(str::to_owned),
            change: kind.is_change(),
            difference: kind.is_difference(),
            remaining: kind.is_remaining(),
            kind,
        }
    }

    /// The same finding, about `source`.
    pub fn from_source(mut self, source: Origin) -> Finding {
        self.source = source;
        self
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The Hub's lines are what they always were; ModelScope's name their site and the
        // commands that act on it.
        let ms = self.source == Origin::ModelScope;
        let site = self.source.site();
        let sites = self.source.sites();
        let (from, to) = if ms {
            (" --from modelscope", " --to modelscope")
        } else {
            ("", "")
        };
        write!(
            f,
            "{:<7} {}{}@{}",
            self.severity.label(),
            if ms { "modelscope:" } else { "" },
            self.repo,
            self.revision
        )?;
        if let Some(file) = &self.file {
            write!(f, " {file}")?;
        }
        if let Some(model) = &self.model {
            write!(f, " (model {model})")?;
        }
        f.write_str(": ")?;
        match &self.kind {
            FindingKind::BytesUpdated { old: None, new } => write!(f, "bytes set to {new}"),
            FindingKind::BytesUpdated {
                old: Some(old),
                new,
            } => {
                write!(f, "bytes {old} -> {new}")
            }
            FindingKind::Sha256Filled { new } => write!(f, "sha256 set to {new}"),
            FindingKind::Drift {
                registry,
                hub,
                registry_bytes,
                hub_bytes,
                accepted,
            } => {
                let old_bytes = registry_bytes.map_or("unknown".to_owned(), |b| b.to_string());
                write!(
                    f,
                    "{sites} sha256 {hub} ({hub_bytes} bytes) differs from the registry's \
                     {registry} ({old_bytes} bytes); the file was replaced on {site} or the \
                     registry is wrong; "
                )?;
                if *accepted {
                    write!(f, "{sites} value was accepted (--accept)")
                } else {
                    write!(
                        f,
                        "the registry keeps its value: check the file, then run \
                         `cargo xtask sync{from} --accept` to take {sites} value or re-publish \
                         the registry's file"
                    )?;
                    if ms {
                        f.write_str(" (`cargo xtask publish --to modelscope`)")?;
                    }
                    Ok(())
                }
            }
            FindingKind::HubStateUpdated {
                old_commit,
                commit,
                old_tags,
                tags,
            } => {
                let what = if ms { "modelscope" } else { "hub" };
                match old_commit {
                    Some(old) if old != commit => write!(f, "{what} commit {old} -> {commit}")?,
                    Some(_) => write!(f, "{what} commit {commit}")?,
                    None => write!(f, "{what} commit set to {commit}")?,
                }
                if old_tags != tags {
                    write!(
                        f,
                        ", tags [{}] -> [{}]",
                        old_tags.join(", "),
                        tags.join(", ")
                    )?;
                }
                Ok(())
            }
            FindingKind::ModelAdded { files } => write!(
                f,
                "added from {site} ({files} file{}) with needs_review: review its fields",
                if *files == 1 { "" } else { "s" }
            ),
            FindingKind::MissingOnHub { status } => write!(
                f,
                "the {status} model's file is not on {site}; publish it{}, fix `file`, or set \
                 `status` to `planned` (the model was not deleted)",
                if ms {
                    " (`cargo xtask publish --to modelscope`)"
                } else {
                    ""
                }
            ),
            FindingKind::PlannedAbsent => write!(f, "planned, not on {site} yet (expected)"),
            FindingKind::PlannedOnHub => write!(
                f,
                "the planned model's file is on {site}; set `status` to `published` when it \
                 is released",
            ),
            FindingKind::NoHubSha256 if ms => f.write_str(
                "ModelScope lists no sha256 for it; the registry's sha256 is left as it is",
            ),
            FindingKind::NoHubSha256 => f.write_str(
                "not an LFS file, so the Hub gives no sha256 for it; the registry's sha256 is \
                 left as it is",
            ),
            FindingKind::EmptyOnHub => {
                write!(
                    f,
                    "the file on {site} is empty; the registry is left as it is"
                )
            }
            FindingKind::NotAdded { reason } => write!(f, "not added to the registry: {reason}"),
            FindingKind::NotFetched => write!(
                f,
                "this repository and revision were not read from {site}; run sync{from} again",
            ),
            FindingKind::RepoNotFound { status } => {
                write!(
                    f,
                    "the {status} model's repository does not exist on {site} (or is private \
                     and the token may not read it)"
                )?;
                if status == "planned" {
                    f.write_str(" (expected)")
                } else {
                    write!(
                        f,
                        "; publish it first with `cargo xtask publish{to}`, then run \
                         `cargo xtask sync{from}`"
                    )
                }
            }
            FindingKind::RevisionNotFound { status } => {
                write!(
                    f,
                    "the {status} model's revision is not a branch or tag of the repository on \
                     {site}"
                )?;
                if status == "planned" {
                    f.write_str(" (expected)")
                } else {
                    write!(
                        f,
                        "; publish it first with `cargo xtask publish{to}` (with `--branch` or \
                         `--tag` for a revision other than the default branch), then run \
                         `cargo xtask sync{from}`"
                    )
                }
            }
            FindingKind::OnlyOnModelScope => f.write_str(
                "a convention-named GGUF on ModelScope that no registry model lists in this \
                 repository; sync adds models from the Hub only, so add it to the registry and \
                 publish it, or delete it from ModelScope",
            ),
        }
    }
}

/// Every finding of one reconciliation, in a stable order: registry models in file order
/// (their files in order), then added models and files not added, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// The findings.
    pub findings: Vec<Finding>,
}

impl SyncReport {
    /// True when sync changes the registry.
    pub fn changes_registry(&self) -> bool {
        self.findings.iter().any(|f| f.change)
    }

    /// The findings that make `--check` fail.
    pub fn differences(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.difference)
    }

    /// The findings that still stand after sync (and make it exit 1).
    pub fn remaining(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.remaining)
    }

    /// The drift findings, accepted or not.
    pub fn drift(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| matches!(f.kind, FindingKind::Drift { .. }))
    }

    pub(crate) fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }
}
