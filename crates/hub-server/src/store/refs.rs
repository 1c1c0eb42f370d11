//! Revisions, one set of rules for both modes: how a branch, tag, `refs/...` name or commit id
//! resolves to a commit, and which names a new branch or tag may take.
//!
//! The names follow git's `check-ref-format` (both the Hub and ModelScope keep their refs in
//! git, so a name git refuses cannot exist on either), checked per `/`-separated component,
//! plus three rules that keep every revision this server resolves unambiguous: no whitespace,
//! no `refs/` prefix (the resolver reads `refs/heads/x` as the branch `x`), and not 40
//! lowercase hex characters (that is read as a commit id). Until these rules were shared, the
//! Hub mode missed the per-component and `@` rules and took commit-id-like names, and the
//! ModelScope mode allowed only `[A-Za-z0-9._/-]` for both, yet accepted tags git refuses
//! (`v1.`, `a//b`, `x.lock`, `refs/heads/x`); the tests below pin each difference.

use std::io;

use super::Store;
use super::git::is_sha1_hex;
use super::model::{CommitRecord, Refs, RepoId};

/// The longest branch or tag name accepted (the longest file name most file systems store).
const MAX_REF_NAME: usize = 255;

impl Refs {
    /// The commit a ref names: a branch, a tag, `refs/heads/b`, `refs/tags/t` or `refs/pr/N`.
    pub fn target(&self, rev: &str) -> Option<&str> {
        if let Some(c) = self.branches.get(rev).or_else(|| self.tags.get(rev)) {
            return Some(c);
        }
        if let Some(b) = rev.strip_prefix("refs/heads/") {
            return self.branches.get(b).map(String::as_str);
        }
        if let Some(t) = rev.strip_prefix("refs/tags/") {
            return self.tags.get(t).map(String::as_str);
        }
        let pr = rev.strip_prefix("refs/pr/")?.parse::<u64>().ok()?;
        self.pulls.get(&pr).map(String::as_str)
    }
}

impl Store {
    /// Resolves a revision of a repo to a commit id: a ref (see [`Refs::target`]), else the
    /// 40-hex id of one of its commits, else an unambiguous prefix of one (4 to 39 hex digits,
    /// either case, as `git rev-parse` takes them). An empty revision is `default_branch`.
    /// `None` when it names nothing, or a prefix several commits share
    /// ([`Store::commits_with_prefix`] tells which).
    ///
    /// A ref always wins over a commit id: a branch or tag named like a hex prefix (`cafe1234`;
    /// only 40-hex names are refused) resolves to its own target, as git and the Hub resolve
    /// it, and the commit is still reachable by its full id or a longer prefix.
    pub fn resolve_revision(
        &self,
        id: &RepoId,
        refs: &Refs,
        rev: &str,
        default_branch: &str,
    ) -> io::Result<Option<String>> {
        let rev = if rev.is_empty() { default_branch } else { rev };
        if let Some(c) = refs.target(rev) {
            return Ok(Some(c.to_owned()));
        }
        if is_sha1_hex(rev) && self.commit(id, rev)?.is_some() {
            return Ok(Some(rev.to_owned()));
        }
        if is_short_commit_id(rev) {
            let found = self.commits_with_prefix(id, rev)?;
            if let [only] = found.as_slice() {
                return Ok(Some(only.clone()));
            }
        }
        Ok(None)
    }

    /// The stored commits of a repo whose id starts with `prefix` (compared in lowercase),
    /// sorted; at most three, enough to tell one from several.
    pub fn commits_with_prefix(&self, id: &RepoId, prefix: &str) -> io::Result<Vec<String>> {
        let prefix = prefix.to_ascii_lowercase();
        let dir = self.repo_dir(id).join("commits");
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut found = Vec::new();
        for entry in entries {
            let name = entry?.file_name();
            let Some(commit) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if is_sha1_hex(commit) && commit.starts_with(&prefix) {
                found.push(commit.to_owned());
                if found.len() == 3 {
                    break;
                }
            }
        }
        found.sort();
        Ok(found)
    }

    /// Loads the commit a revision resolves to; `None` when it names nothing. A ref to a
    /// commit that is not stored is an error: the store is damaged.
    pub fn load_revision(
        &self,
        id: &RepoId,
        rev: &str,
        default_branch: &str,
    ) -> io::Result<Option<CommitRecord>> {
        let refs = self.refs(id)?;
        let Some(commit) = self.resolve_revision(id, &refs, rev, default_branch)? else {
            return Ok(None);
        };
        self.commit(id, &commit)?
            .map(Some)
            .ok_or_else(|| io::Error::other(format!("commit {commit} is missing from the store")))
    }
}

/// Whether a revision has the form of an abbreviated commit id: 4 to 39 hex digits (git's
/// shortest abbreviation is 4).
pub fn is_short_commit_id(rev: &str) -> bool {
    (4..40).contains(&rev.len()) && rev.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Checks the name of a new branch or tag (see the module documentation); the error says
/// what is wrong with it.
pub fn check_ref_name(name: &str) -> Result<(), &'static str> {
    let refused = |why| Err(why);
    if name.is_empty() {
        return refused("it is empty");
    }
    if name.len() > MAX_REF_NAME {
        return refused("it is longer than 255 bytes");
    }
    if name == "@" {
        return refused("'@' alone is not a name");
    }
    if name.starts_with("refs/") {
        return refused("give the short name, without refs/");
    }
    if is_sha1_hex(name) {
        return refused("40 hex characters would be read as a commit id");
    }
    if name.starts_with('-') {
        return refused("it must not start with '-'");
    }
    if name.starts_with('/') || name.ends_with('/') || name.contains("//") {
        return refused("'/' must separate non-empty parts");
    }
    if name.ends_with('.') {
        return refused("it must not end with '.'");
    }
    if name.contains("..") {
        return refused("'..' is not allowed");
    }
    if name.contains("@{") {
        return refused("'@{' is not allowed");
    }
    if name
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c))
    {
        return refused("whitespace, control characters and ~ ^ : ? * [ \\ are not allowed");
    }
    if name
        .split('/')
        .any(|part| part.starts_with('.') || part.ends_with(".lock"))
    {
        return refused("no part may start with '.' or end with '.lock'");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_names() {
        for good in ["v1.0", "feature/x", "main", "release-2024_01", "a.b/c-d"] {
            assert_eq!(check_ref_name(good), Ok(()), "{good:?}");
        }
        for bad in [
            "", "a b", "a..b", "x.lock", "-x", "/x", "x/", "a@{1}", "a~1", "a:b",
        ] {
            assert!(check_ref_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_ref_name(&"a".repeat(256)).is_err());
    }

    /// The names on which the Hub mode's and the ModelScope mode's old rules disagreed, and
    /// what the shared rules decide.
    #[test]
    fn ref_names_where_the_two_old_rule_sets_differed() {
        // Git and the Hub take these; the ModelScope mode refused anything outside [A-Za-z0-9._/-].
        for good in ["v1.0+build.5", "release@2024", "r#1", "résumé"] {
            assert_eq!(check_ref_name(good), Ok(()), "{good:?}");
        }
        // The ModelScope mode took these as tags; git refuses them.
        for bad in ["v1.", "a//b", "x.lock", "v1/"] {
            assert!(check_ref_name(bad).is_err(), "{bad:?}");
        }
        // Also taken by the ModelScope mode's tag rule: a name the resolver reads as a branch.
        assert!(check_ref_name("refs/heads/main").is_err());
        // The Hub mode took these: a commit-id-like name (ModelScope's branches refused it),
        // a part starting with '.', a part ending with '.lock', and '@' alone (git refuses
        // the last three).
        for bad in [
            "0123456789abcdef0123456789abcdef01234567",
            "a/.b",
            "a.lock/b",
            "@",
        ] {
            assert!(check_ref_name(bad).is_err(), "{bad:?}");
        }
    }

    /// Short commit ids: unique prefixes of 4+ hex digits resolve, shared ones do not, and a
    /// ref named like a prefix wins over the commit it abbreviates.
    #[test]
    fn short_commit_ids_and_refs_named_like_them() {
        use super::super::model::{RepoKind, RepoMeta};
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path().to_path_buf()).unwrap();
        let id = RepoId::new(RepoKind::Model, "ns", "r").unwrap();
        let meta: RepoMeta = store.create_repo(&id, "main", "me", false, None).unwrap();
        assert!(!meta.private);
        let initial = store.refs(&id).unwrap().branches["main"].clone();
        let mut fake = store.commit(&id, &initial).unwrap().unwrap();
        for commit in ["abcd0000", "abcd1111", "abce2222"] {
            fake.id = format!("{commit}{}", "0".repeat(32));
            store.write_commit(&id, &fake).unwrap();
        }
        let mut refs = store.refs(&id).unwrap();
        let resolve =
            |refs: &Refs, rev: &str| store.resolve_revision(&id, refs, rev, "main").unwrap();
        assert_eq!(
            resolve(&refs, "abce").as_deref(),
            Some(format!("abce2222{}", "0".repeat(32)).as_str())
        );
        assert_eq!(
            resolve(&refs, "ABCD1").as_deref(),
            Some(format!("abcd1111{}", "0".repeat(32)).as_str())
        );
        assert_eq!(resolve(&refs, "abcd"), None, "ambiguous");
        assert_eq!(store.commits_with_prefix(&id, "abcd").unwrap().len(), 2);
        assert_eq!(resolve(&refs, "abc"), None, "shorter than git's 4");
        assert_eq!(
            resolve(&refs, &initial[..7]).as_deref(),
            Some(initial.as_str())
        );
        refs.branches.insert("abce".into(), initial.clone());
        assert_eq!(
            resolve(&refs, "abce").as_deref(),
            Some(initial.as_str()),
            "the ref wins"
        );
        assert!(
            is_short_commit_id("abce")
                && !is_short_commit_id("abc")
                && !is_short_commit_id(&initial)
        );
    }

    #[test]
    fn refs_resolve_short_and_full_names() {
        let mut refs = Refs::default();
        refs.branches.insert("main".into(), "b".repeat(40));
        refs.tags.insert("v1".into(), "t".repeat(40));
        refs.pulls.insert(3, "p".repeat(40));
        assert_eq!(refs.target("main"), Some("b".repeat(40).as_str()));
        assert_eq!(
            refs.target("refs/heads/main"),
            Some("b".repeat(40).as_str())
        );
        assert_eq!(refs.target("refs/tags/v1"), Some("t".repeat(40).as_str()));
        assert_eq!(refs.target("refs/pr/3"), Some("p".repeat(40).as_str()));
        assert_eq!(refs.target("refs/heads/v1"), None);
        assert_eq!(refs.target("refs/pr/x"), None);
    }
}
