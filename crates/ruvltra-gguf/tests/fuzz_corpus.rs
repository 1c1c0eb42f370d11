//! Runs the fuzz target's body over the checked-in seed corpus and over every single-byte
//! mutation of each seed, so the parser's no-panic promise is checked by `cargo test` too
//! (the real fuzzer needs nightly: `cargo +nightly fuzz run parse_header` in `fuzz/`).

use std::path::Path;

use ruvltra_gguf::{Limits, Summary, read_header_from};

/// The same body as `fuzz/fuzz_targets/parse_header.rs`; returns whether the input parsed.
fn parse_header(data: &[u8]) -> bool {
    let limits = Limits {
        max_total_bytes: 1 << 20,
        max_array_elements: 1 << 16,
        ..Limits::default()
    };
    match read_header_from(data, &limits) {
        Ok(header) => {
            let summary = Summary::from_header(&header);
            let _ = header.check_data_section(data.len() as u64);
            let _ = format!("{summary:?}");
            for entry in &header.metadata {
                let _ = entry.value.to_string();
            }
            true
        }
        Err(err) => {
            // Every error renders a message.
            assert!(!err.to_string().is_empty());
            false
        }
    }
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parse_header");
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    seeds.sort();
    seeds
}

#[test]
fn seeds_parse() {
    let seeds = seeds();
    assert!(seeds.len() >= 8, "the seed corpus is missing");
    for (name, bytes) in &seeds {
        if name.starts_with("seed-") {
            assert!(parse_header(bytes), "seed {name} must be a valid header");
        } else {
            parse_header(bytes);
        }
    }
}

#[test]
fn single_byte_mutations_never_panic() {
    let mut parsed = 0u64;
    let mut refused = 0u64;
    for (_, seed) in seeds() {
        let mut data = seed.clone();
        for i in 0..data.len() {
            let original = data[i];
            for b in [0x00, 0xFF, original.wrapping_add(1), original ^ 0x80] {
                data[i] = b;
                if parse_header(&data) {
                    parsed += 1;
                } else {
                    refused += 1;
                }
            }
            data[i] = original;
        }
    }
    // Both outcomes occur: mutated string bytes still parse, mutated lengths do not.
    assert!(
        parsed > 0 && refused > 0,
        "parsed {parsed}, refused {refused}"
    );
}
