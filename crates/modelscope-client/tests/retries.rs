//! ModelScope goes through the shared transport: downloads are retried (a 503 on the opening,
//! a connection dropped mid-body), uploads re-read their file after a dropped PUT, and an
//! endpoint given as its API root (`…/api/v1`, as API URLs are printed) means the same site.

use std::path::Path;
use std::time::Duration;

use hub_client::{RetryPolicy, Token};
use hub_server::{Action, Fault, HubServer, Match, ServerConfig};
use modelscope_client::{
    LocalFile, ModelId, ModelScopeClient, ModelScopeError, Visibility, hash_file,
    resolve_endpoint_with,
};

const TOKEN: &str = "ms_rust_write_token";

fn server(dir: &Path) -> HubServer {
    let mut config = ServerConfig::new(dir.join("data"));
    config.write_tokens = vec![TOKEN.to_owned()];
    HubServer::spawn(config).unwrap()
}

fn client(endpoint: &str, retries: u32) -> ModelScopeClient {
    ModelScopeClient::builder()
        .endpoint(resolve_endpoint_with(Some(endpoint), |_| None).unwrap())
        .token(Token::new(TOKEN))
        .retry_policy(RetryPolicy {
            max_retries: retries,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
}

/// A model holding `model.gguf` (200 kB) on `master`; returns its local copy.
async fn published(c: &ModelScopeClient, dir: &Path, id: &ModelId) -> LocalFile {
    c.create_model(id, Visibility::Public, "apache-2.0")
        .await
        .unwrap();
    let local = dir.join("model.gguf");
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(&local, bytes).unwrap();
    let file = LocalFile {
        path_in_repo: "model.gguf".into(),
        local,
    };
    c.upload_files(id, "master", std::slice::from_ref(&file), "publish")
        .await
        .unwrap();
    file
}

fn download_path() -> Match {
    Match::any().method("GET").path_contains("/repo")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_are_retried_on_the_opening_and_after_a_dropped_body() {
    let tmp = tempfile::tempdir().unwrap();
    let server = server(tmp.path());
    let c = client(&server.url(), 3);
    let id = ModelId::new("ruvnet/retried").unwrap();
    let file = published(&c, tmp.path(), &id).await;
    let expected = hash_file(&file.local).await.unwrap();

    server
        .faults()
        .add(Fault::once(download_path(), Action::Status(503)));
    let got = c
        .download_sha256(&id, "master", "model.gguf")
        .await
        .unwrap();
    assert_eq!(got, expected);
    assert_eq!(server.stats().faults_fired, 1);

    server
        .faults()
        .add(Fault::once(download_path(), Action::DropAfter(50_000)));
    let dest = tmp.path().join("dl/model.gguf");
    let got = c
        .download_to(&id, "master", "model.gguf", &dest)
        .await
        .unwrap();
    assert_eq!(got, expected);
    assert_eq!(
        std::fs::read(&dest).unwrap(),
        std::fs::read(&file.local).unwrap()
    );
    assert_eq!(server.stats().faults_fired, 2);
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path().join("dl"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "temporary files were left: {leftovers:?}"
    );

    // With the retries used up, the failure is reported, and no file is left behind.
    let impatient = client(&server.url(), 0);
    server
        .faults()
        .add(Fault::once(download_path(), Action::Status(503)));
    let err = impatient
        .download_to(
            &id,
            "master",
            "model.gguf",
            &tmp.path().join("dl/again.gguf"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503), "{err}");
    assert!(!tmp.path().join("dl/again.gguf").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_upload_is_sent_again_from_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let server = server(tmp.path());
    let c = client(&server.url(), 3);
    server.faults().add(Fault::once(
        Match::any().method("PUT").path_contains("/lfs-upload/"),
        Action::DropAfter(1000),
    ));
    let id = ModelId::new("ruvnet/reupload").unwrap();
    let file = published(&c, tmp.path(), &id).await;
    assert_eq!(server.stats().faults_fired, 1);
    let listed = c.list_files(&id, "master").await.unwrap();
    let entry = listed.iter().find(|f| f.path == "model.gguf").unwrap();
    let (sha, size) = hash_file(&file.local).await.unwrap();
    assert_eq!(entry.sha256.as_deref(), Some(sha.as_str()));
    assert_eq!(entry.size, size);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_given_as_its_api_root_means_the_site() {
    let tmp = tempfile::tempdir().unwrap();
    let server = server(tmp.path());
    let printed = format!("{}/api/v1", server.url());
    for given in [printed.clone(), format!("{printed}/")] {
        let endpoint = resolve_endpoint_with(Some(&given), |_| None).unwrap();
        assert_eq!(endpoint.as_str(), server.url(), "{given}");
    }
    let from_env = resolve_endpoint_with(None, |name| {
        (name == "MODELSCOPE_ENDPOINT").then(|| printed.clone())
    })
    .unwrap();
    assert_eq!(from_env.as_str(), server.url());
    // The client made from the printed form reaches the API (no `/api/v1/api/v1`).
    let c = client(&printed, 0);
    let id = ModelId::new("ruvnet/printed").unwrap();
    assert!(!c.model_exists(&id).await.unwrap());
    assert!(
        c.create_model(&id, Visibility::Public, "apache-2.0")
            .await
            .unwrap()
    );
    assert!(c.model_exists(&id).await.unwrap());
    // Only a trailing API root is trimmed; other paths are kept as given.
    let other = resolve_endpoint_with(Some("https://ms.example/mirror"), |_| None).unwrap();
    assert_eq!(other.as_str(), "https://ms.example/mirror");
    let err = resolve_endpoint_with(Some("ftp://ms.example/api/v1"), |_| None).unwrap_err();
    assert!(matches!(err, ModelScopeError::InvalidInput { .. }), "{err}");
}
