//! Git's content addressing as the Hub exposes it: blob ids, LFS pointers, tree ids and
//! commit ids, and making a new commit record from a manifest.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha1::{Digest as _, Sha1};

use super::model::{CommitRecord, FileEntry, LfsInfo};

/// The git blob id of some content: sha1 of `blob {len}\0{content}`.
pub fn git_blob_id(content: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(format!("blob {}\0", content.len()).as_bytes());
    h.update(content);
    hex::encode(h.finalize())
}

/// The git-lfs pointer text of an object.
pub fn lfs_pointer(sha256: &str, size: u64) -> String {
    format!("version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n")
}

/// Whether `s` is 64 lowercase hex characters.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether `s` is 40 lowercase hex characters.
pub fn is_sha1_hex(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A directory in the nested view of a manifest, used to compute git tree ids.
#[derive(Default)]
struct DirNode<'a> {
    dirs: BTreeMap<&'a str, DirNode<'a>>,
    files: BTreeMap<&'a str, &'a FileEntry>,
}

/// Computes the git tree id of every directory in a manifest; `""` is the root.
pub fn tree_ids(files: &BTreeMap<String, FileEntry>) -> BTreeMap<String, String> {
    let mut root = DirNode::default();
    for (path, entry) in files {
        let mut node = &mut root;
        let mut parts = path.split('/').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                node.files.insert(part, entry);
            } else {
                node = node.dirs.entry(part).or_default();
            }
        }
    }
    let mut out = BTreeMap::new();
    hash_dir(&root, "", &mut out);
    out
}

fn hash_dir(node: &DirNode<'_>, prefix: &str, out: &mut BTreeMap<String, String>) -> [u8; 20] {
    // Git sorts entries by name, comparing directory names as if they ended with '/'.
    let mut entries: Vec<(Vec<u8>, &'static str, [u8; 20], &str)> = Vec::new();
    for (name, child) in &node.dirs {
        let path = if prefix.is_empty() {
            (*name).to_owned()
        } else {
            format!("{prefix}/{name}")
        };
        let id = hash_dir(child, &path, out);
        entries.push((format!("{name}/").into_bytes(), "40000", id, name));
    }
    for (name, entry) in &node.files {
        let mut id = [0u8; 20];
        if hex::decode_to_slice(&entry.oid, &mut id).is_err() {
            id = [0u8; 20];
        }
        entries.push((name.as_bytes().to_vec(), "100644", id, name));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut body = Vec::new();
    for (_, mode, id, name) in &entries {
        body.extend_from_slice(mode.as_bytes());
        body.push(b' ');
        body.extend_from_slice(name.as_bytes());
        body.push(0);
        body.extend_from_slice(id);
    }
    let mut h = Sha1::new();
    h.update(format!("tree {}\0", body.len()).as_bytes());
    h.update(&body);
    let id: [u8; 20] = h.finalize().into();
    out.insert(prefix.to_owned(), hex::encode(id));
    id
}

/// The id of a commit: sha1 of a git-like commit object over tree, parents, author and message.
pub fn commit_id(
    tree: &str,
    parents: &[String],
    author: &str,
    unix_secs: u64,
    title: &str,
    message: &str,
) -> String {
    let mut text = format!("tree {tree}\n");
    for p in parents {
        text.push_str(&format!("parent {p}\n"));
    }
    text.push_str(&format!(
        "author {author} <{author}@users.noreply.localhost> {unix_secs} +0000\n\
         committer {author} <{author}@users.noreply.localhost> {unix_secs} +0000\n\n{title}\n"
    ));
    if !message.is_empty() {
        text.push_str(&format!("\n{message}\n"));
    }
    let mut h = Sha1::new();
    h.update(format!("commit {}\0", text.len()).as_bytes());
    h.update(text.as_bytes());
    hex::encode(h.finalize())
}

impl FileEntry {
    /// A regular file whose content is stored as the blob `oid`.
    pub fn regular(oid: String, size: u64) -> FileEntry {
        FileEntry {
            oid,
            size,
            lfs: None,
        }
    }

    /// An LFS file: its git blob id is the pointer's, its content the object `sha256`.
    pub fn lfs(sha256: String, size: u64) -> FileEntry {
        FileEntry {
            oid: git_blob_id(lfs_pointer(&sha256, size).as_bytes()),
            size,
            lfs: Some(LfsInfo { sha256, size }),
        }
    }
}

/// Builds a commit record with its tree and id computed, dated now.
pub fn new_commit(
    parents: Vec<String>,
    files: BTreeMap<String, FileEntry>,
    author: &str,
    title: &str,
    message: &str,
) -> CommitRecord {
    let tree = tree_ids(&files).remove("").unwrap_or_default();
    let secs = unix_now();
    let id = commit_id(&tree, &parents, author, secs, title, message);
    CommitRecord {
        id,
        parents,
        tree,
        title: title.to_owned(),
        message: message.to_owned(),
        author: author.to_owned(),
        date: now_rfc3339(),
        files,
    }
}

/// Now, as RFC 3339 with milliseconds (the form commit dates take).
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// Now, in seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// An RFC 3339 date in seconds since the Unix epoch; 0 when it does not parse.
pub fn unix_secs(rfc3339: &str) -> u64 {
    humantime::parse_rfc3339_weak(rfc3339)
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_blob_ids_match_git() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            git_blob_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(git_blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    }

    #[test]
    fn tree_id_matches_git() {
        // `git init; printf 'hello\n' > a.txt; mkdir d; printf 'hello\n' > d/b.txt;
        //  git add .; git write-tree`
        let mut files = BTreeMap::new();
        let entry = FileEntry {
            oid: git_blob_id(b"hello\n"),
            size: 6,
            lfs: None,
        };
        files.insert("a.txt".to_owned(), entry.clone());
        files.insert("d/b.txt".to_owned(), entry);
        let ids = tree_ids(&files);
        // Tree of `d` holds one entry "100644 b.txt".
        let mut body = b"100644 b.txt\0".to_vec();
        body.extend(hex::decode(git_blob_id(b"hello\n")).unwrap());
        let mut h = Sha1::new();
        h.update(format!("tree {}\0", body.len()).as_bytes());
        h.update(&body);
        assert_eq!(ids["d"], hex::encode(h.finalize()));
        assert_eq!(ids.len(), 2);
    }

    #[test]
    fn lfs_pointer_is_132_bytes_for_seven_digit_sizes() {
        let sha = "a".repeat(64);
        assert_eq!(lfs_pointer(&sha, 1_500_008).len(), 132);
    }
}
