//! `cargo xtask hub serve` as a user runs it: the exact first line, a working endpoint, data
//! kept across restarts, and a clean exit on SIGTERM and SIGINT.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts the server; returns the child and the address from its first stdout line.
fn serve(data: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "hub",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--token",
            "hf_cli_a",
            "--token",
            "hf_cli_b",
        ])
        .args(["--user", "cli-user", "--data"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .trim_end_matches('\n')
        .to_owned();
    assert!(
        addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
        "{addr}"
    );
    (child, addr)
}

/// One HTTP/1.1 request with `Connection: close`; returns the status line and the body.
fn request(addr: &str, method: &str, path: &str, token: &str, body: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.lines().next().unwrap_or_default().to_owned();
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn stop(mut child: Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(
        exit.success(),
        "the server did not exit cleanly on {signal}: {exit:?}"
    );
}

#[test]
fn serves_keeps_data_and_stops_on_signals() {
    let data = scratch("hub-serve");
    let (child, addr) = serve(&data);
    let (status, body) = request(&addr, "GET", "/api/whoami-v2", "hf_cli_b", "");
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("\"name\":\"cli-user\""), "{body}");
    let (status, _) = request(&addr, "GET", "/api/whoami-v2", "hf_wrong", "");
    assert!(status.contains("401"), "{status}");
    let (status, body) = request(
        &addr,
        "POST",
        "/api/repos/create",
        "hf_cli_a",
        r#"{"name":"kept"}"#,
    );
    assert!(status.contains("200"), "{status}");
    assert!(
        body.contains(&format!("\"url\":\"http://{addr}/cli-user/kept\"")),
        "{body}"
    );
    stop(child, "-TERM");

    let (child, addr) = serve(&data);
    let (status, body) = request(&addr, "GET", "/api/models/cli-user/kept", "hf_cli_a", "");
    assert!(
        status.contains("200"),
        "the repo did not survive a restart: {status}"
    );
    assert!(body.contains("\"sha\":"), "{body}");
    stop(child, "-INT");
}
