//! End-to-end publishes against the local Hub server: first publish, idempotent re-publish,
//! update, tag, branch, refusals before upload, missing token, the 412 race, tampering,
//! multipart, the request budget and the official Python client's view of the result.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use common::*;
use hub_client::{CommitOp, HubClient, NewCommit, Sha256};
use ruvltra_registry::Quant;
use ruvltra_uploader::{
    Action, Event, ModelUploader, PublishOptions, UploadError, UploadMetadata, VerifyOptions,
};

const A: Spec = Spec::new("small", "0.5b", Quant::Q4_K_M);
const B: Spec = Spec::new("small", "0.5b", Quant::Q8_0);
const C: Spec = Spec::new("medium", "1.1b", Quant::Q4_K_M);

fn actions(report: &ruvltra_uploader::RepoReport) -> BTreeMap<String, Action> {
    report
        .plan
        .iter()
        .map(|e| (e.path.clone(), e.action))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_publish_uploads_everything_in_one_commit_and_verifies() {
    let fx = Fixture::new();
    let a = fx.write_sample(&A, 1);
    let b = fx.write_sample(&B, 1);
    let reg = registry(&[A, B]);
    let report = fx
        .uploader()
        .publish(&reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap();

    assert!(report.verified(), "{report:#?}");
    let published = &report.repos[0];
    assert!(published.created_repo);
    assert!(published.commit.is_some());
    assert_eq!(published.objects_sent, 2);
    assert_eq!(published.bytes_sent, file_size(&a) + file_size(&b));
    let plan = actions(published);
    for path in [
        A.file(),
        B.file(),
        "README.md".to_owned(),
        format!("ollama/{}/Modelfile", A.id()),
        format!("ollama/{}/Modelfile", B.id()),
    ] {
        assert_eq!(plan.get(&path), Some(&Action::Add), "{path}: {plan:?}");
    }
    let stats = fx.stats();
    assert_eq!(stats.commits, 1);
    assert_eq!(stats.upload_bytes, file_size(&a) + file_size(&b));
    assert!(!stats.auth_on_presigned);

    // The Hub holds exactly what was hashed locally.
    let tree = fx
        .client()
        .list_tree(&repo(), "main", None, true)
        .await
        .unwrap();
    let lfs = tree
        .iter()
        .find(|e| e.path == A.file())
        .unwrap()
        .lfs
        .unwrap();
    let local = ruvltra_uploader::hash_file(&a, &mut |_| {}).unwrap();
    assert_eq!((lfs.oid, lfs.size), local);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn republishing_the_same_files_sends_nothing_and_makes_no_commit() {
    let fx = Fixture::new();
    fx.write_sample(&A, 1);
    fx.write_sample(&B, 1);
    let reg = registry(&[A, B]);
    let up = fx.uploader();
    let first = up
        .publish(&reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap();
    let before = fx.stats();
    let again = up
        .publish(&reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap();
    let after = fx.stats();

    assert!(again.verified());
    let again_repo = &again.repos[0];
    assert_eq!(again_repo.commit, None);
    assert_eq!(again_repo.head, first.repos[0].commit);
    assert_eq!(again_repo.bytes_sent, 0);
    assert!(
        again_repo
            .plan
            .iter()
            .all(|e| e.action == Action::Unchanged),
        "{:?}",
        again_repo.plan
    );
    assert_eq!(after.commits, before.commits, "no new commit");
    assert_eq!(after.upload_bytes, before.upload_bytes, "no byte sent");
    // The no-op costs a plan read and a verify read, nothing else.
    assert_eq!(after.api_requests - before.api_requests, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_one_file_uploads_only_that_file() {
    let fx = Fixture::new();
    fx.write_sample(&A, 1);
    fx.write_sample(&B, 1);
    let reg = registry(&[A, B]);
    let up = fx.uploader();
    up.publish(&reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap();
    let before = fx.stats();
    let changed = fx.write_sample(&B, 2);
    let report = up
        .publish(&reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap();
    let after = fx.stats();

    assert!(report.verified());
    let plan = actions(&report.repos[0]);
    assert_eq!(plan[&A.file()], Action::Unchanged);
    assert_eq!(plan[&B.file()], Action::Update);
    // The card lists sizes and sha256s, so it changes with the file; the Modelfiles do not.
    assert_eq!(plan["README.md"], Action::Update);
    assert_eq!(
        plan[&format!("ollama/{}/Modelfile", B.id())],
        Action::Unchanged
    );
    assert_eq!(after.commits - before.commits, 1);
    assert_eq!(
        after.upload_bytes - before.upload_bytes,
        file_size(&changed)
    );
    assert_eq!(report.repos[0].objects_sent, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_the_verified_commit_and_never_moves_a_tag() {
    let fx = Fixture::new();
    fx.write_sample(&A, 1);
    let reg = registry(&[A]);
    let up = fx.uploader();
    let opts = PublishOptions {
        tag: Some("v1.0.0".into()),
        ..PublishOptions::default()
    };
    let first = up.publish(&reg, &fx.files, &opts).await.unwrap();
    let commit = first.repos[0].commit.clone().unwrap();
    let tag = first.repos[0].tag.clone().unwrap();
    assert!(tag.created);
    assert_eq!(tag.commit, commit);
    let refs = fx.client().list_refs(&repo()).await.unwrap();
    assert_eq!(refs.tag("v1.0.0"), Some(commit.as_str()));

    // The same tag on the same commit: fine.
    let again = up.publish(&reg, &fx.files, &opts).await.unwrap();
    let tag = again.repos[0].tag.clone().unwrap();
    assert!(!tag.created);
    assert_eq!(tag.commit, commit);

    // The same tag on a new commit: refused, and the tag stays where it was.
    fx.write_sample(&A, 2);
    let err = up.publish(&reg, &fx.files, &opts).await.unwrap_err();
    assert!(
        matches!(&err, UploadError::TagConflict { existing, .. } if *existing == commit),
        "{err}"
    );
    assert!(err.to_string().contains("v1.0.0"), "{err}");
    let refs = fx.client().list_refs(&repo()).await.unwrap();
    assert_eq!(refs.tag("v1.0.0"), Some(commit.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_to_a_new_branch_without_touching_main() {
    let fx = Fixture::new();
    fx.write_sample(&A, 1);
    let reg = registry(&[A]);
    let up = fx.uploader();
    up.publish(&reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap();
    let main_before = fx.client().resolve_revision(&repo(), "main").await.unwrap();

    fx.write_sample(&A, 2);
    let opts = PublishOptions {
        branch: Some("experimental".into()),
        ..PublishOptions::default()
    };
    let report = up.publish(&reg, &fx.files, &opts).await.unwrap();
    assert!(report.verified());
    let r = &report.repos[0];
    assert!(r.created_branch);
    assert_eq!(r.branch, "experimental");
    assert_eq!(r.parent_commit.as_deref(), Some(main_before.as_str()));
    assert_eq!(actions(r)[&A.file()], Action::Update);

    let client = fx.client();
    assert_eq!(
        client.resolve_revision(&repo(), "main").await.unwrap(),
        main_before
    );
    assert_eq!(
        client
            .resolve_revision(&repo(), "experimental")
            .await
            .unwrap(),
        r.commit.clone().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quant_that_disagrees_with_the_name_is_refused_before_any_request() {
    let fx = Fixture::new();
    fx.write_sample(&A, 1);
    // A Q8_0 file under a Q4_K_M name.
    write_sample_as(&fx.files.join(C.file()), Quant::Q8_0, "wrong quant");
    let reg = registry(&[A, C]);
    let err = fx
        .uploader()
        .publish(&reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap_err();
    let UploadError::Checks(problems) = &err else {
        panic!("expected check problems, got {err}");
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].path, C.file());
    assert!(problems[0].message.contains("Q8_0"), "{err}");
    assert!(problems[0].message.contains("Q4_K_M"), "{err}");
    let stats = fx.stats();
    assert_eq!(stats.upload_bytes, 0);
    assert_eq!(stats.api_requests, 0, "not even the plan was requested");
    assert_eq!(stats.commits, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guessed_quant_that_disagrees_is_only_a_warning() {
    let fx = Fixture::new();
    let mut sample =
        ruvltra_gguf::writer::SampleModel::new("qwen2", Quant::Q8_0.file_type(), 600_000);
    sample.write_file_type = false;
    sample.chat_template = None;
    sample
        .build()
        .unwrap()
        .write_file(fx.files.join(A.file()))
        .unwrap();
    let reg = registry(&[A]);
    let report = fx
        .uploader()
        .publish(&reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap();
    assert!(report.verified());
    let joined = report.warnings.join("\n");
    assert!(joined.contains("only a guess"), "{joined}");
    assert!(joined.contains("chat_template"), "{joined}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_sha256_in_the_registry_is_refused_naming_both_values() {
    let fx = Fixture::new();
    let a = fx.write_sample(&A, 1);
    let mut reg = registry(&[A]);
    let wrong = "ab".repeat(32);
    reg.models[0].sha256 = Some(wrong.clone());
    let err = fx
        .uploader()
        .publish(&reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap_err();
    let (actual, _) = ruvltra_uploader::hash_file(&a, &mut |_| {}).unwrap();
    let text = err.to_string();
    assert!(matches!(err, UploadError::Checks(_)), "{text}");
    assert!(text.contains(&wrong), "{text}");
    assert!(text.contains(&actual.to_hex()), "{text}");
    assert_eq!(fx.stats().upload_bytes, 0);
    assert_eq!(fx.stats().commits, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_token_is_a_clear_error_naming_hf_token() {
    let fx = Fixture::new();
    fx.write_sample(&A, 1);
    let reg = registry(&[A]);
    let up = ModelUploader::with_client(fx.client_with(None));
    let err = up
        .publish(&reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            UploadError::MissingToken {
                destination: "Hub",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("HF_TOKEN"), "{err}");
    assert!(err.to_string().starts_with("no Hub token found"), "{err}");
    let err = up
        .upload(fx.files.join(A.file()), REPO, None)
        .await
        .unwrap_err();
    assert!(matches!(err, UploadError::MissingToken { .. }), "{err}");
    assert_eq!(fx.stats().api_requests, 0);

    // A dry run only reads, so it needs no token.
    let plan = up
        .publish(
            &reg,
            &fx.files,
            &PublishOptions {
                dry_run: true,
                ..PublishOptions::default()
            },
        )
        .await
        .unwrap();
    assert!(plan.dry_run && !plan.verified());
    assert_eq!(actions(&plan.repos[0])[&A.file()], Action::Add);
    assert_eq!(fx.stats().commits, 0);
}

/// Commits `path` to main with another client, from a thread of its own.
fn rival_commit(url: String, path: String) {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let client = HubClient::builder()
                .endpoint(hub_client::Endpoint::parse(&url).unwrap())
                .token(hub_client::Token::new(TOKEN))
                .build()
                .unwrap();
            let commit = NewCommit {
                summary: format!("rival adds {path}"),
                description: String::new(),
                parent_commit: None,
                operations: vec![CommitOp::AddRegular {
                    path,
                    bytes: b"written by another publisher\n".to_vec(),
                }],
            };
            client.commit(&repo(), "main", &commit).await.unwrap();
        });
    })
    .join()
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_racing_ours_makes_us_plan_again_and_keeps_both() {
    let fx = Fixture::new();
    fx.write_sample(&A, 1);
    let reg = registry(&[A]);
    let url = fx.server.url();
    let raced = Arc::new(AtomicU32::new(0));
    let counter = raced.clone();
    let up = fx.uploader().observer(Arc::new(move |e| {
        if matches!(e, Event::Committing { .. }) && counter.fetch_add(1, Ordering::SeqCst) == 0 {
            rival_commit(url.clone(), "rival.txt".into());
        }
    }));
    let report = up
        .publish(&reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap();
    assert!(report.verified(), "{report:#?}");
    let r = &report.repos[0];
    assert!(r.replanned);
    assert_eq!(
        raced.load(Ordering::SeqCst),
        2,
        "committed twice: 412, then ok"
    );
    // The object went up once, not twice.
    assert_eq!(fx.stats().upload_bytes, file_size(&fx.files.join(A.file())));
    // No lost update: the rival's file and ours are both on main, and ours is the head.
    let tree = fx
        .client()
        .list_tree(&repo(), "main", None, true)
        .await
        .unwrap();
    assert!(tree.iter().any(|e| e.path == "rival.txt"));
    assert!(tree.iter().any(|e| e.path == A.file()));
    assert_eq!(actions(r)["rival.txt"], Action::ExtraOnHub);
    assert_eq!(
        fx.client().resolve_revision(&repo(), "main").await.unwrap(),
        r.commit.clone().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branch_that_keeps_moving_is_a_clear_conflict() {
    let fx = Fixture::new();
    fx.write_sample(&A, 1);
    let reg = registry(&[A]);
    let url = fx.server.url();
    let n = Arc::new(AtomicU32::new(0));
    let up = fx.uploader().observer(Arc::new(move |e| {
        if matches!(e, Event::Committing { .. }) {
            let i = n.fetch_add(1, Ordering::SeqCst);
            rival_commit(url.clone(), format!("rival-{i}.txt"));
        }
    }));
    let before = fx.stats().commits;
    let err = up
        .publish(&reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, UploadError::Conflict { .. }), "{err}");
    assert!(err.to_string().contains("run the publish again"), "{err}");
    // Only the rival's two commits landed.
    assert_eq!(fx.stats().commits - before, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_every_tampered_path_at_once() {
    let fx = Fixture::new();
    fx.write_sample(&A, 1);
    fx.write_sample(&B, 1);
    let mut reg = registry(&[A, B]);
    let report = fx
        .uploader()
        .publish(&reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap();
    // Record the published sizes and sha256s in the registry, as `sync` would.
    for model in &mut reg.models {
        let entry = report.repos[0]
            .plan
            .iter()
            .find(|e| e.path == model.file)
            .unwrap();
        model.bytes = entry.size;
        model.sha256 = entry.sha256.clone();
    }
    let up = fx.uploader();
    let clean = up
        .verify_registry(
            &reg,
            &VerifyOptions {
                branch: None,
                deep: true,
            },
        )
        .await
        .unwrap();
    assert!(clean.iter().all(|r| r.ok()), "{clean:#?}");
    assert!(clean[0].unverified.is_empty());

    // Another client replaces A's file with other bytes, deletes B's and adds a stray file.
    let client = fx.client();
    let other = fx.dir.path().join("other.gguf");
    write_sample_as(&other, Quant::Q4_K_M, "impostor");
    let (sha, size) = ruvltra_uploader::hash_file(&other, &mut |_| {}).unwrap();
    client
        .upload_lfs_object(&repo(), "main", &other, sha, size, None)
        .await
        .unwrap();
    let commit = NewCommit {
        summary: "tamper".into(),
        description: String::new(),
        parent_commit: None,
        operations: vec![
            CommitOp::AddLfs {
                path: A.file(),
                sha256: sha,
                size,
            },
            CommitOp::Delete { path: B.file() },
            CommitOp::AddRegular {
                path: "stray.bin".into(),
                bytes: b"?".to_vec(),
            },
        ],
    };
    client.commit(&repo(), "main", &commit).await.unwrap();

    let reports = up
        .verify_registry(&reg, &VerifyOptions::default())
        .await
        .unwrap();
    let r = &reports[0];
    assert!(!r.ok());
    let found: Vec<(&str, &str)> = r
        .problems
        .iter()
        .map(|d| (d.path.as_str(), d.problem))
        .collect();
    let a_file = A.file();
    let b_file = B.file();
    let mut wanted = vec![(b_file.as_str(), "missing"), (a_file.as_str(), "sha256")];
    if size != reg.models[0].bytes.unwrap() {
        wanted.push((a_file.as_str(), "size"));
    }
    wanted.sort();
    assert_eq!(found, wanted, "{r:#?}");
    let sha_problem = r.problems.iter().find(|d| d.problem == "sha256").unwrap();
    assert_eq!(sha_problem.actual, sha.to_hex());
    assert_eq!(Some(&sha_problem.expected), reg.models[0].sha256.as_ref());
    assert_eq!(r.extras, vec!["stray.bin".to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_files_go_up_in_parallel_multipart_parts() {
    let fx = Fixture::with_config(|c| {
        c.multipart_threshold = 256 * 1024;
        c.multipart_chunk_size = 128 * 1024;
    });
    let a = fx.write_sample(&A, 1);
    assert!(
        file_size(&a) > 3 * 128 * 1024,
        "the sample must need several parts"
    );
    let reg = registry(&[A]);
    let report = fx
        .uploader()
        .publish(
            &reg,
            &fx.files,
            &PublishOptions {
                deep_verify: true,
                ..PublishOptions::default()
            },
        )
        .await
        .unwrap();
    assert!(report.verified(), "{report:#?}");
    let stats = fx.stats();
    assert_eq!(stats.multipart_uploads, 1);
    assert_eq!(stats.upload_bytes, file_size(&a));
    assert!(!stats.auth_on_presigned);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_of_one_file_as_adr_013_writes_it_and_its_request_budget() {
    let fx = Fixture::new();
    let a = fx.write_sample(&A, 1);
    let up = fx.uploader();
    let (observer, events) = recorder();
    let up = up.observer(observer);

    // First upload into a repository that does not exist yet.
    let first = up
        .upload(
            &a,
            REPO,
            Some(UploadMetadata {
                commit_message: Some("Add the small model".into()),
                quant: Some("q4_k_m".into()),
                architecture: Some("qwen2".into()),
                ..UploadMetadata::default()
            }),
        )
        .await
        .unwrap();
    assert!(first.verified());
    let s1 = fx.stats();
    assert_eq!(s1.commits, 1);

    // A new version of the same file into the existing repository.
    fx.write_sample(&A, 2);
    let before = fx.stats();
    let second = up.upload(&a, REPO, None).await.unwrap();
    assert!(second.verified());
    let s2 = fx.stats();
    let update_requests = s2.api_requests - before.api_requests;
    let update_transfers = s2.transfer_requests - before.transfer_requests;
    eprintln!(
        "request budget: first upload into a new repo: {} API + {} transfer requests, {} commit; \
         update of one file: {update_requests} API + {update_transfers} transfer requests, {} commit",
        s1.api_requests,
        s1.transfer_requests,
        s1.commits,
        s2.commits - before.commits
    );
    // A single-file upload expects the repository to exist, so it reads first: an update is
    // model_info, LFS batch, LFS verify (a basic upload; a multipart one has none), commit and
    // tree for verify. Into a new repository the read answers 404, then create and read again.
    assert_eq!(update_requests, 5, "{update_requests} API requests");
    assert_eq!(
        s1.api_requests, 7,
        "the first upload also creates the repository"
    );
    assert_eq!(s2.commits - before.commits, 1);
    let recorded = events.lock().unwrap();
    assert!(recorded.iter().any(|e| matches!(e, Event::HashDone { .. })));
    assert!(
        recorded
            .iter()
            .any(|e| matches!(e, Event::UploadDone { sent: true, .. }))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_whose_files_are_absent_are_skipped_with_a_notice() {
    let fx = Fixture::new();
    fx.write_sample(&A, 1);
    let reg = registry(&[A, B]);
    let report = fx
        .uploader()
        .publish(&reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap();
    assert!(report.verified());
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].id, B.id());
    assert!(!actions(&report.repos[0]).contains_key(&B.file()));

    let empty = tempfile::tempdir().unwrap();
    let err = fx
        .uploader()
        .publish(&reg, empty.path(), &PublishOptions::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("none of the registry's model files"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_never_holds_the_token_or_an_upload_url() {
    let fx = Fixture::new();
    fx.write_sample(&A, 1);
    let reg = registry(&[A]);
    let (observer, events) = recorder();
    let report = fx
        .uploader()
        .observer(observer)
        .publish(&reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap();
    let json = serde_json::to_string(&report).unwrap();
    let events = format!("{:?}", events.lock().unwrap());
    for text in [&json, &events] {
        assert!(!text.contains(TOKEN));
        assert!(!text.contains("http://"), "no URL at all: {text}");
    }
    let _ = Sha256::digest(b"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_tag_or_branch_name_is_refused_before_anything_is_read_or_sent() {
    let fx = Fixture::new();
    fx.write_sample(&A, 1);
    let reg = registry(&[A]);
    for (branch, tag) in [(None, Some("v1 .0")), (Some("a/../b"), None)] {
        let opts = PublishOptions {
            branch: branch.map(str::to_owned),
            tag: tag.map(str::to_owned),
            ..PublishOptions::default()
        };
        let err = fx
            .uploader()
            .publish(&reg, &fx.files, &opts)
            .await
            .unwrap_err();
        assert!(matches!(err, UploadError::InvalidInput(_)), "{err}");
        assert!(err.to_string().contains("cannot be used"), "{err}");
    }
    assert_eq!(fx.stats().api_requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_verify_follows_the_cdn_redirect_without_the_token() {
    let fx = Fixture::with_config(|c| c.lfs_redirect = true);
    fx.write_sample(&A, 1);
    let reg = registry(&[A]);
    let opts = PublishOptions {
        deep_verify: true,
        ..PublishOptions::default()
    };
    let report = fx.uploader().publish(&reg, &fx.files, &opts).await.unwrap();
    let verify = report.repos[0].verify.as_ref().unwrap();
    assert!(verify.ok() && verify.deep, "{verify:#?}");
    assert!(
        !fx.stats().auth_on_presigned,
        "no token on upload or CDN URLs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_with_a_card_to_a_branch_with_a_tag() {
    let fx = Fixture::new();
    let a = fx.write_sample(&A, 1);
    let card = "---\nlicense: apache-2.0\ntags:\n- gguf\n---\n# Test\n";
    let report = fx
        .uploader()
        .upload(
            &a,
            REPO,
            Some(UploadMetadata {
                revision: Some("candidate".into()),
                path_in_repo: Some("models/a.gguf".into()),
                model_card: Some(card.into()),
                tag: Some("v0.1.0".into()),
                ..UploadMetadata::default()
            }),
        )
        .await
        .unwrap();
    assert!(report.verified());
    let r = &report.repos[0];
    assert!(r.created_repo && r.created_branch);
    assert_eq!(r.tag.as_ref().unwrap().commit, r.commit.clone().unwrap());
    let tree = fx
        .client()
        .list_tree(&repo(), "candidate", None, true)
        .await
        .unwrap();
    assert!(
        tree.iter()
            .any(|e| e.path == "models/a.gguf" && e.lfs.is_some())
    );
    let readme = tree.iter().find(|e| e.path == "README.md").unwrap();
    assert_eq!(readme.size, card.len() as u64);
    let main = fx
        .client()
        .list_tree(&repo(), "main", None, true)
        .await
        .unwrap();
    assert!(!main.iter().any(|e| e.path == "models/a.gguf"));
}

/// The API endpoints a publish may call, each as (name, method, a substring of its path).
const ENDPOINTS: &[(&str, &str, &str)] = &[
    ("create", "POST", "/api/repos/create"),
    ("model_info", "GET", "/revision/"),
    ("validate-yaml", "POST", "/api/validate-yaml"),
    ("lfs batch", "POST", "/info/lfs/objects/batch"),
    ("lfs verify", "POST", "/info/lfs/objects/verify"),
    ("commit", "POST", "/commit/"),
    ("tree", "GET", "/tree/"),
    ("refs", "GET", "/refs"),
    ("tag", "POST", "/tag/"),
];

/// Publishes one model into a new repository, then again unchanged; then, with the registry
/// recording a sync of the repository (as `cargo xtask sync` leaves it), a new version of the
/// file and again unchanged. Runs on a fresh server with one counting rule (a zero-length
/// stall) on `endpoint`. Returns, for each of the four publishes, the server's API request
/// count and how many of those were `endpoint`.
async fn count_publish_requests(endpoint: (&str, &str)) -> [(u64, u64); 4] {
    // Multipart for every object, as for the benchmark's 1 GiB file: a basic upload would add
    // its LFS verify POST.
    let fx = Fixture::with_config(|c| c.multipart_threshold = 1);
    fx.write_sample(&A, 1);
    let mut reg = registry(&[A]);
    let up = fx.uploader();
    fx.server.faults().add(hub_server::Fault::new(
        hub_server::Match::any()
            .method(endpoint.0)
            .path_contains(endpoint.1),
        u32::MAX,
        hub_server::Action::Stall(std::time::Duration::ZERO),
    ));
    let mut counts = [(0, 0); 4];
    let mut head = None;
    for (round, count) in counts.iter_mut().enumerate() {
        if round == 2 {
            reg.models[0].hub = Some(ruvltra_registry::HubState {
                commit: head.take().expect("the head after the first publishes"),
                synced_at: "2026-11-26T00:00:00Z".to_owned(),
                tags: Vec::new(),
                extra: Default::default(),
            });
            fx.write_sample(&A, 2);
        }
        let (requests, fired) = (fx.stats().api_requests, fx.server.faults().fired());
        let report = up
            .publish(&reg, &fx.files, &PublishOptions::default())
            .await
            .unwrap();
        assert!(report.verified(), "{report:#?}");
        assert_eq!(report.repos[0].commit.is_some(), round % 2 == 0);
        head = report.repos[0].head.clone();
        *count = (
            fx.stats().api_requests - requests,
            fx.server.faults().fired() - fired,
        );
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_publish_makes_five_api_requests_an_update_four_and_a_no_op_one_or_two() {
    let mut rounds: [BTreeMap<&str, u64>; 4] = Default::default();
    let mut totals = None;
    for (name, method, path) in ENDPOINTS {
        let counts = count_publish_requests((method, path)).await;
        // Every run makes the same requests, so the totals agree between runs.
        let these = counts.map(|(total, _)| total);
        assert_eq!(*totals.get_or_insert(these), these);
        for (round, (_, n)) in rounds.iter_mut().zip(counts) {
            if n > 0 {
                round.insert(*name, n);
            }
        }
    }
    let totals = totals.unwrap();
    eprintln!(
        "API requests: first publish {} {:?}; no-op {} {:?}; update of a synced repo {} {:?}; \
         no-op of a synced repo {} {:?}",
        totals[0], rounds[0], totals[1], rounds[1], totals[2], rounds[2], totals[3], rounds[3]
    );
    // The breakdown accounts for every API request the server counted.
    for (round, total) in rounds.iter().zip(totals) {
        assert_eq!(round.values().sum::<u64>(), total, "{round:?}");
    }
    // A new repository is created first: its head is read once, after the create.
    assert_eq!(
        rounds[0],
        BTreeMap::from([
            ("create", 1),
            ("model_info", 1),
            ("lfs batch", 1),
            ("commit", 1),
            ("tree", 1),
        ])
    );
    assert_eq!(
        rounds[1],
        BTreeMap::from([("create", 1), ("model_info", 1)])
    );
    // Once the registry records a sync of the repository, it is read first and never created.
    assert_eq!(
        rounds[2],
        BTreeMap::from([
            ("model_info", 1),
            ("lfs batch", 1),
            ("commit", 1),
            ("tree", 1),
        ])
    );
    assert_eq!(rounds[3], BTreeMap::from([("model_info", 1)]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_card_of_the_real_registry_passes_the_metadata_checks_of_the_server() {
    let fx = Fixture::new();
    let path = test_support::workspace_file("registry.json");
    let reg = ruvltra_registry::load(&path).unwrap();
    let card = ruvltra_card::model_card(&reg, &ruvltra_card::CardFacts::default());
    let client = fx.client();
    let checked = client
        .validate_yaml(&card, hub_client::RepoType::Model)
        .await
        .unwrap();
    assert_eq!(
        (checked.errors.as_slice(), checked.warnings.as_slice()),
        (&[][..], &[][..])
    );
    // The same check refuses the card once a well-known key has the wrong type.
    let broken = card.replacen("library_name: gguf", "library_name: [gguf]", 1);
    assert_ne!(broken, card);
    let refused = client
        .validate_yaml(&broken, hub_client::RepoType::Model)
        .await
        .unwrap();
    assert!(
        refused.errors.iter().any(|e| e.contains("library_name")),
        "{refused:?}"
    );
    // And a commit of the card is accepted.
    fx.write_sample(&A, 1);
    let report = fx
        .uploader()
        .upload(
            &fx.files.join(A.file()),
            REPO,
            Some(UploadMetadata {
                model_card: Some(card),
                ..UploadMetadata::default()
            }),
        )
        .await
        .unwrap();
    assert!(report.verified());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_the_hub_refuses_at_commit_time_is_an_invalid_card_error_and_commits_nothing() {
    let fx = Fixture::new();
    let a = fx.write_sample(&A, 1);
    let err = fx
        .uploader()
        .upload(
            &a,
            REPO,
            Some(UploadMetadata {
                model_card: Some("---\nlicense: [apache-2.0\n---\n# Card\n".into()),
                ..UploadMetadata::default()
            }),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, UploadError::InvalidCard(_)), "{err}");
    assert!(err.to_string().contains("not valid YAML"), "{err}");
    assert_eq!(fx.stats().commits, 0);
    // The object was uploaded before the commit was refused; a fixed card sends it no more.
    let sent = fx.stats().upload_bytes;
    assert_eq!(sent, file_size(&a));
    let report = fx
        .uploader()
        .upload(
            &a,
            REPO,
            Some(UploadMetadata {
                model_card: Some("---\nlicense: apache-2.0\n---\n# Card\n".into()),
                ..UploadMetadata::default()
            }),
        )
        .await
        .unwrap();
    assert!(report.verified());
    assert_eq!(fx.stats().upload_bytes, sent);
    assert_eq!(fx.stats().commits, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_create_is_not_fatal_when_the_repository_exists() {
    let fx = Fixture::new();
    fx.write_sample(&A, 1);
    let reg = registry(&[A]);
    let refuse_create = || {
        hub_server::Fault::once(
            hub_server::Match::any()
                .method("POST")
                .path_contains("/api/repos/create"),
            hub_server::Action::Status(403),
        )
    };
    // A new repository cannot be published without the right to create it: that error shows.
    fx.server.faults().add(refuse_create());
    let err = fx
        .uploader()
        .publish(&reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("403") || err.to_string().contains("forbidden"),
        "{err}"
    );
    assert_eq!(fx.server.faults().pending(), 0);
    // Once it exists, a token that may not create repositories (403) still publishes.
    fx.uploader()
        .publish(&reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap();
    fx.write_sample(&A, 2);
    fx.server.faults().add(refuse_create());
    let report = fx
        .uploader()
        .publish(&reg, &fx.files, &PublishOptions::default())
        .await
        .unwrap();
    assert_eq!(fx.server.faults().pending(), 0, "the create was refused");
    assert!(report.verified());
    assert!(!report.repos[0].created_repo);
    assert!(report.repos[0].commit.is_some());
}
