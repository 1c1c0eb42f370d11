//! Integration tests live in tests/tests/*.rs; this library holds their shared support code:
//! a raw HTTP/1.1 caller for sending what no well-behaved client would send, and the checks
//! the fuzz targets (`tests/fuzz`) and their stable corpus replay (`tests/tests/fuzz_corpus.rs`)
//! share.

pub mod fuzz_checks;
pub mod raw_http;
