//! The plan of a publish: what the Hub has against what the manifest wants, path by path.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use hub_client::{Sha256, Sibling, git_blob_sha1};
use serde::Serialize;

use crate::check::FileChunks;
use crate::xet::XetFileReport;

/// Paths every repository has that the manifest never lists.
pub const HUB_OWNED: &[&str] = &[".gitattributes"];

/// What happens to one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// The path is not on the Hub yet.
    Add,
    /// The path is on the Hub with other content.
    Update,
    /// The path is on the Hub with the same content.
    Unchanged,
    /// The path is on the Hub but not in the manifest; it is left alone.
    ExtraOnHub,
}

/// The content of a wanted file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A large file on disk, sent through LFS (or Xet).
    Lfs {
        /// Where it is on disk.
        local: PathBuf,
        /// Its sha256.
        sha256: Sha256,
        /// Its size.
        size: u64,
        /// Its Xet chunks, when the check pass cut them (needed to send it through Xet).
        chunks: Option<Arc<FileChunks>>,
    },
    /// A small generated text (model card, Modelfile), sent inline in the commit.
    Inline(Vec<u8>),
}

/// A file the manifest wants in the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The path in the repository.
    pub path: String,
    /// The content.
    pub content: Content,
    /// The registry id of the model it belongs to, if any.
    pub model: Option<String>,
}

impl Wanted {
    /// The content size.
    pub fn size(&self) -> u64 {
        match &self.content {
            Content::Lfs { size, .. } => *size,
            Content::Inline(bytes) => bytes.len() as u64,
        }
    }

    /// The sha256 of the content.
    pub fn sha256(&self) -> Sha256 {
        match &self.content {
            Content::Lfs { sha256, .. } => *sha256,
            Content::Inline(bytes) => Sha256::digest(bytes),
        }
    }

    /// True when `sibling` (the Hub's file at this path) has exactly this content.
    fn matches(&self, sibling: &Sibling) -> bool {
        match &self.content {
            Content::Lfs { sha256, size, .. } => sibling
                .lfs
                .as_ref()
                .is_some_and(|l| l.sha256 == *sha256 && l.size == *size),
            Content::Inline(bytes) => {
                sibling.lfs.is_none()
                    && sibling.size.is_none_or(|s| s == bytes.len() as u64)
                    && sibling
                        .blob_id
                        .as_deref()
                        .is_some_and(|b| b.eq_ignore_ascii_case(&git_blob_sha1(bytes)))
            }
        }
    }
}

/// One line of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanEntry {
    /// The path in the repository.
    pub path: String,
    /// What happens to it.
    pub action: Action,
    /// `lfs` or `inline` for manifest files; absent for extra files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer: Option<&'static str>,
    /// The registry id of the model it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The local size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The local sha256.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The size on the Hub before the publish.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hub_size: Option<u64>,
    /// The LFS sha256 on the Hub before the publish (LFS files only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hub_sha256: Option<String>,
    /// What the publish did with it: `uploaded`, `already-on-hub`, `inline`, `unchanged`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<&'static str>,
    /// When it went through Xet: how many of its chunks and bytes were new, found by the
    /// local index, found by the Hub's dedup, and sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xet: Option<XetFileReport>,
}

/// Compares the manifest with the Hub's files (`siblings` of `model_info` with `blobs`).
/// Entries come sorted by path; extra files on the Hub are listed, never touched.
pub fn make_plan(wanted: &[Wanted], siblings: &[Sibling]) -> Vec<PlanEntry> {
    let on_hub: BTreeMap<&str, &Sibling> =
        siblings.iter().map(|s| (s.rfilename.as_str(), s)).collect();
    let wanted_paths: BTreeSet<&str> = wanted.iter().map(|w| w.path.as_str()).collect();
    let mut entries: Vec<PlanEntry> = wanted
        .iter()
        .map(|w| {
            let hub = on_hub.get(w.path.as_str()).copied();
            let action = match hub {
                None => Action::Add,
                Some(s) if w.matches(s) => Action::Unchanged,
                Some(_) => Action::Update,
            };
            PlanEntry {
                path: w.path.clone(),
                action,
                transfer: Some(match w.content {
                    Content::Lfs { .. } => "lfs",
                    Content::Inline(_) => "inline",
                }),
                model: w.model.clone(),
                size: Some(w.size()),
                sha256: Some(w.sha256().to_hex()),
                hub_size: hub.and_then(hub_size),
                hub_sha256: hub.and_then(|s| s.lfs.as_ref()).map(|l| l.sha256.to_hex()),
                result: None,
                xet: None,
            }
        })
        .collect();
    for s in siblings {
        if !wanted_paths.contains(s.rfilename.as_str())
            && !HUB_OWNED.contains(&s.rfilename.as_str())
        {
            entries.push(PlanEntry {
                path: s.rfilename.clone(),
                action: Action::ExtraOnHub,
                transfer: None,
                model: None,
                size: None,
                sha256: None,
                hub_size: hub_size(s),
                hub_sha256: s.lfs.as_ref().map(|l| l.sha256.to_hex()),
                result: None,
                xet: None,
            });
        }
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    entries
}

fn hub_size(s: &Sibling) -> Option<u64> {
    s.lfs.as_ref().map(|l| l.size).or(s.size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_client::SiblingLfs;

    fn lfs(path: &str, content: &[u8]) -> Wanted {
        Wanted {
            path: path.into(),
            content: Content::Lfs {
                local: PathBuf::from("/nowhere"),
                sha256: Sha256::digest(content),
                size: content.len() as u64,
                chunks: None,
            },
            model: None,
        }
    }

    fn sibling(path: &str, content: &[u8], as_lfs: bool) -> Sibling {
        Sibling {
            rfilename: path.into(),
            size: Some(content.len() as u64),
            blob_id: Some(git_blob_sha1(content)),
            lfs: as_lfs.then(|| SiblingLfs {
                sha256: Sha256::digest(content),
                size: content.len() as u64,
                pointer_size: None,
            }),
        }
    }

    #[test]
    fn every_action() {
        let wanted = vec![
            lfs("a.gguf", b"aaa"),
            lfs("b.gguf", b"bbb"),
            lfs("c.gguf", b"ccc"),
            Wanted {
                path: "README.md".into(),
                content: Content::Inline(b"card".to_vec()),
                model: None,
            },
        ];
        let siblings = vec![
            sibling(".gitattributes", b"*.gguf filter=lfs", false),
            sibling("b.gguf", b"bbb", true),
            sibling("c.gguf", b"old", true),
            sibling("README.md", b"card", false),
            sibling("old.gguf", b"x", true),
        ];
        let plan = make_plan(&wanted, &siblings);
        let got: Vec<(&str, Action)> = plan.iter().map(|e| (e.path.as_str(), e.action)).collect();
        assert_eq!(
            got,
            vec![
                ("README.md", Action::Unchanged),
                ("a.gguf", Action::Add),
                ("b.gguf", Action::Unchanged),
                ("c.gguf", Action::Update),
                ("old.gguf", Action::ExtraOnHub),
            ]
        );
        assert_eq!(plan[3].hub_sha256, Some(Sha256::digest(b"old").to_hex()));
    }

    #[test]
    fn a_regular_file_where_lfs_is_wanted_is_an_update() {
        let plan = make_plan(
            &[lfs("a.gguf", b"aaa")],
            &[sibling("a.gguf", b"aaa", false)],
        );
        assert_eq!(plan[0].action, Action::Update);
        let inline = Wanted {
            path: "README.md".into(),
            content: Content::Inline(b"new".to_vec()),
            model: None,
        };
        let plan = make_plan(&[inline], &[sibling("README.md", b"old", false)]);
        assert_eq!(plan[0].action, Action::Update);
    }
}
