//! What the `hash`, `publish`, `download` and `all` benchmarks share: their options, the
//! sample GGUF file, child processes measured for wall time and peak RSS, the local Hub
//! server processes they talk to, and the table and JSON every result ends up in.
//!
//! Every figure is the median of `--runs` runs after one warm-up, printed beside a reference
//! measured in the same invocation, with the ratio, the goal and PASS or MISS. Tests never
//! assert these numbers; `cargo xtask bench` is where the goals are checked.

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use ruvltra_gguf::writer::SampleModel;
use ruvltra_registry::{Quant, Status};
use serde_json::{Value, json};

use crate::test::{ensure_python_env, workspace_root};
use crate::{bench_download, bench_hash, bench_publish};

/// The write token of every server the benchmarks start (local, throwaway).
pub const BENCH_TOKEN: &str = "hf_bench_local_write_token";
/// One GiB, the unit throughputs are given in.
pub const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
/// One MiB, the unit peak RSS is given in.
pub const MIB: f64 = 1024.0 * 1024.0;

/// Options every benchmark of the suite takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Size of the generated GGUF file, in bytes.
    #[arg(long, default_value_t = 1 << 30, value_parser = clap::value_parser!(u64).range(1_048_576..))]
    pub size: u64,
    /// Measured runs per figure (after one warm-up); the median is reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=50))]
    pub runs: u64,
    /// Write the results as JSON: to `--out` when given, else to stdout (the table then goes
    /// to stderr).
    #[arg(long)]
    pub json: bool,
    /// The file `--json` writes to (atomically).
    #[arg(long, requires = "json", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Keep the scratch folder (sample file, server data, caches) and print its path.
    #[arg(long)]
    pub keep: bool,
}

/// Arguments of `cargo xtask bench all`.
#[derive(Debug, Clone, clap::Args)]
pub struct AllArgs {
    #[command(flatten)]
    pub common: Common,
    /// Benchmarks to leave out (hash, publish, download, codegen), comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = ["hash", "publish", "download", "codegen"])]
    pub skip: Vec<String>,
}

/// Arguments of the hidden `cargo xtask bench exec`: runs one command and reports its wall
/// time and peak RSS (`getrusage(RUSAGE_CHILDREN)` of this process, whose only child it is).
#[derive(Debug, Clone, clap::Args)]
pub struct ExecArgs {
    /// Where to write the JSON report (`wall_s`, `max_rss_kib`, `code`).
    #[arg(long)]
    report: PathBuf,
    /// The command and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    command: Vec<OsString>,
}

/// Which benchmark a run is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Streaming sha256.
    Hash,
    /// Publish vs `upload_file`.
    Publish,
    /// Download vs curl and `hf_hub_download`.
    Download,
}

/// A goal a figure is checked against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    /// Shown for comparison only.
    Info,
    /// `project / reference >= x`.
    RatioAtLeast(f64),
    /// `project / reference <= x`.
    RatioAtMost(f64),
    /// `project <= x` (in the row's unit).
    AtMost(f64),
    /// `project == x`.
    Equals(f64),
}

impl Goal {
    fn text(self, unit: &str) -> String {
        match self {
            Goal::Info => "-".to_owned(),
            Goal::RatioAtLeast(x) => format!(">= {x:.2}x"),
            Goal::RatioAtMost(x) => format!("<= {x:.2}x"),
            Goal::AtMost(x) => format!("<= {} {unit}", trim(x)),
            Goal::Equals(x) => format!("== {}", trim(x)),
        }
    }

    fn check(self, project: f64, ratio: Option<f64>) -> Option<bool> {
        match self {
            Goal::Info => None,
            Goal::RatioAtLeast(x) => ratio.map(|r| r >= x),
            Goal::RatioAtMost(x) => ratio.map(|r| r <= x),
            Goal::AtMost(x) => Some(project <= x),
            Goal::Equals(x) => Some((project - x).abs() < f64::EPSILON),
        }
    }
}

fn trim(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// One line of the results table.
#[derive(Debug, Clone)]
pub struct Row {
    /// `hash`, `publish`, `download` or `codegen`.
    pub bench: &'static str,
    /// What is measured.
    pub measure: String,
    /// Its unit (`GiB/s`, `s`, `MiB`, `requests`).
    pub unit: &'static str,
    /// The project's figure (median).
    pub project: f64,
    /// The project's samples.
    pub project_samples: Vec<f64>,
    /// What it is compared with.
    pub reference: String,
    /// The reference's figure (median), when there is one.
    pub reference_value: Option<f64>,
    /// The reference's samples.
    pub reference_samples: Vec<f64>,
    /// The goal.
    pub goal: Goal,
}

impl Row {
    /// A row comparing `project` with a measured reference.
    pub fn compare(
        bench: &'static str,
        measure: &str,
        unit: &'static str,
        project: &[f64],
        reference: &str,
        reference_samples: &[f64],
        goal: Goal,
    ) -> Row {
        Row {
            bench,
            measure: measure.to_owned(),
            unit,
            project: median(project),
            project_samples: project.to_vec(),
            reference: reference.to_owned(),
            reference_value: (!reference_samples.is_empty()).then(|| median(reference_samples)),
            reference_samples: reference_samples.to_vec(),
            goal,
        }
    }

    /// The ratio project / reference.
    pub fn ratio(&self) -> Option<f64> {
        self.reference_value
            .filter(|r| *r != 0.0)
            .map(|r| self.project / r)
    }

    /// PASS (`Some(true)`), MISS (`Some(false)`) or no goal (`None`).
    pub fn pass(&self) -> Option<bool> {
        self.goal.check(self.project, self.ratio())
    }

    fn to_json(&self) -> Value {
        json!({
            "bench": self.bench,
            "measure": self.measure,
            "unit": self.unit,
            "project": self.project,
            "project_samples": self.project_samples,
            "reference": self.reference,
            "reference_value": self.reference_value,
            "reference_samples": self.reference_samples,
            "ratio": self.ratio(),
            "goal": self.goal.text(self.unit),
            "result": match self.pass() { Some(true) => "PASS", Some(false) => "MISS", None => "-" },
        })
    }
}

/// The median of `values` (the mean of the two middle ones for an even count).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// What every benchmark of one invocation shares.
#[derive(Debug)]
pub struct Ctx {
    /// The workspace root.
    pub root: PathBuf,
    /// The scratch folder (under `target/`, removed at the end unless `--keep`).
    pub work: PathBuf,
    _work_guard: Option<tempfile::TempDir>,
    /// The options.
    pub common: Common,
    /// This very binary: `hub serve`, `publish` and `bench exec` run as its children.
    pub xtask: PathBuf,
    python: Option<PathBuf>,
    sample: Option<Sample>,
    next_id: u32,
}

/// The generated model file and a registry that describes it.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The GGUF file.
    pub path: PathBuf,
    /// The folder holding it (`--files` of `xtask publish`).
    pub files_dir: PathBuf,
    /// A registry with just this model, its size and sha256 filled in.
    pub registry: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// Its sha256 (hex).
    pub sha256: String,
    /// The repository it is published to.
    pub repo: String,
    /// Its path in the repository.
    pub repo_path: String,
}

impl Ctx {
    /// A context with a fresh scratch folder.
    pub fn new(common: Common) -> anyhow::Result<Ctx> {
        let root = workspace_root();
        let scratch = target_dir(&root).join("bench-tmp");
        fs::create_dir_all(&scratch)
            .with_context(|| format!("cannot create {}", scratch.display()))?;
        let guard = tempfile::Builder::new()
            .prefix("run-")
            .tempdir_in(&scratch)
            .context("cannot create the scratch folder")?;
        let work = guard.path().to_path_buf();
        let guard = if common.keep {
            note(format_args!("scratch folder (kept): {}", work.display()));
            let _ = guard.keep();
            None
        } else {
            Some(guard)
        };
        Ok(Ctx {
            root,
            work,
            _work_guard: guard,
            common,
            xtask: std::env::current_exe().context("cannot find the xtask binary")?,
            python: None,
            sample: None,
            next_id: 0,
        })
    }

    /// A new empty folder in the scratch folder.
    pub fn fresh_dir(&mut self, label: &str) -> anyhow::Result<PathBuf> {
        self.next_id += 1;
        let dir = self.work.join(format!("{label}-{}", self.next_id));
        fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(dir)
    }

    /// The Python of the virtualenv with `huggingface_hub` (`RUVLTRA_PYTHON`, else `.venv`,
    /// created and filled like `cargo xtask test` does).
    pub fn python(&mut self) -> anyhow::Result<PathBuf> {
        if let Some(p) = &self.python {
            return Ok(p.clone());
        }
        let python = match std::env::var_os("RUVLTRA_PYTHON") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => ensure_python_env(&self.root)?,
        };
        let out = Command::new(&python)
            .args([
                "-c",
                "import huggingface_hub; print(huggingface_hub.__version__)",
            ])
            .output()
            .with_context(|| format!("cannot run {}", python.display()))?;
        ensure!(
            out.status.success(),
            "{} cannot import huggingface_hub; run `cargo xtask test` once or set RUVLTRA_PYTHON",
            python.display()
        );
        note(format_args!(
            "reference client: huggingface_hub {} ({})",
            String::from_utf8_lossy(&out.stdout).trim(),
            python.display()
        ));
        self.python = Some(python.clone());
        Ok(python)
    }

    /// The sample GGUF file of `--size` bytes (made once per invocation).
    pub fn sample(&mut self) -> anyhow::Result<Sample> {
        if let Some(s) = &self.sample {
            return Ok(s.clone());
        }
        let sample = make_sample(&self.root, &self.work, self.common.size)?;
        self.sample = Some(sample.clone());
        Ok(sample)
    }

    /// Runs `program args` as a measured child (through `bench exec`): wall time, peak RSS
    /// and stdout. Its stderr goes to a log file shown when it fails.
    pub fn measure(
        &mut self,
        label: &str,
        program: &OsStr,
        args: &[OsString],
        envs: &[(&str, OsString)],
    ) -> anyhow::Result<Measured> {
        self.next_id += 1;
        let report = self
            .work
            .join(format!("{label}-{}.report.json", self.next_id));
        let log = self.work.join(format!("{label}-{}.log", self.next_id));
        let log_file =
            File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
        let mut cmd = Command::new(&self.xtask);
        cmd.args(["bench", "exec", "--report"])
            .arg(&report)
            .arg("--")
            .arg(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out = cmd
            .output()
            .with_context(|| format!("cannot start {label}"))?;
        let text = fs::read_to_string(&report).unwrap_or_default();
        let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let code = parsed["code"].as_i64();
        if !out.status.success() || code != Some(0) {
            let tail = fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(15).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!(
                "{label} failed ({}); last lines of its log {}:\n{}",
                match code {
                    Some(c) => format!("exit code {c}"),
                    None => format!("{}", out.status),
                },
                log.display(),
                tail.join("\n")
            );
        }
        let _ = fs::remove_file(&report);
        Ok(Measured {
            wall: Duration::from_secs_f64(parsed["wall_s"].as_f64().unwrap_or(f64::NAN)),
            max_rss_kib: parsed["max_rss_kib"].as_u64().unwrap_or(0),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        })
    }

    /// Starts `xtask hub serve` as a child process with a fresh data folder.
    pub fn serve(&mut self, extra: &[&str]) -> anyhow::Result<ServerProc> {
        let data = self.fresh_dir("hub")?;
        let mut child = Command::new(&self.xtask)
            .args(["hub", "serve", "--addr", "127.0.0.1:0", "--data"])
            .arg(&data)
            .args(["--token", BENCH_TOKEN])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start `xtask hub serve`")?;
        let stdout = child.stdout.take().context("no stdout of hub serve")?;
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .context("cannot read the first line of `hub serve`")?;
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("`hub serve` did not say where it listens (got {line:?})");
        };
        Ok(ServerProc {
            url: url.to_owned(),
            child,
            _stdout: reader,
            data,
        })
    }

    /// Runs the project's publish (`xtask publish`) of the sample into `endpoint`, measured.
    pub fn publish_child(&mut self, endpoint: &str) -> anyhow::Result<Measured> {
        let sample = self.sample()?;
        let home = self.fresh_dir("home")?;
        let args: Vec<OsString> = vec![
            "publish".into(),
            "--registry".into(),
            sample.registry.into_os_string(),
            "--files".into(),
            sample.files_dir.into_os_string(),
            "--endpoint".into(),
            endpoint.into(),
        ];
        let xtask = self.xtask.clone();
        let measured = self.measure(
            "publish",
            xtask.as_os_str(),
            &args,
            &[
                ("HF_TOKEN", BENCH_TOKEN.into()),
                ("HF_HOME", home.clone().into()),
            ],
        );
        let _ = fs::remove_dir_all(&home);
        measured
    }

    /// Runs a Python snippet of the reference client, measured; it prints a JSON object with
    /// `op_s` (the time of the operation itself, imports excluded) as its last line.
    pub fn python_child(
        &mut self,
        label: &str,
        script: &str,
        args: &[OsString],
        endpoint: &str,
    ) -> anyhow::Result<(Measured, f64)> {
        let python = self.python()?;
        let home = self.fresh_dir("hf-home")?;
        let script_path = self.work.join(format!("{label}.py"));
        fs::write(&script_path, script)
            .with_context(|| format!("cannot write {}", script_path.display()))?;
        let mut all: Vec<OsString> = vec![script_path.into_os_string()];
        all.extend(args.iter().cloned());
        let measured = self.measure(
            label,
            python.as_os_str(),
            &all,
            &[
                ("HF_ENDPOINT", endpoint.into()),
                ("HF_TOKEN", BENCH_TOKEN.into()),
                ("HF_HOME", home.clone().into()),
                ("HF_HUB_DISABLE_XET", "1".into()),
                ("HF_HUB_DISABLE_TELEMETRY", "1".into()),
                ("HF_HUB_DISABLE_PROGRESS_BARS", "1".into()),
            ],
        );
        let _ = fs::remove_dir_all(&home);
        let measured = measured?;
        let last = measured.stdout.lines().last().unwrap_or_default();
        let parsed: Value = serde_json::from_str(last)
            .with_context(|| format!("{label} printed no JSON result (got {last:?})"))?;
        let op = parsed["op_s"]
            .as_f64()
            .with_context(|| format!("{label} printed no op_s"))?;
        Ok((measured, op))
    }
}

/// What a measured child did.
#[derive(Debug, Clone)]
pub struct Measured {
    /// From spawn to exit.
    pub wall: Duration,
    /// Peak resident set size, KiB.
    pub max_rss_kib: u64,
    /// What it printed on stdout.
    pub stdout: String,
}

impl Measured {
    /// Peak RSS in MiB.
    pub fn rss_mib(&self) -> f64 {
        self.max_rss_kib as f64 * 1024.0 / MIB
    }
}

/// A `hub serve` child; stopped (SIGTERM) and its data removed when dropped.
#[derive(Debug)]
pub struct ServerProc {
    /// Its base URL.
    pub url: String,
    child: Child,
    _stdout: BufReader<ChildStdout>,
    data: PathBuf,
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        let pid = i32::try_from(self.child.id()).ok();
        let sent = pid.is_some_and(|pid| {
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            )
            .is_ok()
        });
        if !sent {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.data);
    }
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root.join(p) })
        .unwrap_or_else(|| root.join("target"))
}

/// The profile this xtask was built with, so helper binaries are built the same way.
pub fn profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// The `ruvllm` binary: `RUVLLM_BIN` when set (an already built binary, as the test suite
/// passes), else built with this xtask's profile.
pub fn ruvllm_binary(root: &Path) -> anyhow::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("RUVLLM_BIN").filter(|b| !b.is_empty()) {
        let bin = PathBuf::from(bin);
        ensure!(bin.is_file(), "RUVLLM_BIN={} is not a file", bin.display());
        return Ok(bin);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "--quiet", "-p", "ruvllm", "--bin", "ruvllm"]);
    if profile() == "release" {
        cmd.arg("--release");
    }
    note(format_args!(
        "building the ruvllm binary ({} profile)",
        profile()
    ));
    let status = cmd.status().context("cannot run cargo build -p ruvllm")?;
    ensure!(status.success(), "cargo build -p ruvllm failed");
    let bin = target_dir(root).join(profile()).join("ruvllm");
    ensure!(bin.is_file(), "{} was not built", bin.display());
    Ok(bin)
}

/// Writes a GGUF file of about `size` bytes (real data, not a sparse hole, so every read
/// touches real pages) for the registry's first published GGUF model, and a
/// registry with only that model, its size and its sha256.
fn make_sample(root: &Path, work: &Path, size: u64) -> anyhow::Result<Sample> {
    let mut reg = ruvltra_registry::load(&root.join("registry.json"))?;
    reg.models
        .retain(|m| m.status == Status::Published && m.kind.is_gguf());
    reg.models.truncate(1);
    let repo = match reg.models.first() {
        Some(m) => m.repo(&reg).to_owned(),
        None => bail!("registry.json has no published GGUF model to imitate"),
    };
    let model = reg
        .models
        .first_mut()
        .context("registry.json has no published GGUF model to imitate")?;
    let quant = Quant::from_label(&model.quant)
        .with_context(|| format!("model {} has an unknown quant", model.id))?;
    let sample_of = |params: u64| {
        let mut s = SampleModel::new(
            model.architecture.as_deref().unwrap_or("qwen2"),
            quant.file_type(),
            params.max(1),
        );
        if let Some(ctx) = model.context_length.and_then(|c| u32::try_from(c).ok()) {
            s.context_length = ctx;
        }
        s
    };
    // The parameter count giving about `size` bytes: a few proportional corrections.
    let mut params = size;
    for _ in 0..4 {
        let len = sample_of(params).build()?.layout()?.file_len;
        if len == 0 {
            break;
        }
        params = ((params as f64) * (size as f64) / (len as f64)).max(1.0) as u64;
    }
    let files_dir = work.join("files");
    fs::create_dir_all(&files_dir)?;
    let path = files_dir.join(&model.file);
    note(format_args!(
        "writing the sample {} (about {size} bytes)",
        model.file
    ));
    let start = Instant::now();
    write_sample(&sample_of(params).build()?, &path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    let (sha, bytes) = ruvltra_uploader::hash_file(&path, &mut |_| {})
        .with_context(|| format!("cannot hash {}", path.display()))?;
    note(format_args!(
        "  {bytes} bytes in {:.1} s, sha256 {sha}",
        start.elapsed().as_secs_f64()
    ));
    model.bytes = Some(bytes);
    model.sha256 = Some(sha.to_hex());
    model.extra_files.clear();
    let repo_path = model.file.clone();
    ruvltra_registry::validate(&reg)
        .map_err(|p| anyhow::anyhow!("the benchmark registry is invalid:\n{p}"))?;
    let registry = work.join("registry.json");
    ruvltra_registry::save(&registry, &reg)
        .with_context(|| format!("cannot write {}", registry.display()))?;
    Ok(Sample {
        path,
        files_dir,
        registry,
        bytes,
        sha256: sha.to_hex(),
        repo,
        repo_path,
    })
}

/// 1 MiB of xorshift output.
fn random_block() -> Vec<u8> {
    let mut block = vec![0u8; 1 << 20];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for chunk in block.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    block
}

/// Seconds to write `bytes` bytes to a new file in `dir` and fsync it: the floor of any
/// durable write of that size on this disk (the Hub server's store, the download cache).
pub fn durable_write_secs(dir: &Path, bytes: u64) -> anyhow::Result<f64> {
    let block = random_block();
    let path = dir.join("durable-write-floor.bin");
    let start = Instant::now();
    {
        let mut file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut left = bytes;
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            file.write_all(&block[..n])?;
            left -= n as u64;
        }
        file.sync_all()?;
    }
    let secs = start.elapsed().as_secs_f64();
    fs::remove_file(&path)?;
    Ok(secs)
}

/// Writes the writer's header, then a data section of pseudo-random bytes (a 1 MiB xorshift
/// block repeated: fast to write, nothing a filesystem or a compressor could shortcut), through
/// a temporary file, fsync and rename.
fn write_sample(writer: &ruvltra_gguf::writer::GgufWriter, path: &Path) -> anyhow::Result<()> {
    let header = writer.header_bytes()?;
    let len = writer.layout()?.file_len;
    let block = random_block();
    let dir = path.parent().context("the sample has no folder")?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file_mut());
        out.write_all(&header)?;
        let mut left = len.saturating_sub(header.len() as u64);
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            out.write_all(&block[..n])?;
            left -= n as u64;
        }
        out.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path)?;
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// Runs `bench exec`: the command as the only child, then its wall time and peak RSS.
pub fn run_exec(args: ExecArgs) -> anyhow::Result<ExitCode> {
    let (program, rest) = args
        .command
        .split_first()
        .context("bench exec needs a command")?;
    let start = Instant::now();
    let status = Command::new(program)
        .args(rest)
        .status()
        .with_context(|| format!("cannot start {}", program.to_string_lossy()))?;
    let wall = start.elapsed();
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .context("getrusage failed")?;
    let report = json!({
        "wall_s": wall.as_secs_f64(),
        // Linux gives ru_maxrss in KiB.
        "max_rss_kib": usage.max_rss(),
        "code": status.code(),
    });
    write_atomic(&args.report, report.to_string().as_bytes())?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Writes a file atomically through the registry crate's one implementation (temporary file
/// in the same folder, fsync, rename, fsync folder), naming the file on failure.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    ruvltra_registry::write_file_atomically(path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The machine the figures come from.
pub fn machine() -> Value {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let sha_ni = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .is_some_and(|l| l.split_whitespace().any(|f| f == "sha_ni"));
    let mem_kib = fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| {
            r.split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
        })
        .unwrap_or(0);
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    json!({
        "nproc": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "cpu": cpu,
        "sha_ni": sha_ni,
        "memory_gib": (mem_kib as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        "kernel": kernel.trim(),
        "profile": profile(),
    })
}

/// Formats the table for people.
pub fn table(rows: &[Row], common: &Common, machine: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "machine: {} CPU(s), {}{}, {} GiB RAM; xtask {} profile",
        machine["nproc"],
        machine["cpu"].as_str().unwrap_or("?"),
        if machine["sha_ni"].as_bool() == Some(true) {
            " (SHA-NI)"
        } else {
            ""
        },
        machine["memory_gib"],
        machine["profile"].as_str().unwrap_or("?"),
    );
    let _ = writeln!(
        out,
        "file: {} bytes; each figure is the median of {} run(s) after a warm-up\n",
        common.size, common.runs
    );
    let header = [
        "bench",
        "measure",
        "project",
        "reference",
        "ref value",
        "ratio",
        "goal",
        "result",
    ];
    let mut lines: Vec<[String; 8]> = vec![header.map(str::to_owned)];
    for r in rows {
        lines.push([
            r.bench.to_owned(),
            format!("{} ({})", r.measure, r.unit),
            fmt_value(r.project),
            r.reference.clone(),
            r.reference_value.map_or_else(|| "-".to_owned(), fmt_value),
            r.ratio()
                .map_or_else(|| "-".to_owned(), |x| format!("{x:.2}x")),
            r.goal.text(r.unit),
            match r.pass() {
                Some(true) => "PASS".to_owned(),
                Some(false) => "MISS".to_owned(),
                None => "-".to_owned(),
            },
        ]);
    }
    let widths: Vec<usize> = (0..8)
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for l in &lines {
        let mut line = String::new();
        for (i, cell) in l.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if matches!(i, 2 | 4 | 5) {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
            line.push_str("  ");
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

fn fmt_value(v: f64) -> String {
    if v.is_nan() {
        "-".to_owned()
    } else if v.fract() == 0.0 && v.abs() < 1e9 {
        format!("{v:.0}")
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// Prints the table and writes the JSON as asked; exit 1 when a goal was missed.
pub fn report(
    rows: &[Row],
    common: &Common,
    extra: Value,
    started: Instant,
) -> anyhow::Result<ExitCode> {
    let machine = machine();
    let text = table(rows, common, &machine);
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if common.json {
        let doc = json!({
            "command": format!("cargo xtask {}", argv.join(" ")),
            "machine": machine,
            "size_bytes": common.size,
            "runs": common.runs,
            "elapsed_s": started.elapsed().as_secs_f64(),
            "rows": rows.iter().map(Row::to_json).collect::<Vec<_>>(),
            "extra": extra,
        });
        let doc = serde_json::to_string_pretty(&doc)?;
        match &common.out {
            Some(path) => {
                write_atomic(path, format!("{doc}\n").as_bytes())?;
                print!("{text}");
            }
            None => {
                eprint!("{text}");
                println!("{doc}");
            }
        }
    } else {
        print!("{text}");
    }
    let missed = rows.iter().filter(|r| r.pass() == Some(false)).count();
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

/// Runs one benchmark of the suite (`bench hash`, `bench publish`, `bench download`).
pub fn run_one(which: Which, common: Common) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut ctx = Ctx::new(common.clone())?;
    let rows = match which {
        Which::Hash => bench_hash::run(&mut ctx)?,
        Which::Publish => bench_publish::run(&mut ctx)?,
        Which::Download => bench_download::run(&mut ctx)?,
    };
    report(&rows, &common, Value::Null, started)
}

/// Runs `bench all`: hash, publish, download, then the codegen benchmark (as a child, its
/// table shown as it prints it), and one combined table.
pub fn run_all(args: AllArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let skip = |name: &str| args.skip.iter().any(|s| s == name);
    let mut ctx = Ctx::new(args.common.clone())?;
    let mut rows = Vec::new();
    if !skip("hash") {
        rows.extend(bench_hash::run(&mut ctx)?);
    }
    if !skip("publish") {
        rows.extend(bench_publish::run(&mut ctx)?);
    }
    if !skip("download") {
        rows.extend(bench_download::run(&mut ctx)?);
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
    report(&rows, &args.common, extra, started)
}

/// Throughput in GiB/s of `bytes` in `seconds`.
pub fn gibps(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / GIB / seconds
}

/// Prints a progress line on stderr with the seconds since the benchmark started.
pub fn note(message: std::fmt::Arguments<'_>) {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let start = START.get_or_init(Instant::now);
    eprintln!("[{:>6.1} s] {message}", start.elapsed().as_secs_f64());
}
