//! Times validation, canonical serialisation and parsing of a registry of 100,000 models
//! (the checked-in models, renamed), showing that each step is linear:
//! `cargo run --release -p ruvltra-registry --example bench_validate [ROUNDS]`.

fn main() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../registry.json"))
        .unwrap();
    let template = ruvltra_registry::parse(&text).unwrap();
    let mut registry = template.clone();
    let n = 100_000;
    registry.models = (0..n)
        .map(|i| {
            let mut m = template.models[i % 9].clone();
            let variant = format!("v{i}");
            m.id = format!("ruvltra-{variant}-{}-{}", m.size, m.quant);
            m.file = format!("{}.gguf", m.id);
            m.variant = Some(variant);
            m
        })
        .collect();
    for _ in 0..std::env::args().nth(1).map_or(1, |r| r.parse().unwrap()) {
        let t = std::time::Instant::now();
        ruvltra_registry::validate(&registry).unwrap();
        println!("validate {n}: {:?}", t.elapsed());
    }
    let t = std::time::Instant::now();
    let json = ruvltra_registry::to_canonical_json(&registry);
    println!(
        "serialise: {:?} ({} MB)",
        t.elapsed(),
        json.len() / 1_000_000
    );
    let t = std::time::Instant::now();
    let back = ruvltra_registry::parse(&json).unwrap();
    println!("parse: {:?}", t.elapsed());
    assert_eq!(back, registry);
}
