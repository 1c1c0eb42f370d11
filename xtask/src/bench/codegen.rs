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
    render_min: Duration,
    /// CPU time of one render, all threads together.
    render_cpu: Option<Duration>,
    compile: Option<Compile>,
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
        let cpu_before = cpu_time();
        for _ in 0..args.runs.max(1) {
            let start = Instant::now();
            source = ruvltra_codegen::render(&registry)?;
            times.push(start.elapsed());
        }
        let render_cpu = cpu_time().zip(cpu_before).map(|(after, before)| {
            (after.own - before.own) / u32::try_from(times.len()).unwrap_or(1)
        });
        times.sort();
        let render = times[times.len() / 2];
        let render_min = times[0];
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
            render_min,
            render_cpu,
            compile,
        });
    }

    // The machine may be busy with other builds; the load puts the figures in context.
    if let Ok(load) = fs::read_to_string("/proc/loadavg") {
        let one_minute = load.split_whitespace().next().unwrap_or("?");
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        println!("load average {one_minute} on {cores} cores while measuring");
    }
    println!("{}", table(&rows, args.runs.max(1)));
    let mut goals_met = rows
        .iter()
        .filter(|row| row.models == GOAL_SIZE)
        .all(|row| {
            row.render < RENDER_GOAL && row.compile.as_ref().is_none_or(|c| c.wall < COMPILE_GOAL)
        });

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
        "{:>6} {:>7} {:>6} | {:>17} {:>6} {:>8} {:>8} | {:>17} {:>7} {:>8}",
        "models",
        "lines",
        "KiB",
        format!("render median/{runs}"),
        "goal",
        "min",
        "CPU",
        "compile (dev)",
        "goal",
        "CPU"
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
        let (compile, compile_cpu) = match &row.compile {
            Some(c) => (
                format!("{}{}", seconds(c.wall), verdict(c.wall < COMPILE_GOAL)),
                c.cpu.map_or_else(|| "?".to_owned(), seconds),
            ),
            None => ("skipped".to_owned(), String::new()),
        };
        let _ = writeln!(
            out,
            "{:>6} {:>7} {:>6} | {:>17} {:>6} {:>8} {:>8} | {:>17} {:>7} {:>8}",
            row.models,
            row.lines,
            row.kib,
            format!(
                "{}{}",
                seconds(row.render),
                verdict(row.render < RENDER_GOAL)
            ),
            if at_goal { "< 1 s" } else { "" },
            seconds(row.render_min),
            row.render_cpu.map_or_else(|| "?".to_owned(), seconds),
            compile,
            if at_goal { "< 10 s" } else { "" },
            compile_cpu,
        );
    }
    out
}

fn seconds(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
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
        let mut model = Model::new(&id, format!("{id}.gguf"), quant.label(), size);
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
            let mut adapter = Model::new(
                format!("sona-{id}"),
                format!("{dir}/adapter_model.safetensors"),
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
        // `compile` builds once before it writes the module it times, so a module must exist
        // from the start (a fresh scratch folder has none).
        let empty_module = ruvltra_codegen::render(&empty)?;
        ruvltra_registry::write_file_atomically(
            &dir.join("src/generated.rs"),
            empty_module.as_bytes(),
        )?;
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
        krate.compile(&empty_module)?;
        Ok(krate)
    }

    /// Writes `source` as the generated module and times `cargo build --offline`.
    ///
    /// A first, untimed build brings `ruvllm` up to date, since other people may be
    /// editing it; only the second build, which compiles just the generated module, is timed.
    fn compile(&self, source: &str) -> anyhow::Result<Compile> {
        self.build()?;
        ruvltra_registry::write_file_atomically(
            &self.dir.join("src/generated.rs"),
            source.as_bytes(),
        )?;
        let cpu_before = cpu_time();
        let start = Instant::now();
        self.build()?;
        let wall = start.elapsed();
        let cpu = cpu_time()
            .zip(cpu_before)
            .map(|(after, before)| after.children - before.children);
        Ok(Compile { wall, cpu })
    }

    fn build(&self) -> anyhow::Result<()> {
        let output = cargo_command()
            .args(["build", "--offline", "--quiet", "--manifest-path"])
            .arg(self.dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &self.target)
            .env("RUVLLM_REGISTRY", &self.ruvllm_registry)
            .output()
            .context("cannot run cargo")?;
        if !output.status.success() {
            bail!(
                "the benchmark crate did not compile:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }
}

/// Wall-clock and CPU time (cargo and rustc together) of one build.
struct Compile {
    wall: Duration,
    cpu: Option<Duration>,
}

/// CPU time used so far by this process (all threads) and by its finished children.
#[derive(Clone, Copy)]
struct CpuTime {
    own: Duration,
    children: Duration,
}

/// Reads `/proc/self/stat` (Linux); `None` elsewhere. CPU figures show how much of a wall
/// time was waiting for a busy machine.
fn cpu_time() -> Option<CpuTime> {
    // Clock ticks are 1/100 s on every Linux platform Rust supports (USER_HZ).
    const TICK: Duration = Duration::from_millis(10);
    let stat = fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name start at field 3 (`state`).
    let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3)?.parse::<u32>().ok();
    Some(CpuTime {
        own: TICK * (field(14)? + field(15)?),
        children: TICK * (field(16)? + field(17)?),
    })
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// A `cargo` command without the variables `cargo run` set for xtask itself: a nested build
/// that inherits `CARGO_MANIFEST_DIR` and friends looks like a changed environment to build
/// scripts that track them (ring does), and would rebuild them for everybody.
fn cargo_command() -> Command {
    let mut command = Command::new(cargo());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let set_by_cargo_run = key.starts_with("CARGO_")
            && !matches!(
                key.as_ref(),
                "CARGO_HOME" | "CARGO_TARGET_DIR" | "CARGO_TERM_COLOR"
            );
        if set_by_cargo_run || key == "OUT_DIR" || key == "RUVLLM_REGISTRY" {
            command.env_remove(key.as_ref());
        }
    }
    command
}

/// Builds `ruvllm` twice verbosely; returns the second build's lines that show `ruvllm`'s
/// build script running (empty when the no-op build left it alone).
fn noop_build_reruns(root: &Path) -> anyhow::Result<Vec<String>> {
    let build = || -> anyhow::Result<String> {
        let output = cargo_command()
            .args(["build", "-p", "ruvllm", "-v"])
            .current_dir(root)
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
    // Other engineers may be editing ruvllm's sources, so its library can legitimately be
    // dirty; only its build script re-running would mean a missing or wrong rerun-if line.
    Ok(second
        .lines()
        .filter(|line| {
            line.contains("Running")
                && line.contains("/build/ruvllm-")
                && line.contains("build-script-build")
        })
        .map(str::to_owned)
        .collect())
}
