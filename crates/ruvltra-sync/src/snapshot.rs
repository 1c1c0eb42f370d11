//! What sync read from the Hub, as plain data: the input of the pure [`reconcile`](crate::reconcile).

use std::collections::BTreeMap;

/// One file of a revision's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubFile {
    /// Its size in bytes (the content size for LFS files).
    pub size: u64,
    /// Lowercase hex sha256 of the content, known for LFS files only (a regular git file is
    /// identified by its git blob sha1, which is no sha256).
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

/// The Hub as sync saw it: one [`RevisionSnapshot`] per repository and revision (as the
/// registry writes them: a branch, tag or commit).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HubSnapshot {
    revisions: BTreeMap<(String, String), RevisionSnapshot>,
}

impl HubSnapshot {
    /// An empty snapshot.
    pub fn new() -> HubSnapshot {
        HubSnapshot::default()
    }

    /// Records `repo` at `revision`, replacing an earlier record of the same pair.
    pub fn insert(&mut self, repo: &str, revision: &str, snapshot: RevisionSnapshot) {
        self.revisions
            .insert((repo.to_owned(), revision.to_owned()), snapshot);
    }

    /// The record of `repo` at `revision`.
    pub fn get(&self, repo: &str, revision: &str) -> Option<&RevisionSnapshot> {
        self.revisions.get(&(repo.to_owned(), revision.to_owned()))
    }

    /// Every record as `(repo, revision, snapshot)`, sorted by repository then revision.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &RevisionSnapshot)> {
        self.revisions
            .iter()
            .map(|((repo, rev), snap)| (repo.as_str(), rev.as_str(), snap))
    }

    /// How many repository/revision pairs are recorded.
    pub fn len(&self) -> usize {
        self.revisions.len()
    }

    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.revisions.is_empty()
    }
}
