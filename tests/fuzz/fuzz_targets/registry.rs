//! Fuzz target: any bytes given to the registry loader give a registry or a typed error,
//! never a panic; what parses validates and round-trips through its canonical form.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../src/fuzz_checks.rs"]
mod fuzz_checks;
#[allow(dead_code)]
#[path = "../../src/raw_http.rs"]
mod raw_http;

fuzz_target!(|data: &[u8]| {
    fuzz_checks::registry(data);
});
