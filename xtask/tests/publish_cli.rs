//! `cargo xtask publish` and `cargo xtask verify` as a user runs them against the local Hub:
//! dry run without a token, publish with `--json` and `--tag`, verify (plain and deep, then
//! against a wrong sha256), the missing-token error, publishing through Xet (`--transfer`,
//! the figures a re-publish prints), and a Xet publish killed with SIGKILL then run again.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hub_server::{HubServer, ServerConfig};
use ruvltra_gguf::writer::SampleModel;

const TOKEN: &str = "hf_cli_publish_token";
const FILE: &str = "ruvltra-small-0.5b-q4_k_m.gguf";

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes the model file and a registry describing it (with `sha256` when given).
fn setup(dir: &Path, sha256: Option<&str>) -> (PathBuf, PathBuf) {
    let files = dir.join("files");
    std::fs::create_dir_all(&files).unwrap();
    SampleModel::new("qwen2", 15, 600_000)
        .build()
        .unwrap()
        .write_file(files.join(FILE))
        .unwrap();
    let mut model = serde_json::json!({
        "id": "ruvltra-small-0.5b-q4_k_m",
        "file": FILE,
        "quant": "q4_k_m",
        "size": "0.5b",
        "variant": "small",
        "name": "RuvLTRA Small 0.5B Q4_K_M",
        "architecture": "qwen2",
        "context_length": 32768
    });
    if let Some(sha) = sha256 {
        model["sha256"] = sha.into();
    }
    let registry = serde_json::json!({
        "schema_version": 1,
        "repo": "ruv/ruvltra",
        "revision": "main",
        "catalog": { "title": "RuvLTRA", "license": "apache-2.0", "languages": ["en"] },
        "models": [model]
    });
    let path = dir.join("registry.json");
    std::fs::write(&path, serde_json::to_string_pretty(&registry).unwrap()).unwrap();
    (path, files)
}

/// Runs xtask with a clean Hub environment (no token unless `token`).
fn xtask(dir: &Path, token: Option<&str>, args: &[&str]) -> Output {
    xtask_command(dir, token, args).output().unwrap()
}

/// The xtask command [`xtask`] runs, to spawn it instead.
fn xtask_command(dir: &Path, token: Option<&str>, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.args(args).current_dir(dir);
    for var in [
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "HUGGINGFACE_API_KEY",
        "HF_TOKEN_PATH",
        "HF_ENDPOINT",
        // The local Xet index goes to the default place under the scratch HOME.
        "RUVLTRA_XET_CACHE",
        "XDG_CACHE_HOME",
    ] {
        cmd.env_remove(var);
    }
    // Everything the tools could log is on, so the checks below see it all.
    cmd.env("RUST_LOG", "trace")
        .env("HF_HOME", dir.join("hf-home"))
        .env("HOME", dir.join("home"));
    if let Some(t) = token {
        cmd.env("HF_TOKEN", t);
    }
    cmd
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn publish_then_verify_from_the_command_line() {
    let dir = scratch("publish-cli");
    let mut config = ServerConfig::new(dir.join("hub"));
    config.write_tokens = vec![TOKEN.to_owned()];
    let server = HubServer::spawn(config).unwrap();
    let url = server.url();
    let (registry, files) = setup(&dir, None);
    let registry = registry.to_str().unwrap();
    let files = files.to_str().unwrap();
    let (sha, size) = hash(&dir.join("files").join(FILE));

    // A dry run needs no token, prints every local file's size and sha256, and changes nothing.
    let out = xtask(
        &dir,
        None,
        &[
            "publish",
            "--registry",
            registry,
            "--files",
            files,
            "--endpoint",
            &url,
            "--dry-run",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let line = stdout.lines().find(|l| l.ends_with(FILE)).unwrap();
    assert!(
        line.contains("add") && line.contains(&sha) && line.contains(&size.to_string()),
        "{line}"
    );
    assert!(stdout.contains("dry run"), "{stdout}");
    assert_eq!(server.stats().commits, 0);

    // The real publish, with a JSON report on stdout, through Git LFS (Xet has its own
    // test below).
    let out = xtask(
        &dir,
        Some(TOKEN),
        &[
            "publish",
            "--registry",
            registry,
            "--files",
            files,
            "--endpoint",
            &url,
            "--tag",
            "v1.0.0",
            "--json",
            "--transfer",
            "lfs",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let repo = &report["repos"][0];
    assert!(
        repo["commit"].as_str().is_some_and(|c| c.len() == 40),
        "{report}"
    );
    assert_eq!(repo["bytes_sent"], size);
    assert_eq!(repo["transfer"], "lfs");
    assert_eq!(server.stats().upload_bytes, size);
    assert_eq!(repo["tag"]["name"], "v1.0.0");
    assert_eq!(repo["verify"]["problems"], serde_json::json!([]));
    assert_eq!(server.stats().commits, 1);

    // Verify on its own: presence only (the registry has no sha256 yet), then deep.
    let out = xtask(
        &dir,
        None,
        &[
            "verify",
            "--registry",
            registry,
            "--endpoint",
            &url,
            "--deep",
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("no sha256"), "{stdout}");

    // With the right sha256 it passes; with a wrong one it fails naming both.
    let (registry_ok, _) = setup(&dir, Some(&sha));
    let out = xtask(
        &dir,
        None,
        &[
            "verify",
            "--registry",
            registry_ok.to_str().unwrap(),
            "--endpoint",
            &url,
        ],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    let wrong = "0".repeat(64);
    let (registry_bad, _) = setup(&dir, Some(&wrong));
    let out = xtask(
        &dir,
        None,
        &[
            "verify",
            "--registry",
            registry_bad.to_str().unwrap(),
            "--endpoint",
            &url,
        ],
    );
    let (stdout, _) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains(&wrong) && stdout.contains(&sha), "{stdout}");
}

#[test]
fn publish_without_a_token_names_hf_token() {
    let dir = scratch("publish-cli-no-token");
    let (registry, files) = setup(&dir, None);
    let out = xtask(
        &dir,
        None,
        &[
            "publish",
            "--registry",
            registry.to_str().unwrap(),
            "--files",
            files.to_str().unwrap(),
            "--endpoint",
            "http://127.0.0.1:9",
        ],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("HF_TOKEN"), "{stderr}");
}

/// The size and sha256 of a file, through the uploader's streaming hasher.
fn hash(path: &Path) -> (String, u64) {
    let (sha, size) = ruvltra_uploader::hash_file(path, &mut |_| {}).unwrap();
    (sha.to_hex(), size)
}

#[test]
fn the_demo_runs_end_to_end() {
    let dir = scratch("demo-cli");
    let out = xtask(&dir, None, &["demo"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("[5] publishing the same files again"),
        "{stdout}"
    );
    assert!(
        stdout.contains("0 commit(s), 0 bytes uploaded"),
        "the second publish must be a no-op: {stdout}"
    );
    assert!(stdout.contains("tag v1.0.0 ->"), "{stdout}");
    // Both modes of the one local server: published, verified, re-published as a no-op.
    assert_eq!(stdout.matches("== modelscope ==").count(), 3, "{stdout}");
    assert!(
        stdout.contains("ruv/ruvltra@master (repository created)"),
        "{stdout}"
    );
    assert_eq!(
        stdout.matches("(downloaded and re-hashed)").count(),
        2,
        "a deep verify per destination: {stdout}"
    );
    let summary = stdout.split("\nsummary:\n").nth(1).expect("a summary");
    for destination in ["  hub ", "  modelscope "] {
        assert!(summary.contains(destination), "{summary}");
    }
    assert_eq!(
        summary.matches("0 bytes, no commit").count(),
        2,
        "{summary}"
    );
    // The ModelScope endpoint is printed as `--modelscope-endpoint` takes it (the site, not
    // its `/api/v1` root), so that it can be pasted back.
    let line = stdout
        .lines()
        .find(|l| l.contains("its ModelScope mode answers on the same port: "))
        .expect("the ModelScope endpoint is printed");
    let printed = line
        .split(": ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap();
    assert!(
        printed.starts_with("http://127.0.0.1:") && !printed.contains("/api/"),
        "{line}"
    );
    assert!(!summary.contains("/api/v1"), "{summary}");
    // The no-op re-publish names the destination that already matched.
    assert!(
        stdout.contains("no commit: the Hub already matched"),
        "{stdout}"
    );
    assert!(
        stdout.contains("no commit: ModelScope already matched"),
        "{stdout}"
    );
}

/// Overwrites the model file with a valid GGUF named `name` whose `n_params` of weights are
/// pseudo-random bytes from `seed` (incompressible and unrepeated, as real weights look to a
/// chunker); the same seed gives the same weights behind any header. Returns its size.
fn write_random_gguf(dir: &Path, name: &str, seed: u64, n_params: u64) -> u64 {
    use std::io::Write as _;
    let mut sample = SampleModel::new("qwen2", 15, n_params);
    sample.name = name.to_owned();
    let writer = sample.build().unwrap();
    let layout = writer.layout().unwrap();
    let header = writer.header_bytes().unwrap();
    let path = dir.join("files").join(FILE);
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    file.write_all(&header).unwrap();
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut left = layout.file_len - header.len() as u64;
    let mut block = vec![0u8; 1 << 16];
    while left > 0 {
        for word in block.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            word.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(block.len() as u64) as usize;
        file.write_all(&block[..n]).unwrap();
        left -= n as u64;
    }
    file.flush().unwrap();
    layout.file_len
}

/// `publish` arguments for `registry` and `files` at `url`, then `extra`.
fn publish_args<'a>(
    registry: &'a str,
    files: &'a str,
    url: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "publish",
        "--registry",
        registry,
        "--files",
        files,
        "--endpoint",
        url,
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn publish_through_xet_from_the_command_line() {
    let dir = scratch("publish-cli-xet");
    let mut config = ServerConfig::new(dir.join("hub"));
    config.write_tokens = vec![TOKEN.to_owned()];
    let server = HubServer::spawn(config).unwrap();
    let url = server.url();
    let (registry, files) = setup(&dir, None);
    let (registry, files) = (registry.to_str().unwrap(), files.to_str().unwrap());
    let size = write_random_gguf(&dir, "RuvLTRA Small", 5, 6_000_000);

    // `auto` (the default) takes Xet on a Hub that offers it.
    let out = xtask(
        &dir,
        Some(TOKEN),
        &publish_args(registry, files, &url, &["--json"]),
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let repo = &report["repos"][0];
    assert_eq!(repo["transfer"], "xet", "{repo}");
    assert_eq!(repo["bytes_sent"], size);
    let entry = repo["plan"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == FILE)
        .unwrap();
    assert_eq!(entry["xet"]["new_bytes"], size, "{entry}");
    assert_eq!(entry["xet"]["local_chunks"], 0);
    let xorbs = repo["xet"]["xorbs_sent"].as_u64().unwrap();
    assert_eq!(server.stats().xorbs_inserted, xorbs);
    assert_eq!(server.stats().upload_bytes, 0);
    // The local index went to its default place under the user's cache folder.
    let index = dir.join("home/.cache/ruvltra/xet/v1");
    assert!(index.is_dir(), "{}", index.display());

    // A metadata edit: the re-publish prints how little went out, file by file.
    write_random_gguf(&dir, "RuvLTRA Small, with a new name", 5, 6_000_000);
    let out = xtask(&dir, Some(TOKEN), &publish_args(registry, files, &url, &[]));
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let through = stdout
        .lines()
        .find(|l| l.contains("through Xet:"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(through.contains("local index used"), "{through}");
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{FILE}:")))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        line.contains("local index") && line.contains("bytes sent"),
        "{line}"
    );
    eprintln!("{through}\n{line}");
    assert_eq!(server.stats().commits, 2);

    // ModelScope has no Xet: asking for it there is refused before anything is read.
    let out = xtask(
        &dir,
        Some(TOKEN),
        &publish_args(
            registry,
            files,
            &url,
            &["--to", "modelscope", "--transfer", "xet"],
        ),
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ModelScope has no Xet"), "{stderr}");
}

#[test]
fn publish_with_transfer_xet_to_a_hub_without_xet_says_what_to_do() {
    let dir = scratch("publish-cli-no-xet");
    let mut config = ServerConfig::new(dir.join("hub"));
    config.write_tokens = vec![TOKEN.to_owned()];
    config.xet = false;
    let server = HubServer::spawn(config).unwrap();
    let url = server.url();
    let (registry, files) = setup(&dir, None);
    let (registry, files) = (registry.to_str().unwrap(), files.to_str().unwrap());
    let out = xtask(
        &dir,
        Some(TOKEN),
        &publish_args(registry, files, &url, &["--transfer", "xet"]),
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("does not offer Xet") && stderr.contains("--transfer"),
        "{stderr}"
    );
    assert_eq!(server.stats().commits, 0);
    // `auto` takes the LFS path there, without an error.
    let out = xtask(
        &dir,
        Some(TOKEN),
        &publish_args(registry, files, &url, &["--json"]),
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["repos"][0]["transfer"], "lfs");
    assert_eq!(server.stats().commits, 1);
}

/// The Xet hashes of the xorbs a first publish of `path` sends: its chunks cut into xorbs by
/// the client's rule, as the uploader plans them.
fn planned_xorbs(path: &Path) -> Vec<xet_format::XetHash> {
    let data = std::fs::read(path).unwrap();
    let mut xorbs: Vec<Vec<(xet_format::XetHash, u64)>> = vec![Vec::new()];
    let mut raw = 0u64;
    for c in xet_format::chunk_file(&data) {
        let open = xorbs.last().unwrap();
        if !xet_format::fits_in_xorb(raw, open.len(), c.len as usize) {
            xorbs.push(Vec::new());
            raw = 0;
        }
        raw += u64::from(c.len);
        xorbs.last_mut().unwrap().push((c.hash, c.len.into()));
    }
    xorbs.iter().map(|x| xet_format::xorb_hash(x)).collect()
}

#[test]
fn a_xet_publish_killed_mid_upload_sends_nothing_the_cas_holds_when_run_again() {
    use hub_server::{Action, Fault, Match};
    use std::os::unix::process::ExitStatusExt as _;

    let dir = scratch("publish-cli-xet-kill");
    let mut config = ServerConfig::new(dir.join("hub"));
    config.write_tokens = vec![TOKEN.to_owned()];
    let server = HubServer::spawn(config).unwrap();
    let url = server.url();
    let (registry, files) = setup(&dir, None);
    let (registry, files) = (registry.to_str().unwrap(), files.to_str().unwrap());
    // About 70 MiB of weights: two xorbs.
    write_random_gguf(&dir, "RuvLTRA Small", 9, 125_000_000);
    let xorbs = planned_xorbs(&dir.join("files").join(FILE));
    assert_eq!(xorbs.len(), 2);
    // The CAS takes the first xorb and holds the second one's request: the publisher is
    // killed while it waits.
    server.faults().add(Fault::once(
        Match::any()
            .method("POST")
            .path_contains(&xorbs[1].to_hex()),
        Action::Stall(std::time::Duration::from_secs(120)),
    ));
    let mut child = xtask_command(&dir, Some(TOKEN), &publish_args(registry, files, &url, &[]))
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("killed.log")).unwrap())
        .spawn()
        .unwrap();
    let record = format!("{}.xorb", xorbs[0].to_hex());
    let index = dir.join("home/.cache/ruvltra/xet/v1");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !(server.stats().xorbs_inserted == 1
        && server.faults().pending() == 0
        && index_has(&index, &record))
    {
        assert!(std::time::Instant::now() < deadline, "{:?}", server.stats());
        if child.try_wait().unwrap().is_some() {
            let log = std::fs::read_to_string(dir.join("killed.log")).unwrap_or_default();
            panic!("the publisher ended by itself: {log}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert_eq!(child.wait().unwrap().signal(), Some(9));
    assert_eq!(server.stats().commits, 0);

    // Run again: the first xorb is not sent again, the second is, one commit.
    let before = server.stats();
    let out = xtask(
        &dir,
        Some(TOKEN),
        &publish_args(registry, files, &url, &["--json"]),
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let xet = &report["repos"][0]["xet"];
    assert_eq!(xet["xorbs_sent"], 1, "{xet}");
    assert_eq!(xet["local_xorbs_used"], 1, "{xet}");
    let after = server.stats();
    assert_eq!(after.xorbs_inserted - before.xorbs_inserted, 1);
    assert_eq!(
        after.xorb_upload_bytes - before.xorb_upload_bytes,
        xet["xorb_bytes"].as_u64().unwrap(),
        "only the xorb the CAS lacked was sent"
    );
    assert_eq!(after.commits, 1);
    assert_eq!(
        report["repos"][0]["verify"]["problems"],
        serde_json::json!([])
    );
}

/// Whether the local index under `root` (one folder per CAS) holds the record `name`
/// (written atomically, so present means complete).
fn index_has(root: &Path, name: &str) -> bool {
    std::fs::read_dir(root)
        .map(|dirs| dirs.flatten().any(|d| d.path().join(name).is_file()))
        .unwrap_or(false)
}
