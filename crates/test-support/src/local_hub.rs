//! The local Hub fixture (feature `hub-server`): `hub-server` on a free loopback port, with a
//! throwaway data folder and a write token, as every suite that talks to a Hub starts it.

use std::path::{Path, PathBuf};

use hub_server::{HubServer, ServerConfig};

/// The write token of every [`LocalHub`] (also `ServerConfig::new`'s default).
pub const TOKEN: &str = "hf_test_write";

/// A running local Hub: the server, and a temporary folder holding its data (`data/`) and
/// scratch files (`files/`); both go away when it is dropped.
#[derive(Debug)]
pub struct LocalHub {
    /// The server (its faults, stats and data folder).
    pub server: HubServer,
    /// The temporary folder: `data/` is the server's, `files/` the test's.
    pub dir: tempfile::TempDir,
}

impl LocalHub {
    /// Starts a server that accepts [`TOKEN`] for writes.
    #[track_caller]
    pub fn start() -> LocalHub {
        LocalHub::start_with(|_| {})
    }

    /// Like [`start`](Self::start), with the configuration adjusted by `tweak` first (page
    /// sizes, tokens, redirects, ...).
    #[track_caller]
    pub fn start_with(tweak: impl FnOnce(&mut ServerConfig)) -> LocalHub {
        let dir = tempfile::tempdir().expect("cannot create a temporary folder");
        let mut config = ServerConfig::new(dir.path().join("data"));
        config.write_tokens = vec![TOKEN.to_owned()];
        tweak(&mut config);
        let server =
            HubServer::spawn(config).unwrap_or_else(|e| panic!("the local Hub did not start: {e}"));
        std::fs::create_dir_all(dir.path().join("files")).expect("cannot create files/");
        LocalHub { server, dir }
    }

    /// The server's base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The scratch folder for files to upload, registries and the like (it exists).
    pub fn files(&self) -> PathBuf {
        self.dir.path().join("files")
    }

    /// The temporary folder itself.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Stops the server and waits for it (requests in flight end first), then removes the
    /// temporary folder. Dropping the fixture only asks the server to stop.
    pub fn stop(self) {
        self.server.stop();
    }
}

#[cfg(feature = "hub-client")]
mod with_client {
    use hub_client::{CommitOp, HubClient, NewCommit, RepoId, Sha256};

    use super::{LocalHub, TOKEN};

    impl LocalHub {
        /// A client with [`TOKEN`] and [`fast_retries`](crate::fast_retries).
        pub fn client(&self) -> HubClient {
            crate::client_builder(&self.url(), Some(TOKEN))
                .build()
                .expect("the test client builds")
        }

        /// Commits `files` (path in the repository, bytes, whether through LFS) to `main` of
        /// `repo`, which must exist, with `client`; LFS objects are uploaded first from copies
        /// under [`files`](Self::files). Returns the new commit id.
        pub async fn commit_files(
            &self,
            client: &HubClient,
            repo: &str,
            summary: &str,
            files: &[(&str, &[u8], bool)],
        ) -> String {
            let id = RepoId::new(repo).unwrap();
            let mut operations = Vec::new();
            for (n, (path, bytes, lfs)) in files.iter().enumerate() {
                if !*lfs {
                    operations.push(CommitOp::AddRegular {
                        path: (*path).to_owned(),
                        bytes: bytes.to_vec(),
                    });
                    continue;
                }
                let local = self
                    .files()
                    .join(format!("upload-{n}-{}", path.replace('/', "_")));
                std::fs::write(&local, bytes).unwrap();
                let sha = Sha256::digest(bytes);
                let size = bytes.len() as u64;
                client
                    .upload_lfs_object(&id, "main", &local, sha, size, None)
                    .await
                    .unwrap();
                operations.push(CommitOp::AddLfs {
                    path: (*path).to_owned(),
                    sha256: sha,
                    size,
                });
            }
            let parent = client.resolve_revision(&id, "main").await.unwrap();
            let commit = NewCommit {
                summary: summary.to_owned(),
                description: String::new(),
                parent_commit: Some(parent),
                operations,
            };
            client
                .commit(&id, "main", &commit)
                .await
                .unwrap()
                .commit_oid
        }
    }
}
