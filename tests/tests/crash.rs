//! Crashes: a publisher or the local server killed with SIGKILL in the middle of an upload,
//! then started again. Checks that nothing half-made becomes visible, that stored objects are
//! not sent twice and that exactly one commit results (issue 11, "Crashes and races").

mod support;

use std::io::{BufRead as _, BufReader};
use std::os::unix::process::ExitStatusExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use hub_client::{Endpoint, HubClient, RepoId, Token};
use hub_server::{Action, Fault, Match};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::{QUANTS, REPO, catalog, file, wait_until};
use test_support::{LocalHub, TOKEN, files_under, sha256_file_hex};

fn publisher(endpoint: &str, registry: &Path, files: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_rt_publish"))
        .arg(endpoint)
        .arg(registry)
        .arg(files)
        .env("HF_TOKEN", TOKEN)
        .env_remove("HF_ENDPOINT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn sigkill(child: &mut Child) {
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
    kill(pid, Signal::SIGKILL).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(9),
        "the child ended by itself: {status:?}"
    );
}

/// Every stored LFS object must reassemble, from its xorbs, to bytes that hash to its name: an
/// object made visible (its sha256 linked) before all of it was stored would not.
fn assert_objects_complete(data: &Path) -> usize {
    hub_server::verify_stored_objects(data)
        .unwrap_or_else(|e| panic!("partial object visible: {e}"))
}

fn client(endpoint: &str) -> HubClient {
    HubClient::builder()
        .endpoint(Endpoint::parse(endpoint).unwrap())
        .token(Token::new(TOKEN))
        .build()
        .unwrap()
}

/// The commits of `main` and the sha256 of every LFS file of its tree, by path.
fn hub_state(endpoint: &str) -> (usize, Vec<(String, String)>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = client(endpoint);
        let repo = RepoId::new(REPO).unwrap();
        let commits = c.list_commits(&repo, "main").await.unwrap();
        let tree = c.list_tree(&repo, "main", None, true).await.unwrap();
        let mut lfs: Vec<(String, String)> = tree
            .into_iter()
            .filter_map(|e| e.lfs.map(|l| (e.path, l.oid.to_string())))
            .collect();
        lfs.sort();
        (commits.len(), lfs)
    })
}

fn expected_tree(files: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = QUANTS
        .iter()
        .map(|&q| (file(q), sha256_file_hex(files.join(file(q)))))
        .collect();
    out.sort();
    out
}

#[test]
fn a_publish_killed_at_half_resends_nothing_stored_and_commits_once() {
    let LocalHub { server, dir: tmp } = LocalHub::start();
    let (files, registry) = (tmp.path().join("files"), tmp.path().join("registry.json"));
    let sizes = catalog(&files, &registry, &QUANTS, 300_000, "kill");
    let total: u64 = sizes.iter().sum();

    // Two uploads go through (the uploader sends two files at a time), the next two hang:
    // the publisher is killed with half of the objects stored.
    let put = || Match::any().method("PUT").path_contains("/lfs-upload/");
    server.faults().add(Fault::new(
        put(),
        2,
        Action::Stall(Duration::from_millis(1)),
    ));
    server.faults().add(Fault::new(
        put(),
        2,
        Action::Stall(Duration::from_secs(120)),
    ));
    let mut child = publisher(&server.url(), &registry, &files);
    wait_until(
        "two stored objects and two hanging uploads",
        Duration::from_secs(60),
        || {
            let s = server.stats();
            s.basic_uploads == 2 && s.faults_fired == 4
        },
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "the publisher must still be running"
    );
    sigkill(&mut child);

    let killed = server.stats();
    assert_eq!(killed.commits, 0, "no commit before the uploads finished");
    assert!(killed.upload_bytes > 0 && killed.upload_bytes < total);
    assert_eq!(assert_objects_complete(server.data_dir()), 2);
    let (commits_before, tree_before) = hub_state(&server.url());
    assert!(
        tree_before.is_empty(),
        "nothing of the killed publish is in the tree"
    );

    // The re-run sends only the two missing objects and makes one commit.
    server.faults().clear();
    let out = publisher(&server.url(), &registry, &files)
        .wait_with_output()
        .unwrap();
    assert!(
        out.status.success(),
        "re-run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = server.stats();
    assert_eq!(after.upload_bytes, total, "stored objects were sent again");
    assert_eq!(after.basic_uploads, 4);
    assert_eq!(after.commits, 1);
    let (commits_after, tree_after) = hub_state(&server.url());
    assert_eq!(commits_after, commits_before + 1, "exactly one commit");
    assert_eq!(tree_after, expected_tree(&files));
    assert_eq!(assert_objects_complete(server.data_dir()), 4);
    server.stop();
}

/// Starts `rt_serve` on `addr` and returns it with its URL once it listens.
fn serve(data: &Path, addr: &str, stall_ms: u64) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rt_serve"))
        .arg(data)
        .arg(addr)
        .arg(stall_ms.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, url)
}

#[test]
fn a_server_killed_during_an_upload_shows_no_partial_object_and_the_publish_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let (files, registry) = (tmp.path().join("files"), tmp.path().join("registry.json"));
    catalog(&files, &registry, &QUANTS, 300_000, "server-kill");

    // The server holds the first upload; the publisher is mid-upload when the server dies.
    let (mut server, url) = serve(&data, "127.0.0.1:0", 60_000);
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut publish = publisher(&url, &registry, &files);
    // The repository exists and the batch answered once an upload URL is handed out; then
    // the stalled PUT (or the second file's) is in flight.
    wait_until("the repository to exist", Duration::from_secs(60), || {
        data.join("repos/models/ruv/ruvltra/refs.json").exists()
    });
    std::thread::sleep(Duration::from_millis(500));
    sigkill(&mut server);
    assert!(
        publish.try_wait().unwrap().is_none(),
        "the publisher waits on its upload"
    );
    let stored_at_kill = assert_objects_complete(&data);
    assert!(
        stored_at_kill < QUANTS.len(),
        "the kill came before every object was stored"
    );

    // Restarted on the same data folder and port, the server starts with an empty tmp/ and
    // the publisher's retries (or, failing that, a re-run) complete the publish.
    let (mut server, url2) = serve(&data, &addr, 0);
    assert_eq!(url2, url);
    assert_eq!(assert_objects_complete(&data), stored_at_kill);
    let first = publish.wait_with_output().unwrap();
    let rerun = if first.status.success() {
        false
    } else {
        let out = publisher(&url, &registry, &files)
            .wait_with_output()
            .unwrap();
        assert!(
            out.status.success(),
            "neither the retry nor a re-run completed: {}\n{}",
            String::from_utf8_lossy(&first.stderr),
            String::from_utf8_lossy(&out.stderr)
        );
        true
    };
    eprintln!(
        "publish completed by {}",
        if rerun {
            "a re-run"
        } else {
            "the client's retries"
        }
    );
    let (commits, tree) = hub_state(&url);
    assert_eq!(
        commits, 2,
        "repository creation and exactly one publish commit"
    );
    assert_eq!(tree, expected_tree(&files));
    assert_eq!(assert_objects_complete(&data), QUANTS.len());
    assert!(
        files_under(&data.join("tmp")).is_empty(),
        "no upload leftovers after the publish"
    );
    sigkill(&mut server);
}
