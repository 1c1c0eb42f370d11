//! Fuzz target: any bytes given to the header parser give a header or an error, never a panic,
//! and a header that parses also summarises without panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ruvltra_gguf::{Limits, Summary, read_header_from};

fuzz_target!(|data: &[u8]| {
    // Small limits keep each run fast; the default ones are covered by the unit tests.
    let limits = Limits {
        max_total_bytes: 1 << 20,
        max_array_elements: 1 << 16,
        ..Limits::default()
    };
    if let Ok(header) = read_header_from(data, &limits) {
        let summary = Summary::from_header(&header);
        let _ = header.check_data_section(data.len() as u64);
        let _ = format!("{summary:?}");
        for entry in &header.metadata {
            let _ = entry.value.to_string();
        }
    }
});
