//! Fuzz target: any bytes given to the Xet shard decoder give a shard or a typed error, never a
//! panic, and what decodes comes back unchanged through encode and decode (the checks live in
//! crates/xet-format/tests/fuzz_checks, which the stable replay of this corpus uses too).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../../crates/xet-format/tests/fuzz_checks/mod.rs"]
mod fuzz_checks;

fuzz_target!(|data: &[u8]| {
    fuzz_checks::shard(data);
});
