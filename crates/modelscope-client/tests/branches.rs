//! Commits to a branch the model does not have yet, against the local server's ModelScope mode:
//! the server creates it from `master` (the assumption the client is written for), and when a
//! server refuses instead (a 404 injected on that commit), the client says so clearly with
//! [`ModelScopeError::MissingBranch`] and nothing changes on the model.

use std::path::Path;

use hub_client::Token;
use hub_server::{Action, Fault, HubServer, Match};
use modelscope_client::{
    LocalFile, ModelId, ModelScopeClient, ModelScopeError, Visibility, hash_file,
    resolve_endpoint_with,
};
use test_support::LocalHub;

const TOKEN: &str = "ms_rust_write_token";

/// The local server, taking this file's write token.
fn server() -> LocalHub {
    LocalHub::start_with(|config| config.write_tokens = vec![TOKEN.to_owned()])
}

fn client(server: &HubServer) -> ModelScopeClient {
    ModelScopeClient::builder()
        .endpoint(resolve_endpoint_with(Some(&server.url()), |_| None).unwrap())
        .token(Token::new(TOKEN))
        .build()
        .unwrap()
}

fn file(dir: &Path, path_in_repo: &str, bytes: &[u8]) -> LocalFile {
    let local = dir.join(path_in_repo.replace('/', "_"));
    std::fs::write(&local, bytes).unwrap();
    LocalFile {
        path_in_repo: path_in_repo.to_owned(),
        local,
    }
}

/// A model with `base.gguf` committed on `master`.
async fn model_with_master(c: &ModelScopeClient, dir: &Path, name: &str) -> ModelId {
    let id = ModelId::new(&format!("ruvnet/{name}")).unwrap();
    c.create_model(&id, Visibility::Public, "apache-2.0")
        .await
        .unwrap();
    let base = file(dir, "base.gguf", &[7u8; 100_000]);
    c.upload_files(&id, "master", &[base], "base")
        .await
        .unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_to_a_new_branch_creates_it_from_master() {
    let LocalHub { server, dir: tmp } = server();
    let c = client(&server);
    let id = model_with_master(&c, tmp.path(), "branchy").await;
    let master_before = c.revisions(&id).await.unwrap().branches["master"].clone();

    let exp = file(tmp.path(), "exp/model.gguf", &[9u8; 200_000]);
    let report = c
        .upload_files(
            &id,
            "experiment-x",
            std::slice::from_ref(&exp),
            "experiment",
        )
        .await
        .unwrap();

    let revs = c.revisions(&id).await.unwrap();
    assert_eq!(revs.branches["master"], master_before, "master untouched");
    assert_eq!(revs.branches["experiment-x"], report.commit);
    // The branch holds master's files plus the new one; master does not have the new one.
    let on_branch = c.list_files(&id, "experiment-x").await.unwrap();
    let paths: Vec<&str> = on_branch.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, [".gitattributes", "base.gguf", "exp/model.gguf"]);
    let (sha, size) = hash_file(&exp.local).await.unwrap();
    let listed = &on_branch[2];
    assert_eq!((listed.sha256.as_deref(), listed.size), (Some(&*sha), size));
    let on_master = c.list_files(&id, "master").await.unwrap();
    assert!(on_master.iter().all(|f| f.path != "exp/model.gguf"));
    assert_eq!(
        c.download_sha256(&id, "experiment-x", "exp/model.gguf")
            .await
            .unwrap(),
        (sha, size)
    );
    // A second commit goes on top of the branch, not of master.
    let more = file(tmp.path(), "notes.txt", b"second\n");
    let second = c
        .upload_files(&id, "experiment-x", &[more], "more")
        .await
        .unwrap();
    let revs = c.revisions(&id).await.unwrap();
    assert_eq!(revs.branches["experiment-x"], second.commit);
    assert_eq!(revs.branches["master"], master_before);
    assert_eq!(c.list_files(&id, "experiment-x").await.unwrap().len(), 4);
    // Tagging the branch tags its head.
    assert!(c.create_tag(&id, "exp-v1", "experiment-x").await.unwrap());
    assert_eq!(
        c.revisions(&id).await.unwrap().tags["exp-v1"],
        second.commit
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_or_a_tag_name_creates_no_branch() {
    let LocalHub { server, dir: tmp } = server();
    let c = client(&server);
    let id = model_with_master(&c, tmp.path(), "refusals").await;
    c.create_tag(&id, "v1", "master").await.unwrap();
    let before = c.revisions(&id).await.unwrap();

    // An LFS action whose object was never uploaded: refused, and the branch is not created.
    let action = modelscope_client::lfs_action("x.gguf", &"ab".repeat(32), 10);
    let err = c
        .commit(&id, "exp-broken", "broken", vec![action])
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    // A tag is not a branch to commit to.
    let inline = modelscope_client::inline_action("a.txt", b"a");
    let err = c
        .commit(&id, "v1", "on a tag", vec![inline.clone()])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is a tag"), "{err}");
    // Nor is a name git would refuse.
    let err = c
        .commit(&id, "bad..name", "bad", vec![inline])
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert_eq!(c.revisions(&id).await.unwrap(), before);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_refusing_new_branches_gives_a_clear_missing_branch_error() {
    let LocalHub { server, dir: tmp } = server();
    let c = client(&server);
    let id = model_with_master(&c, tmp.path(), "no-new-branches").await;
    let before = c.revisions(&id).await.unwrap();
    server.faults().add(Fault::once(
        Match::any()
            .method("POST")
            .path_contains("/commit/experiment-x"),
        Action::Status(404),
    ));
    let exp = file(tmp.path(), "exp.gguf", &[3u8; 70_000]);
    let err = c
        .upload_files(&id, "experiment-x", &[exp], "experiment")
        .await
        .unwrap_err();
    assert_eq!(server.faults().pending(), 0, "the fault fired");
    match &err {
        ModelScopeError::MissingBranch { model, branch, .. } => {
            assert_eq!(
                (model.as_str(), branch.as_str()),
                (&*id.to_string(), "experiment-x")
            );
        }
        other => panic!("expected MissingBranch, got {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("create the branch on ModelScope") && text.contains("Hub only"),
        "{text}"
    );
    assert!(!text.contains(TOKEN));
    assert_eq!(c.revisions(&id).await.unwrap(), before, "nothing changed");

    // A 404 on a branch that exists, or on a model that does not, stays what it was.
    server.faults().add(Fault::once(
        Match::any().method("POST").path_contains("/commit/master"),
        Action::Status(404),
    ));
    let inline = modelscope_client::inline_action("a.txt", b"a");
    let err = c
        .commit(&id, "master", "m", vec![inline.clone()])
        .await
        .unwrap_err();
    assert!(matches!(err, ModelScopeError::NotFound { .. }), "{err:?}");
    let ghost = ModelId::new("ruvnet/does-not-exist").unwrap();
    let err = c
        .commit(&ghost, "experiment-x", "m", vec![inline])
        .await
        .unwrap_err();
    assert!(matches!(err, ModelScopeError::NotFound { .. }), "{err:?}");
    server.stop();
}
