//! Verification: read the Hub's tree back and compare every path with the manifest, reporting
//! every difference at once; `deep` also downloads each file and hashes it again.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::StreamExt as _;
use hub_client::{EntryKind, HubClient, RepoId, Sha256, TreeEntry, git_blob_sha1};
use serde::Serialize;
use sha2::Digest as _;

use crate::error::UploadError;
use crate::event::{Event, Observer};
use crate::plan::{Content, HUB_OWNED, Wanted};

/// What the Hub must hold at one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// The path in the repository.
    pub path: String,
    /// The content size, when known.
    pub size: Option<u64>,
    /// The content sha256, when known.
    pub sha256: Option<Sha256>,
    /// For small files stored inline (not LFS): the git blob id of the content.
    pub git_oid: Option<String>,
}

impl ManifestEntry {
    /// The manifest entry of a wanted file.
    pub fn of(wanted: &Wanted) -> ManifestEntry {
        ManifestEntry {
            path: wanted.path.clone(),
            size: Some(wanted.size()),
            sha256: Some(wanted.sha256()),
            git_oid: match &wanted.content {
                Content::Inline(bytes) => Some(git_blob_sha1(bytes)),
                Content::Lfs { .. } => None,
            },
        }
    }
}

/// One way the Hub differs from the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The path in the repository.
    pub path: String,
    /// `missing`, `size`, `sha256`, `not-lfs`, `blob` or `download`.
    pub problem: &'static str,
    /// What the manifest says.
    pub expected: String,
    /// What the Hub has.
    pub actual: String,
}

impl Difference {
    /// The difference for people, naming the site read as `destination` (`the Hub`,
    /// `ModelScope`).
    pub fn describe(&self, destination: &str) -> String {
        match self.problem {
            "missing" => format!("{}: missing on {destination}", self.path),
            problem => format!(
                "{}: {problem} differs: expected {}, {destination} has {}",
                self.path, self.expected, self.actual
            ),
        }
    }
}

/// The difference as read on the Hub; [`Difference::describe`] names another site.
impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe("the Hub"))
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// The repository.
    pub repo: String,
    /// The revision read (a commit id after a publish).
    pub revision: String,
    /// Manifest paths compared.
    pub checked: usize,
    /// Whether files were downloaded and hashed again.
    pub deep: bool,
    /// Missing or different paths: each one is an error.
    pub problems: Vec<Difference>,
    /// Paths on the Hub that the manifest does not list: warnings.
    pub extras: Vec<String>,
    /// Paths only checked for presence because the manifest has no sha256 or size for them.
    pub unverified: Vec<String>,
}

impl VerifyReport {
    /// True when nothing is missing or different.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Compares the tree with the manifest; `known` paths are not reported as extras.
pub fn compare_tree(
    manifest: &[ManifestEntry],
    tree: &[TreeEntry],
    known: &BTreeSet<String>,
) -> (Vec<Difference>, Vec<String>, Vec<String>) {
    let files: BTreeMap<&str, &TreeEntry> = tree
        .iter()
        .filter(|e| e.kind == EntryKind::File)
        .map(|e| (e.path.as_str(), e))
        .collect();
    let mut problems = Vec::new();
    let mut unverified = Vec::new();
    let diff = |path: &str, problem, expected: String, actual: String| Difference {
        path: path.to_owned(),
        problem,
        expected,
        actual,
    };
    for m in manifest {
        let Some(entry) = files.get(m.path.as_str()) else {
            problems.push(diff(&m.path, "missing", "present".into(), "absent".into()));
            continue;
        };
        if let Some(size) = m.size
            && entry.size != size
        {
            problems.push(diff(
                &m.path,
                "size",
                format!("{size} bytes"),
                format!("{} bytes", entry.size),
            ));
        }
        match (&m.git_oid, &entry.lfs, &m.sha256) {
            (Some(oid), None, _) => {
                if !entry.oid.eq_ignore_ascii_case(oid) {
                    problems.push(diff(&m.path, "blob", oid.clone(), entry.oid.clone()));
                }
            }
            (Some(_), Some(lfs), Some(sha)) => {
                if lfs.oid != *sha {
                    problems.push(diff(&m.path, "sha256", sha.to_hex(), lfs.oid.to_hex()));
                }
            }
            (None, Some(lfs), Some(sha)) => {
                if lfs.oid != *sha {
                    problems.push(diff(&m.path, "sha256", sha.to_hex(), lfs.oid.to_hex()));
                }
            }
            (None, None, Some(sha)) => problems.push(diff(
                &m.path,
                "not-lfs",
                format!("an LFS file with sha256 {sha}"),
                format!("a regular file (git blob {})", entry.oid),
            )),
            (_, _, None) => unverified.push(m.path.clone()),
        }
    }
    let listed: BTreeSet<&str> = manifest.iter().map(|m| m.path.as_str()).collect();
    let extras = files
        .keys()
        .filter(|p| !listed.contains(*p) && !HUB_OWNED.contains(p) && !known.contains(**p))
        .map(|p| (*p).to_owned())
        .collect();
    (problems, extras, unverified)
}

/// Reads the tree of `revision` and compares it with `manifest` (see [`compare_tree`]);
/// with `deep`, downloads every manifest file that is present and hashes it again.
pub async fn verify_repo(
    client: &HubClient,
    repo: &RepoId,
    revision: &str,
    manifest: &[ManifestEntry],
    known: &BTreeSet<String>,
    deep: bool,
    observer: &Observer,
) -> Result<VerifyReport, UploadError> {
    let tree = client.list_tree(repo, revision, None, true).await?;
    let (mut problems, extras, unverified) = compare_tree(manifest, &tree, known);
    if deep {
        let present: BTreeMap<&str, &TreeEntry> =
            tree.iter().map(|e| (e.path.as_str(), e)).collect();
        for m in manifest {
            let Some(entry) = present.get(m.path.as_str()) else {
                continue;
            };
            // The registry's sha256 when known, else what the tree claims: either way the
            // bytes served must hash to it.
            let Some(expected) = m.sha256.or(entry.lfs.map(|l| l.oid)) else {
                continue;
            };
            observer(Event::Step(format!(
                "downloading {} to hash it again",
                m.path
            )));
            let actual = download_sha256(client, repo, revision, &m.path).await?;
            if actual != expected {
                problems.push(Difference {
                    path: m.path.clone(),
                    problem: "download",
                    expected: expected.to_hex(),
                    actual: actual.to_hex(),
                });
            }
        }
    }
    problems.sort_by(|a, b| a.path.cmp(&b.path).then(a.problem.cmp(b.problem)));
    Ok(VerifyReport {
        repo: repo.to_string(),
        revision: revision.to_owned(),
        checked: manifest.len(),
        deep,
        problems,
        extras,
        unverified,
    })
}

/// Streams a file from the Hub through sha256 without storing it.
async fn download_sha256(
    client: &HubClient,
    repo: &RepoId,
    revision: &str,
    path: &str,
) -> Result<Sha256, UploadError> {
    let download = client.download_range(repo, revision, path, 0).await?;
    let mut hasher = sha2::Sha256::new();
    let mut body = download.into_stream();
    while let Some(chunk) = body.next().await {
        hasher.update(&chunk?);
    }
    Ok(Sha256(hasher.finalize().into()))
}
