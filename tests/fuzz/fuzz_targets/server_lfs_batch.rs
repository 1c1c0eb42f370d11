//! Fuzz target: any bytes posted as an LFS batch request to the local server get an answer
//! below 500 (a panicking handler drops the connection, which fails the check).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../src/fuzz_checks.rs"]
mod fuzz_checks;
#[allow(dead_code)]
#[path = "../../src/raw_http.rs"]
mod raw_http;
use fuzz_checks::ServerTarget;

static SERVER: OnceLock<ServerTarget> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    SERVER.get_or_init(ServerTarget::start).lfs_batch(data);
});
