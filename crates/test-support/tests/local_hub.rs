//! The local Hub fixture serves on loopback with its token, and `commit_files` lands LFS and
//! regular files in one commit (runs when the `hub-server` and `hub-client` features are on,
//! as in every workspace test run).

#![cfg(all(feature = "hub-server", feature = "hub-client"))]

use hub_client::RepoId;
use test_support::{LocalHub, TOKEN, fast_retries, sha256_hex};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_hub_takes_commits_with_its_token() {
    let hub = LocalHub::start_with(|config| config.tree_page_size = 7);
    assert!(hub.url().starts_with("http://127.0.0.1:"), "{}", hub.url());
    assert!(hub.files().is_dir());
    assert!(hub.server.data_dir().starts_with(hub.path()));
    assert_eq!(fast_retries().max_retries, 4);

    let client = hub.client();
    let repo = RepoId::new("local/fixture").unwrap();
    client.create_repo(&repo, false).await.unwrap();
    let big = test_support::pseudo_random(5000, 1);
    let commit = hub
        .commit_files(
            &client,
            "local/fixture",
            "fixture files",
            &[("big.bin", &big, true), ("notes.txt", b"hello", false)],
        )
        .await;
    assert_eq!(commit.len(), 40, "{commit}");
    assert!(hub.server.has_lfs_object(&sha256_hex(&big)));

    // Without the token a write is refused.
    let anonymous = test_support::client_builder(&hub.url(), None)
        .build()
        .unwrap();
    let other = RepoId::new("local/anonymous").unwrap();
    assert!(anonymous.create_repo(&other, false).await.is_err());
    assert_eq!(TOKEN, "hf_test_write");
}
