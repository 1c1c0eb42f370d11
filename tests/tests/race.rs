//! Two publisher processes racing on the same branch with different files (issue 11,
//! "Crashes and races"): both must end verified, or one with a clear conflict, and the
//! branch history must hold every successful publish (no lost update).

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use hub_client::{Endpoint, HubClient, RepoId, Token};
use hub_server::{Action, Fault, Match};
use ruvltra_registry::Quant;
use support::{REPO, catalog, file};
use test_support::{LocalHub, TOKEN};

#[test]
fn two_publishers_racing_on_main_both_land_without_a_lost_update() {
    let LocalHub { server, dir: tmp } = LocalHub::start();
    let sides = [
        ("a", [Quant::Q4_K_M, Quant::Q5_K_M]),
        ("b", [Quant::Q6_K, Quant::Q8_0]),
    ];
    let mut dirs = Vec::new();
    for (name, quants) in &sides {
        let files = tmp.path().join(name).join("files");
        let registry = tmp.path().join(name).join("registry.json");
        catalog(&files, &registry, quants, 200_000, name);
        dirs.push((files, registry));
    }
    // The first commit to arrive is held back, so the other one lands first and the held
    // one reaches the server with a stale parent.
    server.faults().add(Fault::once(
        Match::any().method("POST").path_contains("/commit/"),
        Action::Stall(Duration::from_millis(800)),
    ));
    let children: Vec<_> = dirs
        .iter()
        .map(|(files, registry)| {
            Command::new(env!("CARGO_BIN_EXE_rt_publish"))
                .arg(server.url())
                .arg(registry)
                .arg(files)
                .env("HF_TOKEN", TOKEN)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let mut landed = Vec::new();
    for (out, (_, quants)) in outputs.iter().zip(&sides) {
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            landed.extend(quants.iter().map(|&q| file(q)));
        } else {
            assert!(
                stderr.contains("conflict") || stderr.contains("moved"),
                "a failed racer must say it lost a race: {stderr}"
            );
        }
    }
    assert!(!landed.is_empty(), "at least one publisher must succeed");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (commits, tree) = rt.block_on(async {
        let c = HubClient::builder()
            .endpoint(Endpoint::parse(&server.url()).unwrap())
            .token(Token::new(TOKEN))
            .build()
            .unwrap();
        let repo = RepoId::new(REPO).unwrap();
        (
            c.list_commits(&repo, "main").await.unwrap(),
            c.list_tree(&repo, "main", None, true).await.unwrap(),
        )
    });
    let mut paths: Vec<String> = tree
        .into_iter()
        .filter(|e| e.path.ends_with(".gguf"))
        .map(|e| e.path)
        .collect();
    paths.sort();
    landed.sort();
    assert_eq!(paths, landed, "every successful publish is in the tree");
    assert_eq!(
        server.stats().commits as usize,
        outputs.iter().filter(|o| o.status.success()).count()
    );
    // The history is linear and holds one commit per successful publisher plus the initial one.
    assert_eq!(commits.len(), 1 + server.stats().commits as usize);
    assert_eq!(server.stats().faults_fired, 1, "the race was forced");
    eprintln!("{} of 2 racing publishers landed", server.stats().commits);
    server.stop();
}
