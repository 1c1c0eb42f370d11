//! `cargo xtask bench codegen`: how fast the registry generator is and how long its output
//! takes to compile, for synthetic valid registries of growing size.
//!
//! Goals (issue 3): `render()` under 1 s and the generated module compiling in under 10 s at
//! 5,000 models, and a no-op `cargo build -p ruvllm` re-running no build script.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ruvltra_registry::{ArtifactKind, ExtraFile, Hardware, Model, Quant, Registry, Status};

use crate::test::workspace_root;

/// Arguments of `cargo xtask bench codegen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Registry sizes (model counts) to measure.
    #[arg(long, value_delimiter = ',', default_values_t = [10, 1_000, 5_000])]
    sizes: Vec<usize>,
    /// Renders per size; the median is reported.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Only time the generator; skip compiling the generated modules.
    #[arg(long)]
    no_compile: bool,
    /// Skip the check that a no-op `cargo build -p ruvllm` runs no build script.
    #[arg(long)]
    no_noop_check: bool,
}

const RENDER_GOAL: Duration = Duration::from_secs(1);
const COMPILE_GOAL: Duration = Duration::from_secs(10);
/// The size the goals are stated for.
const GOAL_SIZE: usize = 5_000;

struct Row {
    models: usize,
    lines: usize,
    kib: usize,
    render: Duration,
    compile: Option<Duration>,
}

/// Runs the benchmark and prints the table; exit 1 when a goal at 5,000 models is missed.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let root = workspace_root();
    let bench_dir = root.join("target/bench-codegen");
    let mut compiler = if args.no_compile {
        None
    } else {
        Some(ThrowawayCrate::prepare(&root, &bench_dir)?)
    };

    let mut rows = Vec::new();
    for &models in &args.sizes {
        let registry = synthetic_registry(models);
        ruvltra_registry::validate(&registry)
            .map_err(|problems| anyhow::anyhow!("synthetic registry is invalid:\n{problems}"))?;
        let mut times = Vec::with_capacity(args.runs.max(1));
        let mut source = String::new();
        for _ in 0..args.runs.max(1) {
            let start = Instant::now();
            source = ruvltra_codegen::render(&registry)?;
            times.push(start.elapsed());
        }
        times.sort();
        let render = times[times.len() / 2];
        let compile = match &mut compiler {
            Some(krate) => Some(krate.compile(&source)?),
            None => None,
        };
        eprintln!("measured {models} models");
        rows.push(Row {
            models,
            lines: source.lines().count(),
            kib: source.len().div_ceil(1024),
            render,
            compile,
        });
    }

    println!("{}", table(&rows, args.runs.max(1)));
    let mut goals_met = rows
        .iter()
        .filter(|row| row.models == GOAL_SIZE)
        .all(|row| row.render < RENDER_GOAL && row.compile.is_none_or(|c| c < COMPILE_GOAL));

    if !args.no_noop_check {
        let reruns = noop_build_reruns(&root)?;
        if reruns.is_empty() {
            println!("no-op `cargo build -p ruvllm`: no build script re-ran (goal: none) ok");
        } else {
            goals_met = false;
            println!("no-op `cargo build -p ruvllm` re-ran build scripts (goal: none) MISSED:");
            for line in reruns {
                println!("  {line}");
            }
        }
    }
    Ok(if goals_met {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn table(rows: &[Row], runs: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>7}  {:>8}  {:>8}  {:>18}  {:>8}  {:>14}  {:>8}",
        "models",
        "lines",
        "KiB",
        format!("render (median/{runs})"),
        "goal",
        "compile (dev)",
        "goal"
    );
    for row in rows {
        let at_goal = row.models == GOAL_SIZE;
        let verdict = |ok: bool| {
            if !at_goal {
                ""
            } else if ok {
                " ok"
            } else {
                " MISSED"
            }
        };
        let compile = row.compile.map_or_else(|| "skipped".to_owned(), seconds);
        let _ = writeln!(
            out,
            "{:>7}  {:>8}  {:>8}  {:>18}  {:>8}  {:>14}  {:>8}",
            row.models,
            row.lines,
            row.kib,
            format!(
                "{}{}",
                seconds(row.render),
                verdict(row.render < RENDER_GOAL)
            ),
            if at_goal { "< 1 s" } else { "" },
            format!(
                "{compile}{}",
                verdict(row.compile.is_none_or(|c| c < COMPILE_GOAL))
            ),
            if at_goal { "< 10 s" } else { "" },
        );
    }
    out
}

fn seconds(duration: Duration) -> String {
    format!("{:.3} s", duration.as_secs_f64())
}

/// A valid registry of exactly `count` models: GGUF models over variants, sizes and every
/// quantised scheme, with one in ten entries an adapter of the model before it, and digests,
/// sizes and hardware filled in so every field of the generated code is exercised.
fn synthetic_registry(count: usize) -> Registry {
    const SIZES: &[&str] = &["0.5b", "1b", "3b", "7b"];
    let quants: Vec<Quant> = Quant::ALL
        .iter()
        .copied()
        .filter(|q| !q.is_full_precision())
        .collect();
    let mut models = Vec::with_capacity(count);
    let mut combo = 0usize;
    while models.len() < count {
        let quant = quants[combo % quants.len()];
        let size = SIZES[(combo / quants.len()) % SIZES.len()];
        let variant = format!("bench-v{}", combo / (quants.len() * SIZES.len()));
        combo += 1;
        let id = format!("ruvltra-{variant}-{size}-{quant}");
        let digest = format!(
            "{:064x}",
            (combo as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        );
        let mut model = blank_model(&id, &format!("{id}.gguf"), quant.label(), size);
        model.variant = Some(variant);
        model.name = Some(format!("RuvLTRA bench {id}"));
        model.description = Some("A synthetic model of the codegen benchmark.".to_owned());
        model.architecture = Some("qwen2".to_owned());
        model.parameters = Some(494_032_768);
        model.context_length = Some(32_768);
        model.bytes = Some(400_000_000 + combo as u64);
        model.sha256 = Some(digest.clone());
        model.hardware = Some(Hardware {
            min_ram_mib: Some(1024),
            recommended_ram_mib: Some(2048),
            accelerators: vec!["cpu".to_owned(), "cuda".to_owned()],
            ..Hardware::default()
        });
        model.tags = vec!["bench".to_owned()];
        models.push(model);
        if models.len() % 10 == 9 && models.len() < count {
            let dir = format!("sona/{id}");
            let mut adapter = blank_model(
                &format!("sona-{id}"),
                &format!("{dir}/adapter_model.safetensors"),
                "f16",
                size,
            );
            adapter.kind = ArtifactKind::Adapter;
            adapter.status = Status::Planned;
            adapter.base = Some(id);
            adapter.sha256 = Some(digest);
            adapter.extra_files = vec![ExtraFile {
                file: format!("{dir}/adapter_config.json"),
                bytes: Some(512),
                sha256: None,
                extra: Default::default(),
            }];
            models.push(adapter);
        }
    }
    Registry {
        schema_version: ruvltra_registry::SCHEMA_VERSION,
        repo: "ruv/ruvltra".to_owned(),
        revision: "main".to_owned(),
        catalog: Default::default(),
        models,
        extra: Default::default(),
    }
}

fn blank_model(id: &str, file: &str, quant: &str, size: &str) -> Model {
    Model {
        id: id.to_owned(),
        file: file.to_owned(),
        quant: quant.to_owned(),
        size: size.to_owned(),
        variant: None,
        kind: ArtifactKind::Gguf,
        status: Status::Published,
        name: None,
        description: None,
        architecture: None,
        parameters: None,
        context_length: None,
        base_model: None,
        base: None,
        license: None,
        languages: Vec::new(),
        hardware: None,
        tags: Vec::new(),
        benchmarks: Vec::new(),
        fallback_urls: Vec::new(),
        repo: None,
        revision: None,
        bytes: None,
        sha256: None,
        extra_files: Vec::new(),
        modelscope_repo: None,
        hub: None,
        needs_review: false,
        extra: Default::default(),
    }
}

/// A crate outside the workspace that includes a generated module next to `ruvllm`'s types,
/// built offline with its own target directory so the measurement is not disturbed by (or
/// disturbing) the workspace build.
struct ThrowawayCrate {
    dir: PathBuf,
    target: PathBuf,
    /// An empty catalog for `ruvllm`'s own build script, so the benchmark does not depend on
    /// the state of the workspace's `registry.json`.
    ruvllm_registry: PathBuf,
}

impl ThrowawayCrate {
    fn prepare(root: &Path, bench_dir: &Path) -> anyhow::Result<Self> {
        let dir = bench_dir.join("crate");
        let target = bench_dir.join("target");
        fs::create_dir_all(dir.join("src"))?;
        let ruvllm = root.join("crates/ruvllm");
        let manifest = format!(
            "# Throwaway crate of `cargo xtask bench codegen`; safe to delete.\n\
             [package]\nname = \"codegen-bench\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
             publish = false\n\n[dependencies]\nruvllm = {{ path = {:?} }}\n\n[workspace]\n",
            ruvllm.display().to_string()
        );
        fs::write(dir.join("Cargo.toml"), manifest)?;
        // The workspace's lock file pins the same dependency versions, so the build is offline.
        fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock"))
            .context("cannot copy Cargo.lock into the benchmark crate")?;
        fs::write(
            dir.join("src/lib.rs"),
            "//! Includes one generated registry next to ruvllm's types.\n\
             use ruvllm::hub::registry::prelude::*;\n\
             include!(\"generated.rs\");\n",
        )?;
        let empty = synthetic_registry(0);
        let ruvllm_registry = bench_dir.join("empty-registry.json");
        ruvltra_registry::save(&ruvllm_registry, &empty)?;
        let krate = ThrowawayCrate {
            dir,
            target,
            ruvllm_registry,
        };
        // Build ruvllm and the generated module of an empty catalog once, so that the timed
        // builds compile only the generated module.
        eprintln!("building ruvllm for the benchmark crate (once)...");
        krate.compile(&ruvltra_codegen::render(&empty)?)?;
        Ok(krate)
    }

    /// Writes `source` as the generated module and times `cargo build --offline`.
    fn compile(&self, source: &str) -> anyhow::Result<Duration> {
        ruvltra_registry::write_file_atomically(
            &self.dir.join("src/generated.rs"),
            source.as_bytes(),
        )?;
        let start = Instant::now();
        let output = Command::new(cargo())
            .args(["build", "--offline", "--quiet", "--manifest-path"])
            .arg(self.dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &self.target)
            .env("RUVLLM_REGISTRY", &self.ruvllm_registry)
            .output()
            .context("cannot run cargo")?;
        let elapsed = start.elapsed();
        if !output.status.success() {
            bail!(
                "the generated module did not compile:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(elapsed)
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Builds `ruvllm` twice verbosely; returns the second build's lines that show a build
/// script running (empty when the no-op build was fully fresh).
fn noop_build_reruns(root: &Path) -> anyhow::Result<Vec<String>> {
    let build = || -> anyhow::Result<String> {
        let output = Command::new(cargo())
            .args(["build", "-p", "ruvllm", "-v"])
            .current_dir(root)
            .env_remove("RUVLLM_REGISTRY")
            .output()
            .context("cannot run cargo")?;
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        if !output.status.success() {
            bail!("cargo build -p ruvllm failed:\n{stderr}");
        }
        Ok(stderr)
    };
    build()?;
    let second = build()?;
    if !second
        .lines()
        .any(|line| line.trim_start().starts_with("Fresh ruvllm"))
    {
        bail!("the second build did not report `Fresh ruvllm`:\n{second}");
    }
    Ok(second
        .lines()
        .filter(|line| line.contains("build-script-build") && line.contains("Running"))
        .map(str::to_owned)
        .collect())
}
