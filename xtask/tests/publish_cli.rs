//! `cargo xtask publish` and `cargo xtask verify` as a user runs them against the local Hub:
//! dry run without a token, publish with `--json` and `--tag`, verify (plain and deep, then
//! against a wrong sha256), the missing-token error, the demo's whole story, publishing
//! through Xet (`--transfer`, the figures a re-publish prints), and a Xet publish killed with
//! SIGKILL then run again.

mod support;

use std::path::{Path, PathBuf};

use ruvltra_gguf::writer::SampleModel;
use support::xtask;
use test_support::{CliRun, Filters, LocalHub, cli_snapshot, scratch_dir};

const TOKEN: &str = "hf_cli_publish_token";
const FILE: &str = "ruvltra-small-0.5b-q4_k_m.gguf";

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

/// The snapshot filters: the scratch folder, the defaults, and commit ids (they carry the
/// time of the commit).
fn filters(dir: &Path) -> Filters {
    support::filters(dir).regex(r"\b[0-9a-f]{40}\b", "[COMMIT]")
}

#[test]
fn publish_then_verify_from_the_command_line() {
    let dir = scratch_dir!("publish-cli");
    let hub = LocalHub::start_with(|config| config.write_tokens = vec![TOKEN.to_owned()]);
    let url = hub.url();
    let (registry, files) = setup(&dir, None);
    let registry = registry.to_str().unwrap();
    let files = files.to_str().unwrap();
    let (sha, size) = hash(&dir.join("files").join(FILE));

    // A dry run needs no token, prints every local file's size and sha256, and changes nothing.
    let run = cli_snapshot!(
        filters(&dir),
        xtask(&dir).args([
            "publish",
            "--registry",
            registry,
            "--files",
            files,
            "--endpoint",
            &url,
            "--dry-run",
        ]),
        @r"
        success: true
        exit_code: 0
        ----- stdout -----
        ruv/ruvltra@main
          action             bytes  sha256                                                            path
          add                 2632  1cc6b6d71998c4294ca71c45a4754e1e6f06e355c13edbba66f8dbaf450c33fa  README.md
          add                  771  2caf990f68d046b7a4d00df5b95bb16cfee9c23fe0e8a6a1e4844cb252e02d29  ollama/ruvltra-small-0.5b-q4_k_m/Modelfile
          add              1121376  cedbfdb952317281a248ed602b98cb7cb8c4c9c6789f1f4086d380a754619cd1  ruvltra-small-0.5b-q4_k_m.gguf
          dry run: nothing was created, uploaded or committed
        ----- stderr -----
        ==> checking and hashing 1 file(s) of 1 model(s)
            hashing ruvltra-small-0.5b-q4_k_m.gguf (1121376 bytes)
            ruvltra-small-0.5b-q4_k_m.gguf: sha256 cedbfdb952317281a248ed602b98cb7cb8c4c9c6789f1f4086d380a754619cd1
            ruv/ruvltra does not exist yet; a publish would create it
        ==> plan for ruv/ruvltra@main: 3 to add, 0 to update, 0 unchanged, 0 extra on the Hub
        "
    );
    let line = run.stdout.lines().find(|l| l.ends_with(FILE)).unwrap();
    assert!(
        line.contains("add") && line.contains(&sha) && line.contains(&size.to_string()),
        "{line}"
    );
    assert_eq!(hub.server.stats().commits, 0);

    // The real publish, with a JSON report on stdout, and everything the tools could log on:
    // the token shows nowhere. Through Git LFS (Xet has its own tests below).
    let run = CliRun::of(
        xtask(&dir)
            .args([
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
            ])
            .env("HF_TOKEN", TOKEN)
            .env("RUST_LOG", "trace"),
    );
    assert!(run.status.success(), "{}", run.render());
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let repo = &report["repos"][0];
    assert!(
        repo["commit"].as_str().is_some_and(|c| c.len() == 40),
        "{report}"
    );
    assert_eq!(repo["bytes_sent"], size);
    assert_eq!(repo["transfer"], "lfs");
    assert_eq!(hub.server.stats().upload_bytes, size);
    assert_eq!(repo["tag"]["name"], "v1.0.0");
    assert_eq!(repo["verify"]["problems"], serde_json::json!([]));
    assert_eq!(hub.server.stats().commits, 1);

    // Verify on its own: presence only (the registry has no sha256 yet), then deep.
    cli_snapshot!(
        filters(&dir),
        xtask(&dir).args(["verify", "--registry", registry, "--endpoint", &url, "--deep"]),
        @r"
        success: true
        exit_code: 0
        ----- stdout -----
        ruv/ruvltra@main
          verified: 1 path(s) of ruv/ruvltra at main match the manifest (downloaded and re-hashed)
            warning: ruvltra-small-0.5b-q4_k_m.gguf was only checked for presence: the registry has no sha256 for it (run `cargo xtask sync`)
        ----- stderr -----
        ==> verifying ruv/ruvltra@main: 1 path(s)
        ==> downloading ruvltra-small-0.5b-q4_k_m.gguf to hash it again
        "
    );

    // With the right sha256 it passes; with a wrong one it fails naming both.
    let (registry_ok, _) = setup(&dir, Some(&sha));
    cli_snapshot!(
        filters(&dir),
        xtask(&dir).args([
            "verify",
            "--registry",
            registry_ok.to_str().unwrap(),
            "--endpoint",
            &url,
        ]),
        @r"
        success: true
        exit_code: 0
        ----- stdout -----
        ruv/ruvltra@main
          verified: 1 path(s) of ruv/ruvltra at main match the manifest
        ----- stderr -----
        ==> verifying ruv/ruvltra@main: 1 path(s)
        "
    );
    let wrong = "0".repeat(64);
    let (registry_bad, _) = setup(&dir, Some(&wrong));
    let run = cli_snapshot!(
        filters(&dir),
        xtask(&dir).args([
            "verify",
            "--registry",
            registry_bad.to_str().unwrap(),
            "--endpoint",
            &url,
        ]),
        @r"
        success: false
        exit_code: 1
        ----- stdout -----
        ruv/ruvltra@main
          verification FAILED: 1 difference(s) in ruv/ruvltra at main
            error: ruvltra-small-0.5b-q4_k_m.gguf: sha256 differs: expected 0000000000000000000000000000000000000000000000000000000000000000, the Hub has cedbfdb952317281a248ed602b98cb7cb8c4c9c6789f1f4086d380a754619cd1
        ----- stderr -----
        ==> verifying ruv/ruvltra@main: 1 path(s)
        "
    );
    assert!(
        run.stdout.contains(&wrong) && run.stdout.contains(&sha),
        "{}",
        run.stdout
    );
}

#[test]
fn publish_without_a_token_names_hf_token() {
    let dir = scratch_dir!("publish-cli-no-token");
    let (registry, files) = setup(&dir, None);
    cli_snapshot!(
        filters(&dir),
        xtask(&dir).args([
            "publish",
            "--registry",
            registry.to_str().unwrap(),
            "--files",
            files.to_str().unwrap(),
            "--endpoint",
            "http://127.0.0.1:9",
        ]),
        @r"
        success: false
        exit_code: 2
        ----- stdout -----

        ----- stderr -----
        error: no Hub token found: set HF_TOKEN (or HUGGING_FACE_HUB_TOKEN, HUGGINGFACE_API_KEY, or write it to the token file) to a token with write access
        "
    );
}

/// The size and sha256 of a file, through the uploader's streaming hasher.
fn hash(path: &Path) -> (String, u64) {
    let (sha, size) = ruvltra_uploader::hash_file(path, &mut |_| {}).unwrap();
    (sha.to_hex(), size)
}

/// What the demo tells on stdout, the Xet steps included, is a file snapshot (it is long);
/// its stderr is progress from parallel hashing and uploads, in whatever order the threads
/// finish, so it is checked apart and left out of the snapshot.
#[test]
fn the_demo_runs_end_to_end() {
    let dir = scratch_dir!("demo-cli");
    let mut run = CliRun::of(xtask(&dir).arg("demo"));
    assert!(run.status.success(), "{}", run.render());
    assert!(
        run.stderr.contains("==> committing to ruv/ruvltra@main"),
        "{}",
        run.stderr
    );
    let stdout = run.stdout.clone();
    run.stderr = "[progress lines, in the order the threads ran]".to_owned();
    cli_snapshot!(filters(&dir), run);

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
    // Then the point of Xet: after one header edit, a few chunks go out and come back, the
    // rest is copied from the cached revision (the demo itself fails when either is large).
    assert!(stdout.contains("[7] editing general.name"), "{stdout}");
    assert!(
        stdout.contains("modelscope (Git LFS): the whole file again"),
        "{stdout}"
    );
    assert!(
        stdout.contains("bytes copied from the cached revision"),
        "{stdout}"
    );
    assert!(summary.contains("  xet "), "{summary}");
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

/// `xtask publish` of `registry` and `files` to `url` with the token, then `extra`.
fn publish(
    dir: &Path,
    registry: &str,
    files: &str,
    url: &str,
    extra: &[&str],
) -> std::process::Command {
    let mut command = xtask(dir);
    command
        .args([
            "publish",
            "--registry",
            registry,
            "--files",
            files,
            "--endpoint",
            url,
        ])
        .args(extra)
        .env("HF_TOKEN", TOKEN);
    command
}

#[test]
fn publish_through_xet_from_the_command_line() {
    let dir = scratch_dir!("publish-cli-xet");
    let hub = LocalHub::start_with(|config| config.write_tokens = vec![TOKEN.to_owned()]);
    let url = hub.url();
    let (registry, files) = setup(&dir, None);
    let (registry, files) = (registry.to_str().unwrap(), files.to_str().unwrap());
    let size = write_random_gguf(&dir, "RuvLTRA Small", 5, 6_000_000);

    // `auto` (the default) takes Xet on a Hub that offers it; everything the tools could log
    // is on, and no token shows.
    let run =
        CliRun::of(publish(&dir, registry, files, &url, &["--json"]).env("RUST_LOG", "trace"));
    assert!(run.status.success(), "{}", run.render());
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
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
    assert_eq!(hub.server.stats().xorbs_inserted, xorbs);
    assert_eq!(hub.server.stats().upload_bytes, 0);
    // The local index went to its default place under the user's cache folder.
    let index = dir.join("home/.cache/ruvltra/xet/v1");
    assert!(index.is_dir(), "{}", index.display());

    // A metadata edit: the re-publish prints how little went out, file by file.
    write_random_gguf(&dir, "RuvLTRA Small, with a new name", 5, 6_000_000);
    let run = CliRun::of(&mut publish(&dir, registry, files, &url, &[]));
    assert!(run.status.success(), "{}", run.render());
    let through = run
        .stdout
        .lines()
        .find(|l| l.contains("through Xet:"))
        .unwrap_or_else(|| panic!("{}", run.render()));
    assert!(through.contains("local index used"), "{through}");
    let line = run
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{FILE}:")))
        .unwrap_or_else(|| panic!("{}", run.render()));
    assert!(
        line.contains("local index") && line.contains("bytes sent"),
        "{line}"
    );
    eprintln!("{through}\n{line}");
    assert_eq!(hub.server.stats().commits, 2);

    // ModelScope has no Xet: asking for it there is refused before anything is read.
    let run = CliRun::of(&mut publish(
        &dir,
        registry,
        files,
        &url,
        &["--to", "modelscope", "--transfer", "xet"],
    ));
    assert_eq!(run.code(), Some(2), "{}", run.render());
    assert!(
        run.stderr.contains("ModelScope has no Xet"),
        "{}",
        run.render()
    );
}

#[test]
fn publish_with_transfer_xet_to_a_hub_without_xet_says_what_to_do() {
    let dir = scratch_dir!("publish-cli-no-xet");
    let hub = LocalHub::start_with(|config| {
        config.write_tokens = vec![TOKEN.to_owned()];
        config.xet = false;
    });
    let url = hub.url();
    let (registry, files) = setup(&dir, None);
    let (registry, files) = (registry.to_str().unwrap(), files.to_str().unwrap());
    let run = CliRun::of(&mut publish(
        &dir,
        registry,
        files,
        &url,
        &["--transfer", "xet"],
    ));
    assert_eq!(run.code(), Some(2), "{}", run.render());
    assert!(
        run.stderr.contains("does not offer Xet") && run.stderr.contains("--transfer"),
        "{}",
        run.render()
    );
    assert_eq!(hub.server.stats().commits, 0);
    // `auto` takes the LFS path there, without an error.
    let run = CliRun::of(&mut publish(&dir, registry, files, &url, &["--json"]));
    assert!(run.status.success(), "{}", run.render());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["repos"][0]["transfer"], "lfs");
    assert_eq!(hub.server.stats().commits, 1);
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

/// Whether the local index under `root` (one folder per CAS) holds the record `name`
/// (written atomically, so present means complete).
fn index_has(root: &Path, name: &str) -> bool {
    std::fs::read_dir(root)
        .map(|dirs| dirs.flatten().any(|d| d.path().join(name).is_file()))
        .unwrap_or(false)
}

#[test]
fn a_xet_publish_killed_mid_upload_sends_nothing_the_cas_holds_when_run_again() {
    use hub_server::{Action, Fault, Match};
    use std::os::unix::process::ExitStatusExt as _;
    use std::time::{Duration, Instant};

    let dir = scratch_dir!("publish-cli-xet-kill");
    let hub = LocalHub::start_with(|config| config.write_tokens = vec![TOKEN.to_owned()]);
    let url = hub.url();
    let (registry, files) = setup(&dir, None);
    let (registry, files) = (registry.to_str().unwrap(), files.to_str().unwrap());
    // About 70 MiB of weights: two xorbs.
    write_random_gguf(&dir, "RuvLTRA Small", 9, 125_000_000);
    let xorbs = planned_xorbs(&dir.join("files").join(FILE));
    assert_eq!(xorbs.len(), 2);
    // The CAS takes the first xorb and holds the second one's request: the publisher is
    // killed while it waits.
    hub.server.faults().add(Fault::once(
        Match::any()
            .method("POST")
            .path_contains(&xorbs[1].to_hex()),
        Action::Stall(Duration::from_secs(120)),
    ));
    let log = dir.join("killed.log");
    let mut child = publish(&dir, registry, files, &url, &[])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let record = format!("{}.xorb", xorbs[0].to_hex());
    let index = dir.join("home/.cache/ruvltra/xet/v1");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !(hub.server.stats().xorbs_inserted == 1
        && hub.server.faults().pending() == 0
        && index_has(&index, &record))
    {
        assert!(Instant::now() < deadline, "{:?}", hub.server.stats());
        if child.try_wait().unwrap().is_some() {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("the publisher ended by itself: {text}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert_eq!(child.wait().unwrap().signal(), Some(9));
    assert_eq!(hub.server.stats().commits, 0);

    // Run again: the first xorb is not sent again, the second is, one commit.
    let before = hub.server.stats();
    let run = CliRun::of(&mut publish(&dir, registry, files, &url, &["--json"]));
    assert!(run.status.success(), "{}", run.render());
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let xet = &report["repos"][0]["xet"];
    assert_eq!(xet["xorbs_sent"], 1, "{xet}");
    assert_eq!(xet["local_xorbs_used"], 1, "{xet}");
    let after = hub.server.stats();
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
