//! `cargo xtask bench <what>`: benchmarks of the tool chain against the machine's limits and
//! the official Python client. This module is the command line and the order the
//! benchmarks run in; the work is in layers that depend one way:
//!
//! * one module per benchmark ([`hash`], [`publish`], [`xet`], [`download`], [`codegen`]):
//!   each measures its subject and returns rows (`codegen` prints its own table);
//! * [`harness`]: the scratch folder, the sample file, child processes measured for wall
//!   time and peak RSS, the local Hub server processes;
//! * [`report`]: rows and goals, the table, the JSON document and the progress lines.
//!
//! The benchmarks use the harness and the report, the harness uses the report's progress
//! lines, and neither knows a benchmark. Performance goals are measured here and printed next
//! to the goal, never asserted with wall-clock time in tests.

mod codegen;
mod download;
mod harness;
mod hash;
mod publish;
mod report;
mod xet;

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::Context as _;
use clap::Subcommand;
use serde_json::{Value, json};

/// The demo writes its samples as the benchmarks do (real-looking weights, one stream each).
pub use harness::write_gguf_sample;
use harness::{Ctx, Settings};
use report::{Goal, Output, Row, Setting, note};

/// Arguments of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

/// What to benchmark.
#[derive(Debug, Subcommand)]
enum What {
    /// Time of `ruvltra_codegen::render` and compile time of the generated module for synthetic
    /// registries of 10, 1,000 and 5,000 models, and whether a no-op build re-runs build scripts.
    Codegen(codegen::Args),
    /// The uploader's streaming sha256 of a large file vs `openssl dgst` and `sha256sum`.
    Hash(Common),
    /// `xtask publish` of a generated GGUF into a fresh `hub serve` vs `huggingface_hub`'s
    /// `upload_file` into another, and vs one hash + one transfer.
    Publish(Common),
    /// `xtask publish --transfer xet` vs `upload_file` with `hf_xet`: a first publish, and a
    /// re-publish after a metadata edit with and without the local state of the first.
    Xet(Common),
    /// `ruvllm pull` (verified): plain vs `curl -o FILE && sha256sum FILE`, the disk floor
    /// and `hf_hub_download`; through Xet, cold and after a metadata edit, vs `hf_xet`.
    Download(Common),
    /// hash, publish, xet, download and codegen, with one table of every figure.
    All(AllArgs),
    /// Runs a command and reports its wall time and peak RSS (used by the other benchmarks).
    #[command(hide = true)]
    Exec(harness::exec::ExecArgs),
}

/// Options every benchmark of the suite takes.
#[derive(Debug, Clone, clap::Args)]
struct Common {
    /// Size of the generated GGUF file, in bytes.
    #[arg(long, default_value_t = 1 << 30, value_parser = clap::value_parser!(u64).range(1_048_576..))]
    size: u64,
    /// Measured runs per figure (after one warm-up); the median is reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=50))]
    runs: u64,
    /// Write the results as JSON: to `--out` when given, else to stdout (the table then goes
    /// to stderr).
    #[arg(long)]
    json: bool,
    /// The file `--json` writes to (atomically).
    #[arg(long, requires = "json", value_name = "FILE")]
    out: Option<PathBuf>,
    /// Keep the scratch folder (sample file, server data, caches) and print its path.
    #[arg(long)]
    keep: bool,
}

impl Common {
    fn settings(&self) -> Settings {
        Settings {
            size: self.size,
            runs: self.runs,
            keep: self.keep,
        }
    }

    fn output(&self) -> Output<'_> {
        Output {
            json: self.json,
            out: self.out.as_deref(),
        }
    }
}

/// Arguments of `cargo xtask bench all`.
#[derive(Debug, Clone, clap::Args)]
struct AllArgs {
    #[command(flatten)]
    common: Common,
    /// Benchmarks to leave out (hash, publish, xet, download, codegen), comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = ["hash", "publish", "xet", "download", "codegen"])]
    skip: Vec<String>,
}

/// Runs the chosen benchmark.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.what {
        What::Codegen(args) => codegen::run(args),
        What::Hash(common) => run_one(hash::run, &common),
        What::Publish(common) => run_one(publish::run, &common),
        What::Xet(common) => run_one(xet::run, &common),
        What::Download(common) => run_one(download::run, &common),
        What::All(args) => run_all(&args),
        What::Exec(args) => harness::exec::run(args),
    }
}

/// What one benchmark of the suite is: it measures in the context and returns its rows.
type Bench = fn(&mut Ctx) -> anyhow::Result<Vec<Row>>;

/// Runs one benchmark of the suite (`bench hash`, `bench publish`, `bench xet`,
/// `bench download`).
fn run_one(bench: Bench, common: &Common) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut ctx = Ctx::new(common.settings())?;
    let rows = bench(&mut ctx)?;
    finish(&rows, common, Value::Null, started)
}

/// Runs `bench all`: hash, publish, xet, download, then the codegen benchmark (as a child, its
/// table shown as it prints it), and one combined table.
fn run_all(args: &AllArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let skip = |name: &str| args.skip.iter().any(|s| s == name);
    let mut ctx = Ctx::new(args.common.settings())?;
    let mut rows = Vec::new();
    let suite: [(&str, Bench); 4] = [
        ("hash", hash::run),
        ("publish", publish::run),
        ("xet", xet::run),
        ("download", download::run),
    ];
    for (name, bench) in suite {
        if !skip(name) {
            rows.extend(bench(&mut ctx)?);
        }
    }
    let mut extra = json!({});
    if !skip("codegen") {
        note(format_args!("== codegen: `cargo xtask bench codegen`"));
        let start = Instant::now();
        let out = Command::new(&ctx.xtask)
            .args(["bench", "codegen"])
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .context("cannot run `xtask bench codegen`")?;
        let table = String::from_utf8_lossy(&out.stdout).into_owned();
        if args.common.json && args.common.out.is_none() {
            eprint!("{table}");
        } else {
            print!("{table}");
        }
        let ok = out.status.success();
        extra["codegen"] =
            json!({ "table": table, "goals_met": ok, "elapsed_s": start.elapsed().as_secs_f64() });
        rows.push(Row {
            bench: "codegen",
            measure: "render < 1 s, compile < 10 s at 5,000 models, no-op build re-runs nothing (table above)".to_owned(),
            unit: "goals met",
            project: if ok { 1.0 } else { 0.0 },
            project_samples: Vec::new(),
            reference: "-".to_owned(),
            reference_value: None,
            reference_samples: Vec::new(),
            goal: Goal::Equals(1.0),
        });
    }
    finish(&rows, &args.common, extra, started)
}

/// Prints the table and writes the JSON as asked; exit 1 when a goal was missed.
fn finish(
    rows: &[Row],
    common: &Common,
    extra: Value,
    started: Instant,
) -> anyhow::Result<ExitCode> {
    let setting = Setting {
        size: common.size,
        runs: common.runs,
        machine: harness::machine(),
    };
    let missed = report::emit(rows, &setting, common.output(), extra, started)?;
    note(format_args!(
        "{} figure(s), {missed} goal(s) missed, {:.0} s in all",
        rows.len(),
        started.elapsed().as_secs_f64()
    ));
    Ok(if missed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
