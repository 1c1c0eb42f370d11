//! The local Hub server run as a child process by the crash tests (`tests/tests/crash.rs`), so
//! that a test can `kill -9` it in the middle of an upload and start it again on the same data
//! folder and port.
//!
//! Usage: `rt_serve DATA_DIR ADDR STALL_UPLOAD_MS`: serves with the token `hf_test_write`,
//! stalls the first upload PUT by `STALL_UPLOAD_MS` milliseconds when it is above zero, prints
//! `listening on http://ADDR` once ready and runs until killed.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use hub_server::{Action, Fault, HubServer, Match, ServerConfig};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data, addr, stall_ms] = args.as_slice() else {
        eprintln!("usage: rt_serve DATA_DIR ADDR STALL_UPLOAD_MS");
        return ExitCode::from(2);
    };
    let (Ok(addr), Ok(stall_ms)) = (addr.parse::<SocketAddr>(), stall_ms.parse::<u64>()) else {
        eprintln!("error: ADDR must be ip:port and STALL_UPLOAD_MS a number");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let server = match HubServer::start(addr, ServerConfig::new(data)).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        if stall_ms > 0 {
            server.faults().add(Fault::once(
                Match::any().method("PUT").path_contains("/lfs-upload/"),
                Action::Stall(Duration::from_millis(stall_ms)),
            ));
        }
        println!("listening on {}", server.url());
        let _ = std::io::stdout().flush();
        // Runs until the test kills the process.
        loop {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    })
}
