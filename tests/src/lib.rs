//! Integration tests live in tests/tests/*.rs; this library holds their shared support code.
