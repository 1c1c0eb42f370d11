//! Model cards: validate-yaml answers as huggingface_hub reads them, and commits of an invalid
//! README.md are refused, checked with the official client too.

use hub_server::ServerConfig;
use serde_json::{Value, json};

use super::fixture::{Hub, TOKEN, file, header};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_yaml_answers_errors_and_warnings_as_huggingface_hub_reads_them() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let validate = |body: Value| {
        let hub = &hub;
        async move {
            let r = hub
                .send(reqwest::Method::POST, "/api/validate-yaml", Some(body))
                .await;
            let status = r.status().as_u16();
            let v: Value = r.json().await.expect("every answer is JSON");
            (status, v)
        }
    };
    let good = "---\nlicense: apache-2.0\ntags:\n- gguf\nlibrary_name: gguf\n---\n# Card\n";
    let (status, v) = validate(json!({"content": good, "repoType": "model"})).await;
    assert_eq!((status, v), (200, json!({"errors": [], "warnings": []})));
    // No front matter at all is fine; an empty block is a warning.
    let (status, v) = validate(json!({"content": "# Only text\n"})).await;
    assert_eq!((status, &v["errors"]), (200, &json!([])));
    let (status, v) = validate(json!({"content": "---\n---\n# x\n"})).await;
    assert_eq!(status, 200);
    assert!(
        v["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("empty metadata")
    );

    for (card, needle) in [
        ("---\nlicense: [apache-2.0\n---\n", "not valid YAML"),
        ("---\n- a\n- b\n---\n", "must be a mapping"),
        ("---\nlicense: 3\n---\n", "\"license\" must be a string"),
        (
            "---\ntags: {a: b}\n---\n",
            "\"tags\" must be a string or a list of strings",
        ),
        (
            "---\nlanguage: [en, {x: 1}]\n---\n",
            "\"language[1]\" must be a string",
        ),
        (
            "---\nbase_model: 12\n---\n",
            "\"base_model\" must be a string or a list",
        ),
        (
            "---\npipeline_tag: [text-generation]\n---\n",
            "\"pipeline_tag\" must be a string",
        ),
        (
            "---\nmodel-index: [{name: m}]\n---\n",
            "\"model-index[0].results\" is required",
        ),
        ("---\na: 1\na: 2\n---\n", "not valid YAML"),
    ] {
        let (status, v) = validate(json!({"content": card, "repoType": "model"})).await;
        assert_eq!(status, 400, "{card:?}: {v}");
        let message = v["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{card:?}: {v}");
        assert_eq!(v["warnings"], json!([]));
    }
    // A body the endpoint cannot read is refused in the same JSON shape.
    let (status, v) = validate(json!({"text": "x"})).await;
    assert_eq!(status, 400);
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("content")
    );
    let (status, _) = validate(json!({"content": good, "repoType": "bucket"})).await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_readme_has_invalid_metadata_is_refused_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path())).await;
    let repo = hub.create_repo("card").await;
    let head_path = format!("/api/models/{repo}/revision/main");
    let head = async |hub: &Hub| {
        hub.get_json(&head_path).await["sha"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let before = head(&hub).await;
    let r = hub
        .commit(
            &repo,
            "main",
            &[
                header("bad card", Some(&before)),
                file("notes.txt", b"kept out too\n"),
                file("README.md", b"---\nlicense: [mit\n---\n# x\n"),
            ],
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["x-error-code"], "BadRequest");
    let v: Value = r.json().await.unwrap();
    let error = v["error"].as_str().unwrap();
    assert!(
        error.starts_with("Invalid metadata in README.md: the YAML metadata is not valid YAML"),
        "{v}"
    );
    assert_eq!(head(&hub).await, before, "nothing was committed");

    let r = hub
        .commit(
            &repo,
            "main",
            &[
                header("types", None),
                file("README.md", b"---\ntags: 5\n---\n"),
            ],
        )
        .await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("\"tags\" must be a string or a list of strings"),
        "{v}"
    );
    assert_eq!(head(&hub).await, before);

    // Only the root card is a card; a valid one, and a README without metadata, commit.
    for (path, content) in [
        ("docs/README.md", &b"---\n- not: a card\n---\n"[..]),
        ("README.md", b"---\nlicense: apache-2.0\n---\n# ok\n"),
        ("README.md", b"# no metadata\n"),
    ] {
        let r = hub
            .commit(&repo, "main", &[header("ok", None), file(path, content)])
            .await;
        assert_eq!(r.status(), 200, "{path}: {}", r.text().await.unwrap());
    }
    assert_ne!(head(&hub).await, before);
}

/// What huggingface_hub does with the server's validate-yaml answers: `upload_file` of a
/// README.md calls it before uploading and raises ValueError with each error message.
const PYTHON_CARD_CHECK: &str = r#"
import sys, warnings
from huggingface_hub import HfApi, ModelCard
api = HfApi()
repo = api.create_repo("cards").repo_id
try:
    api.upload_file(path_or_fileobj=b"---\nlicense: [mit\n---\n# x\n", path_in_repo="README.md", repo_id=repo)
    sys.exit("an invalid card was accepted")
except ValueError as e:
    assert "Invalid metadata in README.md" in str(e) and "not valid YAML" in str(e), str(e)
try:
    api.upload_file(path_or_fileobj=b"---\ntags: 5\n---\n", path_in_repo="README.md", repo_id=repo)
    sys.exit("a wrong type was accepted")
except ValueError as e:
    assert '"tags" must be a string or a list of strings' in str(e), str(e)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    api.upload_file(path_or_fileobj=b"---\n---\n# empty\n", path_in_repo="README.md", repo_id=repo)
assert any("empty metadata" in str(w.message) for w in caught), [str(w.message) for w in caught]
good = "---\nlicense: apache-2.0\ntags:\n- gguf\n---\n# Card\n"
api.upload_file(path_or_fileobj=good.encode(), path_in_repo="README.md", repo_id=repo)
ModelCard(good).validate()
try:
    ModelCard("---\nlicense: 3\n---\n").validate()
    sys.exit("ModelCard.validate accepted a wrong type")
except ValueError as e:
    assert '"license" must be a string' in str(e), str(e)
print("ok")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_client_reads_the_validate_yaml_answers() {
    for mode in dev_python::HubTransfer::BOTH {
        the_official_client_reads_the_validate_yaml_answers_in(mode).await;
    }
}

async fn the_official_client_reads_the_validate_yaml_answers_in(mode: dev_python::HubTransfer) {
    // The venv's python with huggingface_hub; fails (never skips) when it is missing.
    let python = dev_python::Python::with_modules(&["huggingface_hub"]);
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub::start(ServerConfig::new(tmp.path().join("data"))).await;
    let run = python
        .snippet(PYTHON_CARD_CHECK)
        .hub_transfer(mode, tmp.path())
        .env_remove("HUGGINGFACE_CO_STAGING")
        .env_remove("HF_HUB_OFFLINE")
        .env("HF_ENDPOINT", hub.server.url())
        .env("HF_TOKEN", TOKEN)
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        .env("HF_HOME", tmp.path().join("hf-home"))
        .env("HF_HUB_CACHE", tmp.path().join("hf-cache"));
    // The server runs on this runtime; the client waits on a blocking thread.
    let out = tokio::task::spawn_blocking(move || run.output())
        .await
        .unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok",
        "{mode}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The two refused cards never reached a commit; the empty and the good one did.
    assert_eq!(hub.server.stats().commits, 2, "{mode}");
    hub.server.shutdown().await;
}
