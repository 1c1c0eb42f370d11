//! What sync read from one registry (the Hub or ModelScope), as plain data. It is the crate's
//! bottom layer: the fetchers fill it and the pure reconciliation reads it, and it depends on
//! neither.

use std::collections::BTreeMap;

use serde::Serialize;

/// The registry a snapshot was read from, and the model fields it is reconciled into.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Origin {
    /// The Hugging Face Hub: a model's `repo` at its `revision`; state in `model.hub`. New
    /// convention-named files are added to the registry for review.
    #[default]
    #[serde(rename = "hub")]
    Hub,
    /// The ModelScope mirror: a model's `modelscope_repo_name` at its `modelscope_revision`
    /// (`main` is `master`); state in `model.modelscope`. Nothing is added from it.
    #[serde(rename = "modelscope")]
    ModelScope,
}

impl Origin {
    /// The name used in messages: `the Hub` or `ModelScope`.
    pub fn site(self) -> &'static str {
        match self {
            Origin::Hub => "the Hub",
            Origin::ModelScope => "ModelScope",
        }
    }

    /// The possessive used in messages: `the Hub's` or `ModelScope's`.
    pub fn sites(self) -> &'static str {
        match self {
            Origin::Hub => "the Hub's",
            Origin::ModelScope => "ModelScope's",
        }
    }

    /// The name of `cargo xtask sync --from` and of the JSON `source` field.
    pub fn label(self) -> &'static str {
        match self {
            Origin::Hub => "hub",
            Origin::ModelScope => "modelscope",
        }
    }
}

/// One file of a revision's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubFile {
    /// Its size in bytes (the content size for LFS files).
    pub size: u64,
    /// Lowercase hex sha256 of the content. The Hub gives it for LFS files only (a regular git
    /// file is identified by its git blob sha1, which is no sha256); ModelScope's listing
    /// gives it for every file.
    pub sha256: Option<String>,
}

/// One repository at one revision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevisionSnapshot {
    /// The 40-hex commit the revision resolved to; the tree below is the tree of this commit.
    pub commit: String,
    /// The tags pointing at `commit`, sorted.
    pub tags: Vec<String>,
    /// Every file of the commit's tree by path.
    pub files: BTreeMap<String, HubFile>,
}

/// Why a repository and revision the registry names has no [`RevisionSnapshot`]: the
/// registry answered that it does not exist (only ModelScope's reads record this; on the
/// Hub it is an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Absence {
    /// The repository does not exist (or is private and the token may not see it).
    Repo,
    /// The repository exists, but the branch or tag does not.
    Revision,
}

/// One registry as sync saw it: one [`RevisionSnapshot`] per repository and revision (as the
/// registry writes them: a branch, tag or commit; for ModelScope the mirror's names), and
/// the ones found not to exist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HubSnapshot {
    origin: Origin,
    revisions: BTreeMap<(String, String), RevisionSnapshot>,
    absent: BTreeMap<(String, String), Absence>,
}

impl HubSnapshot {
    /// An empty snapshot of the Hub.
    pub fn new() -> HubSnapshot {
        HubSnapshot::default()
    }

    /// An empty snapshot of `origin`.
    pub fn of(origin: Origin) -> HubSnapshot {
        HubSnapshot {
            origin,
            ..HubSnapshot::default()
        }
    }

    /// The registry this snapshot was read from.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// Records `repo` at `revision`, replacing an earlier record of the same pair.
    pub fn insert(&mut self, repo: &str, revision: &str, snapshot: RevisionSnapshot) {
        let key = (repo.to_owned(), revision.to_owned());
        self.absent.remove(&key);
        self.revisions.insert(key, snapshot);
    }

    /// Records that `repo` at `revision` does not exist, replacing an earlier record.
    pub fn insert_absent(&mut self, repo: &str, revision: &str, absence: Absence) {
        let key = (repo.to_owned(), revision.to_owned());
        self.revisions.remove(&key);
        self.absent.insert(key, absence);
    }

    /// The record of `repo` at `revision`.
    pub fn get(&self, repo: &str, revision: &str) -> Option<&RevisionSnapshot> {
        self.revisions.get(&(repo.to_owned(), revision.to_owned()))
    }

    /// Why `repo` at `revision` has no record, when it was found not to exist.
    pub fn absence(&self, repo: &str, revision: &str) -> Option<Absence> {
        self.absent
            .get(&(repo.to_owned(), revision.to_owned()))
            .copied()
    }

    /// Every record as `(repo, revision, snapshot)`, sorted by repository then revision.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &RevisionSnapshot)> {
        self.revisions
            .iter()
            .map(|((repo, rev), snap)| (repo.as_str(), rev.as_str(), snap))
    }

    /// How many repository/revision pairs are recorded (absent ones not counted).
    pub fn len(&self) -> usize {
        self.revisions.len()
    }

    /// True when no repository/revision pair is recorded (absent ones not counted).
    pub fn is_empty(&self) -> bool {
        self.revisions.is_empty()
    }
}
