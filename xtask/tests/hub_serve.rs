//! `cargo xtask hub serve` as a user runs it: the exact first line, a working endpoint, data
//! kept across restarts, and a clean exit on SIGTERM and SIGINT.

mod support;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use test_support::{CliRun, Filters, cli_snapshot, scratch_dir};

/// A running server, and the first line it printed.
struct Serving {
    child: Child,
    first_line: String,
}

/// Starts the server; returns it and the address from its first stdout line.
fn serve(data: &Path) -> (Serving, String) {
    let mut child = support::xtask(data)
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
    let serving = Serving {
        child,
        first_line: line,
    };
    (serving, addr)
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

/// Sends `signal` and waits for the exit; returns everything the server printed.
fn stop(serving: Serving, signal: &str) -> CliRun {
    let status = Command::new("kill")
        .args([signal, &serving.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = serving.child.wait_with_output().unwrap();
    let run = CliRun {
        status: output.status,
        stdout: serving.first_line + &String::from_utf8_lossy(&output.stdout),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        run.status.success(),
        "the server did not exit cleanly on {signal}: {}",
        run.render()
    );
    run
}

#[test]
fn serves_keeps_data_and_stops_on_signals() {
    let data = scratch_dir!("hub-serve");
    let (server, addr) = serve(&data);
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
    cli_snapshot!(Filters::new(), stop(server, "-TERM"), @r"
    success: true
    exit_code: 0
    ----- stdout -----
    listening on http://127.0.0.1:[PORT]
    ----- stderr -----
    stopping
    ");

    let (server, addr) = serve(&data);
    let (status, body) = request(&addr, "GET", "/api/models/cli-user/kept", "hf_cli_a", "");
    assert!(
        status.contains("200"),
        "the repo did not survive a restart: {status}"
    );
    assert!(body.contains("\"sha\":"), "{body}");
    cli_snapshot!(Filters::new(), stop(server, "-INT"), @r"
    success: true
    exit_code: 0
    ----- stdout -----
    listening on http://127.0.0.1:[PORT]
    ----- stderr -----
    stopping
    ");
}
