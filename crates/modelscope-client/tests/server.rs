//! Publishes to the local server's ModelScope mode for real: create (existing ok), missing
//! objects by batch, streamed uploads, one-request commits, listing with sha256, tags,
//! downloads, and the error paths (no token, wrong token, bad ids, bad endpoints). Through the
//! shared transport, downloads are retried (a 503 on the opening, a connection dropped
//! mid-body), uploads re-read their file after a dropped PUT, and an endpoint given as its
//! API root (`…/api/v1`, as API URLs are printed) means the same site.

use std::path::Path;

use std::time::Duration;

use hub_client::{RetryPolicy, Token};
use hub_server::{Action, Fault, HubServer, Match};
use modelscope_client::{
    DEFAULT_ENDPOINT, LocalFile, ModelId, ModelScopeClient, ModelScopeError, Visibility, hash_file,
    is_lfs, resolve_endpoint_with,
};
use test_support::{LocalHub, pseudo_random};

const TOKEN: &str = "ms_rust_write_token";

/// The local server, taking this file's write and read tokens.
fn server() -> LocalHub {
    LocalHub::start_with(|config| {
        config.write_tokens = vec![TOKEN.to_owned()];
        config.read_tokens = vec!["ms_rust_read_token".to_owned()];
    })
}

fn client(server: &HubServer, token: Option<&str>) -> ModelScopeClient {
    ModelScopeClient::builder()
        .endpoint(resolve_endpoint_with(Some(&server.url()), |_| None).unwrap())
        .token(token.and_then(Token::new))
        .build()
        .unwrap()
}

fn write(path: &Path, bytes: &[u8]) -> LocalFile {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    LocalFile {
        path_in_repo: String::new(),
        local: path.to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_list_tag_download_round_trip() {
    let LocalHub { server, dir: tmp } = server();
    let c = client(&server, Some(TOKEN));
    let id = ModelId::new("ruvnet/ruvltra-test").unwrap();

    assert!(!c.model_exists(&id).await.unwrap());
    assert!(
        c.create_model(&id, Visibility::Public, "apache-2.0")
            .await
            .unwrap()
    );
    assert!(
        !c.create_model(&id, Visibility::Public, "apache-2.0")
            .await
            .unwrap()
    );
    assert!(c.model_exists(&id).await.unwrap());

    let src = tmp.path().join("src");
    let big = pseudo_random(3 * 1024 * 1024 + 11, 7);
    let mut files = vec![
        write(
            &src.join("README.md"),
            b"---\ntasks:\n- text-generation\n---\n# RuvLTRA\n",
        ),
        write(&src.join("model-q4.gguf"), &big),
        write(&src.join("tiny.gguf"), b"GGUF tiny"),
        write(&src.join("notes.txt"), b"plain text\n"),
    ];
    for (f, p) in
        files
            .iter_mut()
            .zip(["README.md", "model-q4.gguf", "gguf/tiny.gguf", "notes.txt"])
    {
        f.path_in_repo = p.to_owned();
    }
    let report = c
        .upload_files(&id, "master", &files, "Publish RuvLTRA")
        .await
        .unwrap();
    assert_eq!(report.uploaded_objects.len(), 2, "{report:?}");
    assert!(report.reused.is_empty());
    assert_eq!(report.inline, vec!["README.md", "notes.txt"]);
    assert_eq!(report.commit.len(), 40);

    let listed = c.list_files(&id, "master").await.unwrap();
    let paths: Vec<&str> = listed.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            ".gitattributes",
            "README.md",
            "gguf/tiny.gguf",
            "model-q4.gguf",
            "notes.txt"
        ]
    );
    for f in &files {
        let (sha, size) = hash_file(&f.local).await.unwrap();
        let entry = listed.iter().find(|e| e.path == f.path_in_repo).unwrap();
        assert_eq!(
            entry.sha256.as_deref(),
            Some(sha.as_str()),
            "{}",
            f.path_in_repo
        );
        assert_eq!(entry.size, size);
        assert_eq!(entry.lfs, is_lfs(&f.path_in_repo, size));
        if !entry.lfs {
            let bytes = std::fs::read(&f.local).unwrap();
            assert_eq!(entry.blob_id, Some(hub_client::git_blob_sha1(&bytes)));
        }
    }

    // The same files again: the batch says every object is present, so nothing is sent.
    let again = c
        .upload_files(&id, "master", &files, "Publish RuvLTRA again")
        .await
        .unwrap();
    assert!(again.uploaded_objects.is_empty(), "{again:?}");
    assert_eq!(again.reused, vec!["model-q4.gguf", "gguf/tiny.gguf"]);
    assert_ne!(again.commit, report.commit);

    assert!(c.create_tag(&id, "v1.0.0", "master").await.unwrap());
    assert!(!c.create_tag(&id, "v1.0.0", "master").await.unwrap());
    let revs = c.revisions(&id).await.unwrap();
    assert_eq!(revs.tags.get("v1.0.0"), revs.branches.get("master"));
    assert_eq!(revs.tags["v1.0.0"], again.commit);

    // A tag that exists elsewhere is an error, not a silent move.
    let third = c
        .upload_files(&id, "master", &files[3..], "third")
        .await
        .unwrap();
    let err = c
        .create_tag(&id, "v1.0.0", &third.commit)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");

    let dest = tmp.path().join("dl/model.gguf");
    let (sha, size) = c
        .download_to(&id, "v1.0.0", "model-q4.gguf", &dest)
        .await
        .unwrap();
    assert_eq!(size, big.len() as u64);
    assert_eq!(std::fs::read(&dest).unwrap(), big);
    assert_eq!((sha, size), hash_file(&files[1].local).await.unwrap());
    assert_eq!(
        c.download_sha256(&id, "master", "gguf/tiny.gguf")
            .await
            .unwrap(),
        hash_file(&files[2].local).await.unwrap()
    );
    let missing = c
        .download_to(&id, "master", "nope.bin", &tmp.path().join("dl/nope"))
        .await
        .unwrap_err();
    assert!(
        matches!(missing, ModelScopeError::NotFound { .. }),
        "{missing}"
    );
    assert!(!tmp.path().join("dl/nope").exists());
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path().join("dl")).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "temporary files were left behind");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_and_wrong_tokens_fail_clearly_without_showing_the_token() {
    let LocalHub { server, dir: _data } = server();
    let id = ModelId::new("ruvnet/secret-test").unwrap();

    let anonymous = client(&server, None);
    let err = anonymous
        .create_model(&id, Visibility::Private, "apache-2.0")
        .await
        .unwrap_err();
    assert!(matches!(err, ModelScopeError::NoToken { .. }), "{err}");
    assert!(err.to_string().contains("MODELSCOPE_API_TOKEN"));

    let wrong = "ms_wrong_token_value_1234";
    let bad = client(&server, Some(wrong));
    let err = bad
        .create_model(&id, Visibility::Private, "apache-2.0")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(!err.to_string().contains(wrong));
    assert!(!format!("{err:?}").contains(wrong));
    assert!(!format!("{bad:?}").contains(wrong));

    let reader = client(&server, Some("ms_rust_read_token"));
    let writer = client(&server, Some(TOKEN));
    writer
        .create_model(&id, Visibility::Private, "apache-2.0")
        .await
        .unwrap();
    // A private model: readers with a token see it, anonymous callers do not.
    assert!(reader.model_exists(&id).await.unwrap());
    assert!(!anonymous.model_exists(&id).await.unwrap());
    let err = reader.create_tag(&id, "v1", "master").await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    server.stop();
}

#[test]
fn endpoint_resolution_follows_the_sdk() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    let r = |explicit, pairs| {
        resolve_endpoint_with(explicit, env(pairs))
            .unwrap()
            .to_string()
    };
    assert_eq!(r(None, &[]), DEFAULT_ENDPOINT);
    assert_eq!(
        r(None, &[("MODELSCOPE_DOMAIN", "www.modelscope.ai")]),
        "https://www.modelscope.ai"
    );
    assert_eq!(
        r(None, &[("MODELSCOPE_DOMAIN", "http://127.0.0.1:9")]),
        "http://127.0.0.1:9"
    );
    assert_eq!(
        r(
            None,
            &[
                ("MODELSCOPE_DOMAIN", "a.example"),
                ("MODELSCOPE_ENDPOINT", "http://127.0.0.1:8/")
            ]
        ),
        "http://127.0.0.1:8"
    );
    assert_eq!(
        r(
            Some("https://ms.example"),
            &[("MODELSCOPE_ENDPOINT", "http://127.0.0.1:8")]
        ),
        "https://ms.example"
    );
    assert_eq!(r(None, &[("MODELSCOPE_ENDPOINT", "  ")]), DEFAULT_ENDPOINT);
    for bad in [
        "ftp://x.example",
        "https://user:pw@x.example",
        "https://x.example/?q=1",
    ] {
        let err = resolve_endpoint_with(
            None,
            env(Box::leak(Box::new([("MODELSCOPE_ENDPOINT", bad)]))),
        )
        .unwrap_err();
        assert!(err.to_string().contains("MODELSCOPE_ENDPOINT"), "{err}");
    }
    assert_eq!(
        modelscope_client::token_from_env_with(env(&[("MODELSCOPE_API_TOKEN", "  ms-x  ")]))
            .map(|t| t.expose_secret().to_owned()),
        Some("ms-x".to_owned())
    );
    assert!(
        modelscope_client::token_from_env_with(env(&[("MODELSCOPE_API_TOKEN", " ")])).is_none()
    );
}

#[test]
fn model_ids_and_lfs_rule() {
    assert_eq!(
        ModelId::new("ruvnet/RuvLTRA-0.5B_v1.2")
            .unwrap()
            .to_string(),
        "ruvnet/RuvLTRA-0.5B_v1.2"
    );
    for bad in [
        "noslash", "/x", "x/", "a/b/c", "a/.x", "a/-x", "a/b..c", "a/b c", "a/b%2F",
    ] {
        assert!(ModelId::new(bad).is_err(), "{bad}");
    }
    assert!(is_lfs("m.gguf", 10));
    assert!(is_lfs("dir/M.SafeTensors", 10));
    assert!(!is_lfs("config.json", 64 * 1024));
    assert!(is_lfs("config.json", 64 * 1024 + 1));
    assert!(!is_lfs("README.md", 10 << 20));
    assert!(!is_lfs(".gitattributes", 10));
}

/// A client of `endpoint` whose retries come quickly.
fn retrying(endpoint: &str, retries: u32) -> ModelScopeClient {
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
    let mut file = write(&dir.join("model.gguf"), &pseudo_random(200_000, 3));
    file.path_in_repo = "model.gguf".into();
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
    let LocalHub { server, dir: tmp } = server();
    let c = retrying(&server.url(), 3);
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
    let impatient = retrying(&server.url(), 0);
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
    let LocalHub { server, dir: tmp } = server();
    let c = retrying(&server.url(), 3);
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
    let LocalHub { server, dir: _data } = server();
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
    let c = retrying(&printed, 0);
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
