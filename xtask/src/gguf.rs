//! `cargo xtask gguf inspect FILE [--json]`: what a GGUF file really is, read from its header only.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use ruvltra_gguf::writer::SampleModel;
use ruvltra_gguf::{GgufError, Header, Summary, read_header, split_name};
use serde_json::json;

/// Arguments of `cargo xtask gguf`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: GgufCommand,
}

#[derive(Debug, clap::Subcommand)]
enum GgufCommand {
    /// Print the summary of a GGUF file's header (never reads the tensor data).
    Inspect(InspectArgs),
    /// Write a plausible qwen2-like sample model (zero data, sparse) for demos and benchmarks.
    Sample(SampleArgs),
}

#[derive(Debug, clap::Args)]
struct SampleArgs {
    /// Where to write the file.
    out: PathBuf,
    /// The quant label (e.g. Q4_K_M, Q8_0, F16).
    #[arg(long, default_value = "Q4_K_M")]
    quant: String,
    /// Approximate parameter count.
    #[arg(long, default_value_t = 500_000_000)]
    params: u64,
    /// The architecture.
    #[arg(long, default_value = "qwen2")]
    arch: String,
    /// Tokens in the vocabulary (they are all stored in the header).
    #[arg(long, default_value_t = 1024)]
    vocab: u32,
    /// Leave out general.file_type, so readers must guess the quant.
    #[arg(long)]
    no_file_type: bool,
}

#[derive(Debug, clap::Args)]
struct InspectArgs {
    /// The GGUF file (for a split model, any shard; metadata lives in shard 00001).
    file: PathBuf,
    /// Print one JSON object instead of the human summary.
    #[arg(long)]
    json: bool,
}

/// Runs the subcommand: exit 0 for a valid file, 1 when the file is not valid GGUF, 2 when it
/// cannot be opened.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        GgufCommand::Inspect(inspect) => run_inspect(&inspect),
        GgufCommand::Sample(sample) => run_sample(&sample),
    }
}

fn run_sample(args: &SampleArgs) -> anyhow::Result<ExitCode> {
    let file_type = ruvltra_gguf::quant::file_type_of_label(&args.quant)
        .with_context(|| format!("unknown quant {:?}; use a label such as Q4_K_M", args.quant))?;
    let mut sample = SampleModel::new(&args.arch, file_type, args.params);
    sample.vocab_size = args.vocab;
    sample.write_file_type = !args.no_file_type;
    let layout = sample.build()?.write_file(&args.out)?;
    println!(
        "wrote {} ({} bytes, data at {})",
        args.out.display(),
        layout.file_len,
        layout.data_offset
    );
    Ok(ExitCode::SUCCESS)
}

fn run_inspect(args: &InspectArgs) -> anyhow::Result<ExitCode> {
    let header = match read_header(&args.file) {
        Ok(header) => header,
        Err(err @ GgufError::Open { .. }) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::from(2));
        }
        Err(err) => {
            eprintln!(
                "error: {} is not a valid GGUF file: {err}",
                args.file.display()
            );
            return Ok(ExitCode::from(1));
        }
    };
    let summary = Summary::from_header(&header);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&to_json(&args.file, &summary))?
        );
    } else {
        print!("{}", human(&args.file, &header, &summary));
    }
    Ok(ExitCode::SUCCESS)
}

/// The `--json` object. `split.no` is the 0-based `split.no` key as stored in the file.
fn to_json(file: &Path, s: &Summary) -> serde_json::Value {
    json!({
        "file": file.display().to_string(),
        "version": s.version,
        "architecture": s.architecture,
        "name": s.name,
        "size_label": s.size_label,
        "quant": s.quant.as_ref().map(|q| q.label.to_ascii_uppercase()),
        "quant_guessed": s.quant.as_ref().is_some_and(|q| q.guessed),
        "file_type": s.file_type,
        "context_length": s.context_length,
        "parameter_count": s.parameter_count,
        "has_chat_template": s.has_chat_template,
        "license": s.license,
        "tensor_count": s.tensor_count,
        "kv_count": s.kv_count,
        "data_offset": s.data_offset,
        "alignment": s.alignment,
        "split": s.split.map(|sp| json!({"no": sp.no, "count": sp.count})),
    })
}

fn human(file: &Path, header: &Header, s: &Summary) -> String {
    let or_none = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".to_owned());
    let quant = match &s.quant {
        Some(q) if q.guessed => format!("{} (guessed from tensor types)", q.label),
        Some(q) => format!(
            "{} (general.file_type {})",
            q.label,
            s.file_type.unwrap_or(0)
        ),
        None => "(unknown)".to_owned(),
    };
    let mut lines = vec![
        ("file", file.display().to_string()),
        ("gguf version", s.version.to_string()),
        ("architecture", or_none(&s.architecture)),
        ("name", or_none(&s.name)),
        ("size label", or_none(&s.size_label)),
        ("quant", quant),
        (
            "context length",
            s.context_length
                .map_or_else(|| "(none)".to_owned(), |c| c.to_string()),
        ),
        ("parameters", s.parameter_count.to_string()),
        (
            "chat template",
            if s.has_chat_template { "yes" } else { "no" }.to_owned(),
        ),
        ("license", or_none(&s.license)),
        ("tensors", s.tensor_count.to_string()),
        ("metadata keys", s.kv_count.to_string()),
        (
            "data offset",
            format!("{} (alignment {})", s.data_offset, s.alignment),
        ),
    ];
    let mut types = std::collections::BTreeMap::new();
    for t in &header.tensors {
        *types.entry(t.ggml_type.to_string()).or_insert(0u64) += 1;
    }
    let types: Vec<String> = types.iter().map(|(t, n)| format!("{t} x{n}")).collect();
    lines.push(("tensor types", types.join(", ")));
    let split = match (s.split, split_name(file)) {
        (Some(sp), name) => {
            let mut text = format!(
                "shard {} of {} (split.no {})",
                sp.no.saturating_add(1),
                sp.count,
                sp.no
            );
            match name {
                Some(n) if !sp.matches_name(&n) => text.push_str(&format!(
                    "; WARNING: the file name says shard {} of {}",
                    n.no, n.count
                )),
                None => text.push_str("; WARNING: the file name has no -NNNNN-of-MMMMM suffix"),
                Some(_) => {}
            }
            text
        }
        (None, Some(n)) => format!(
            "the name says shard {} of {} but the file has no split.no/split.count keys",
            n.no, n.count
        ),
        (None, None) => "no".to_owned(),
    };
    lines.push(("split", split));
    if let Some(n) = split_name(file).filter(|n| n.no != 1) {
        lines.push((
            "note",
            format!("model metadata lives in {}", n.first_shard.display()),
        ));
    }
    let mut out = String::new();
    for (label, value) in lines {
        out.push_str(&format!("{label:<15} {value}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspect(file: &Path, json: bool) -> ExitCode {
        run_inspect(&InspectArgs {
            file: file.to_path_buf(),
            json,
        })
        .unwrap()
    }

    #[test]
    fn json_has_the_promised_keys() {
        let dir = std::env::temp_dir().join(format!("xtask-gguf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m-q4_k_m-00001-of-00002.gguf");
        let mut w = ruvltra_gguf::writer::sample_model("qwen2", 15, 2_000_000).unwrap();
        w.kv("split.no", 0u16).kv("split.count", 2u16);
        w.write_file(&path).unwrap();
        let header = read_header(&path).unwrap();
        let v = to_json(&path, &Summary::from_header(&header));
        assert_eq!(v["version"], 3);
        assert_eq!(v["architecture"], "qwen2");
        assert_eq!(v["quant"], "Q4_K_M");
        assert_eq!(v["quant_guessed"], false);
        assert_eq!(v["file_type"], 15);
        assert_eq!(v["tensor_count"], header.tensors.len() as u64);
        assert_eq!(v["kv_count"], header.metadata.len() as u64);
        assert_eq!(v["data_offset"], header.data_offset);
        assert_eq!(v["context_length"], 32768);
        assert_eq!(v["split"], json!({"no": 0, "count": 2}));
        let text = human(&path, &header, &Summary::from_header(&header));
        assert!(
            text.contains("quant           Q4_K_M (general.file_type 15)"),
            "{text}"
        );
        assert!(text.contains("shard 1 of 2 (split.no 0)"), "{text}");
        assert_eq!(inspect(&path, true), ExitCode::SUCCESS);

        let mut bare = ruvltra_gguf::writer::SampleModel::new("llama", 7, 1_000_000);
        bare.write_file_type = false;
        let path = dir.join("bare.gguf");
        bare.build().unwrap().write_file(&path).unwrap();
        let v = to_json(&path, &Summary::from_header(&read_header(&path).unwrap()));
        assert_eq!(v["quant"], "Q8_0");
        assert_eq!(v["quant_guessed"], true);
        assert_eq!(v["file_type"], serde_json::Value::Null);
        assert_eq!(v["split"], serde_json::Value::Null);

        let bad = dir.join("bad.gguf");
        std::fs::write(&bad, b"GGUF\x01\x00\x00\x00").unwrap();
        assert_eq!(inspect(&bad, true), ExitCode::from(1));
        assert_eq!(inspect(&dir.join("missing.gguf"), false), ExitCode::from(2));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
