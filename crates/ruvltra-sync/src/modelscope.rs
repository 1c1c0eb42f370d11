//! Reading the ModelScope mirror: the [`SnapshotSource`] of [`ModelScopeClient`].
//!
//! Per repository it makes one `revisions` request (branches and tags with their commits),
//! then per revision one recursive listing (path, size and sha256 of every file). ModelScope's
//! listing is asked by branch or tag name, as the official SDK asks it, so after the listings
//! the `revisions` request is made once more: when a listed branch or tag moved in between,
//! the read is refused ("run sync again") rather than mixing two states. A registry of any
//! number of models in one repository at `master` costs three requests.
//!
//! A repository that does not exist (HTTP 404; ModelScope answers the same for a private one
//! the token may not see) and a revision that is neither a branch, a tag nor a commit of it
//! are recorded as [`Absence`]s, not errors: the mirror lagging behind the registry is a state
//! to report (with the advice to run `cargo xtask publish --to modelscope`), not a failure to
//! read, and it must not stop `--from all` from syncing the Hub.

use std::collections::{BTreeMap, BTreeSet};

use modelscope_client::{ModelId, ModelScopeClient, ModelScopeError, Revisions};

use crate::error::SyncError;
use crate::fetch::{RevisionRead, SnapshotSource, is_hex};
use crate::snapshot::{Absence, HubFile, Origin, RevisionSnapshot};

impl SnapshotSource for ModelScopeClient {
    fn origin(&self) -> Origin {
        Origin::ModelScope
    }

    async fn read_repo(
        &self,
        repo: &str,
        revisions: &BTreeSet<String>,
    ) -> Result<Vec<(String, RevisionRead)>, SyncError> {
        read_repo(self, repo, revisions).await
    }
}

/// The commit `revision` names: a branch, else a tag, else itself when it is a commit id.
fn resolve<'a>(refs: &'a Revisions, revision: &'a str) -> Option<&'a str> {
    refs.branches
        .get(revision)
        .or_else(|| refs.tags.get(revision))
        .map(String::as_str)
        .or_else(|| is_hex(revision, 40).then_some(revision))
}

async fn read_repo(
    client: &ModelScopeClient,
    repo: &str,
    revisions: &BTreeSet<String>,
) -> Result<Vec<(String, RevisionRead)>, SyncError> {
    let ms_error = |revision: Option<&str>| {
        let revision = revision.map(str::to_owned);
        move |source| SyncError::ModelScope {
            repo: repo.to_owned(),
            revision,
            source,
        }
    };
    let invalid = |revision: &str, detail: String| SyncError::InvalidModelScopeAnswer {
        repo: repo.to_owned(),
        revision: Some(revision.to_owned()),
        detail,
    };
    let id = ModelId::new(repo).map_err(ms_error(None))?;
    let refs = match client.revisions(&id).await {
        Ok(refs) => refs,
        Err(ModelScopeError::NotFound { .. }) => {
            return Ok(revisions
                .iter()
                .map(|r| (r.clone(), RevisionRead::Absent(Absence::Repo)))
                .collect());
        }
        Err(e) => return Err(ms_error(None)(e)),
    };
    let mut out = Vec::with_capacity(revisions.len());
    // The branches and tags listed by name, with the commit they named before the listing.
    let mut listed_by_name: Vec<(&str, String)> = Vec::new();
    for revision in revisions {
        let rev = Some(revision.as_str());
        let Some(commit) = resolve(&refs, revision) else {
            out.push((revision.clone(), RevisionRead::Absent(Absence::Revision)));
            continue;
        };
        if !is_hex(commit, 40) {
            return Err(invalid(
                revision,
                format!(
                    "the revision resolved to {:?}, which is not a 40-hex commit id; check that \
                     MODELSCOPE_ENDPOINT is a ModelScope server",
                    commit.chars().take(80).collect::<String>()
                ),
            ));
        }
        let commit = commit.to_ascii_lowercase();
        let named = !revision.eq_ignore_ascii_case(&commit);
        let listing = client
            .list_files(&id, if named { revision } else { &commit })
            .await;
        let listing = match listing {
            Ok(listing) => listing,
            // A commit id the repository does not hold.
            Err(ModelScopeError::NotFound { .. }) if !named => {
                out.push((revision.clone(), RevisionRead::Absent(Absence::Revision)));
                continue;
            }
            Err(e) => return Err(ms_error(rev)(e)),
        };
        if named {
            listed_by_name.push((revision.as_str(), commit.clone()));
        }
        let mut files = BTreeMap::new();
        for entry in listing {
            let sha256 = match entry.sha256 {
                Some(sha) if is_hex(&sha, 64) => Some(sha.to_ascii_lowercase()),
                Some(sha) => {
                    return Err(invalid(
                        revision,
                        format!(
                            "the listing gives {:?} the sha256 {:?}, which is not 64 hex digits; \
                             check that MODELSCOPE_ENDPOINT is a ModelScope server",
                            entry.path,
                            sha.chars().take(80).collect::<String>()
                        ),
                    ));
                }
                None => None,
            };
            let file = HubFile {
                size: entry.size,
                sha256,
            };
            if let Some(earlier) = files.insert(entry.path.clone(), file.clone())
                && earlier != file
            {
                return Err(invalid(
                    revision,
                    format!(
                        "the listing gives {:?} twice with different contents; check that \
                         MODELSCOPE_ENDPOINT is a ModelScope server",
                        entry.path
                    ),
                ));
            }
        }
        let mut tags: Vec<String> = refs
            .tags
            .iter()
            .filter(|(_, target)| target.eq_ignore_ascii_case(&commit))
            .map(|(name, _)| name.clone())
            .collect();
        tags.sort();
        tags.dedup();
        out.push((
            revision.clone(),
            RevisionRead::Found(RevisionSnapshot {
                commit,
                tags,
                files,
            }),
        ));
    }
    if !listed_by_name.is_empty() {
        // The listings were asked by name: prove that every name still names the commit it
        // named before, so that the files listed are that commit's.
        let again = client.revisions(&id).await.map_err(ms_error(None))?;
        for (revision, commit) in listed_by_name {
            let now = resolve(&again, revision).map(str::to_ascii_lowercase);
            if now.as_deref() != Some(commit.as_str()) {
                return Err(invalid(
                    revision,
                    format!(
                        "the revision moved from {commit} to {} while it was read (someone is \
                         publishing); run sync again",
                        now.as_deref().unwrap_or("nothing")
                    ),
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    //! The answers of a ModelScope server sync must refuse, from a scripted local server.

    use std::io::{BufRead as _, BufReader, Write as _};
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use hub_client::Endpoint;

    use super::*;

    const C1: &str = "1111111111111111111111111111111111111111";
    const C2: &str = "2222222222222222222222222222222222222222";
    const SHA: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    /// Serves `revisions(n)` (n counting the revisions requests from 0) and `files` until the
    /// test ends; every answer closes its connection.
    fn serve(revisions: fn(usize) -> String, files: String) -> ModelScopeClient {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let calls = Arc::new(AtomicUsize::new(0));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap() == 0 || header == "\r\n" {
                        break;
                    }
                }
                let body = if line.contains("/revisions") {
                    revisions(calls.fetch_add(1, Ordering::SeqCst))
                } else {
                    files.clone()
                };
                let body = format!(r#"{{"Code":200,"Success":true,"Data":{body}}}"#);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        ModelScopeClient::builder()
            .endpoint(Endpoint::parse(&url).unwrap())
            .build()
            .unwrap()
    }

    fn master_at(commit: &str) -> String {
        format!(
            r#"{{"RevisionMap":{{"Branches":[{{"Revision":"master","CommitId":"{commit}"}}],"Tags":[]}}}}"#
        )
    }

    fn file(path: &str, size: u64, sha256: &str) -> String {
        format!(r#"{{"Path":"{path}","Type":"blob","Size":{size},"Sha256":"{sha256}"}}"#)
    }

    async fn read_master(
        client: &ModelScopeClient,
    ) -> Result<Vec<(String, RevisionRead)>, SyncError> {
        client
            .read_repo("org/models", &BTreeSet::from(["master".to_owned()]))
            .await
    }

    fn refused(result: Result<Vec<(String, RevisionRead)>, SyncError>, wanted: &[&str]) {
        let err = result.expect_err("the answer must be refused");
        assert!(
            matches!(err, SyncError::InvalidModelScopeAnswer { .. }),
            "{err:?}"
        );
        let text = err.to_string();
        for part in wanted {
            assert!(text.contains(part), "{text:?} lacks {part:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_consistent_listing_is_read() {
        let files = format!("{{\"Files\":[{}]}}", file("a.gguf", 7, SHA));
        let client = serve(|_| master_at(C1), files);
        let read = read_master(&client).await.unwrap();
        let [(revision, RevisionRead::Found(snap))] = read.as_slice() else {
            panic!("{read:?}");
        };
        assert_eq!(revision, "master");
        assert_eq!(snap.commit, C1);
        assert_eq!(snap.files["a.gguf"].sha256.as_deref(), Some(SHA));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_branch_that_moves_while_it_is_listed_is_refused() {
        let files = format!("{{\"Files\":[{}]}}", file("a.gguf", 7, SHA));
        let client = serve(|n| master_at(if n == 0 { C1 } else { C2 }), files);
        refused(
            read_master(&client).await,
            &["moved from", C2, "run sync again"],
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_sha256_that_is_not_64_hex_digits_is_refused() {
        let files = format!("{{\"Files\":[{}]}}", file("a.gguf", 7, "not-a-sha"));
        let client = serve(|_| master_at(C1), files);
        refused(
            read_master(&client).await,
            &["not 64 hex digits", "MODELSCOPE_ENDPOINT"],
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_path_listed_twice_with_different_contents_is_refused() {
        let files = format!(
            "{{\"Files\":[{},{}]}}",
            file("a.gguf", 7, SHA),
            file("a.gguf", 8, SHA)
        );
        let client = serve(|_| master_at(C1), files);
        refused(
            read_master(&client).await,
            &["twice with different contents", "MODELSCOPE_ENDPOINT"],
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_branch_that_names_no_commit_id_is_refused() {
        let client = serve(|_| master_at("main"), "{\"Files\":[]}".to_owned());
        refused(
            read_master(&client).await,
            &["not a 40-hex commit id", "MODELSCOPE_ENDPOINT"],
        );
    }
}
