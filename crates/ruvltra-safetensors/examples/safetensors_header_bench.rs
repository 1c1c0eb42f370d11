//! Measures how fast headers are read and checked: a model-sized header (thousands of tensors)
//! and the sample SONA adapter. Prints figures; nothing is asserted.
//!
//! `cargo run --release -p ruvltra-safetensors --example safetensors_header_bench`

use std::collections::BTreeMap;
use std::time::Instant;

use ruvltra_safetensors::writer::{encode_header, sample_sona_export};
use ruvltra_safetensors::{Dtype, Limits, check_adapter_dir, read_header_from};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("st-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    // A Qwen2-7B-like layout: 28 layers of 12 tensors, repeated to 8400 tensors; BF16, sparse.
    let mut tensors = Vec::new();
    for layer in 0..700 {
        for (name, shape) in [
            ("self_attn.q_proj.weight", vec![3584u64, 3584]),
            ("self_attn.q_proj.bias", vec![3584]),
            ("self_attn.k_proj.weight", vec![512, 3584]),
            ("self_attn.k_proj.bias", vec![512]),
            ("self_attn.v_proj.weight", vec![512, 3584]),
            ("self_attn.v_proj.bias", vec![512]),
            ("self_attn.o_proj.weight", vec![3584, 3584]),
            ("mlp.gate_proj.weight", vec![18944, 3584]),
            ("mlp.up_proj.weight", vec![18944, 3584]),
            ("mlp.down_proj.weight", vec![3584, 18944]),
            ("input_layernorm.weight", vec![3584]),
            ("post_attention_layernorm.weight", vec![3584]),
        ] {
            tensors.push((format!("model.layers.{layer}.{name}"), Dtype::BF16, shape));
        }
    }
    // The data is never read, so the header bytes alone stand for the whole file.
    let (bytes, h) = encode_header(&tensors, &BTreeMap::new())?;
    let runs = 20;
    let start = Instant::now();
    for _ in 0..runs {
        read_header_from(&bytes[..], h.file_len(), &Limits::default())?;
    }
    let per = start.elapsed() / runs;
    println!(
        "{} tensors, header {} KB, data {:.1} GB: read_header_from {:?} per header ({:.0} MB/s)",
        h.tensors.len(),
        h.header_len / 1024,
        h.data_len as f64 / 1e9,
        per,
        h.header_len as f64 / per.as_secs_f64() / 1e6
    );

    let sona = dir.join("sona");
    sample_sona_export(&sona, "Qwen/Qwen2.5-0.5B-Instruct", 16)?;
    let start = Instant::now();
    for _ in 0..runs {
        check_adapter_dir(&sona)?;
    }
    println!(
        "check_adapter_dir on the sample export: {:?} per folder",
        start.elapsed() / runs
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
