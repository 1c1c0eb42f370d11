//! Checks a SONA export folder the way the publisher does and prints its summary; without an
//! argument it first writes the sample export into a temporary folder.
//!
//! `cargo run -p ruvltra-safetensors --example sona_check -- [DIR]`

use std::process::ExitCode;

use ruvltra_safetensors::{check_adapter_dir, writer::sample_sona_export};

fn main() -> ExitCode {
    let dir = match std::env::args_os().nth(1) {
        Some(d) => std::path::PathBuf::from(d),
        None => {
            let d = std::env::temp_dir().join(format!("sona-sample-{}", std::process::id()));
            if let Err(e) = sample_sona_export(&d, "Qwen/Qwen2.5-0.5B-Instruct", 8) {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
            println!("wrote a sample export to {}", d.display());
            d
        }
    };
    match check_adapter_dir(&dir) {
        Ok(s) => {
            println!("base model   {}", s.config.base_model_name_or_path);
            println!(
                "lora         r={} alpha={} targets={:?}",
                s.config.r, s.config.lora_alpha, s.config.target_modules
            );
            println!(
                "weights      {} tensors, {} parameters, {} data bytes",
                s.header.tensors.len(),
                s.header.parameter_count(),
                s.header.data_len
            );
            println!("patterns     {} records", s.patterns.records);
            println!("preferences  {} records", s.preferences.records);
            for (name, len) in &s.files {
                println!("  {len:>10}  {name}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
