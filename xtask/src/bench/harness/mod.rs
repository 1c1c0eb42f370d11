//! The benchmarks' harness: the scratch folder, the sample file, child processes measured for
//! wall time and peak RSS (through the hidden `bench exec`, [`exec`]), the local Hub server
//! processes they talk to, the reference Python client and the `ruvllm` binary.
//!
//! Every benchmark of the suite gets one [`Ctx`] per invocation; the harness knows no
//! benchmark and no goal (the benchmarks turn what it measures into [`Row`]s).
//!
//! [`Row`]: crate::bench::report::Row

pub mod exec;
mod sample;

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use serde_json::{Value, json};

pub use sample::{Sample, durable_write_secs, write_gguf_sample};

use crate::bench::report::note;
use crate::test::{ensure_python_env, workspace_root};

/// The write token of every server the benchmarks start (local, throwaway).
pub const BENCH_TOKEN: &str = "hf_bench_local_write_token";

/// What the harness needs to know of the command line.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Size of the generated GGUF file, in bytes (`--size`).
    pub size: u64,
    /// Measured runs per figure, after one warm-up (`--runs`).
    pub runs: u64,
    /// Keep the scratch folder and print its path (`--keep`).
    pub keep: bool,
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
    pub settings: Settings,
    /// This very binary: `hub serve`, `publish` and `bench exec` run as its children.
    pub xtask: PathBuf,
    python: Option<PathBuf>,
    sample: Option<Sample>,
    /// Samples whose header names another model (metadata edits), by name.
    renamed: Vec<(String, Sample)>,
    next_id: u32,
}

impl Ctx {
    /// A context with a fresh scratch folder.
    pub fn new(settings: Settings) -> anyhow::Result<Ctx> {
        let root = workspace_root();
        let scratch = target_dir(&root).join("bench-tmp");
        fs::create_dir_all(&scratch)
            .with_context(|| format!("cannot create {}", scratch.display()))?;
        let guard = tempfile::Builder::new()
            .prefix("run-")
            .tempdir_in(&scratch)
            .context("cannot create the scratch folder")?;
        let work = guard.path().to_path_buf();
        let guard = if settings.keep {
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
            settings,
            xtask: std::env::current_exe().context("cannot find the xtask binary")?,
            python: None,
            sample: None,
            renamed: Vec::new(),
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
        let sample = sample::make_sample(&self.root, &self.work, self.settings.size, None)?;
        self.sample = Some(sample.clone());
        Ok(sample)
    }

    /// The sample after a metadata edit: the same weights behind a header whose
    /// `general.name` is `name` (made once per name, in its own folder).
    pub fn sample_renamed(&mut self, name: &str) -> anyhow::Result<Sample> {
        if let Some((_, s)) = self.renamed.iter().find(|(n, _)| n == name) {
            return Ok(s.clone());
        }
        let dir = self.fresh_dir("sample")?;
        let sample = sample::make_sample(&self.root, &dir, self.settings.size, Some(name))?;
        self.renamed.push((name.to_owned(), sample.clone()));
        Ok(sample)
    }

    /// Runs `program args` as a measured child (through `bench exec`): wall time, peak RSS
    /// and stdout. Its stderr goes to a log file shown when it fails. `envs` are set, those
    /// with an empty value removed.
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
            // An empty value removes the variable (a user's HF_HUB_DISABLE_XET, say).
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
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

    /// Runs the project's publish (`xtask publish --transfer lfs`) of the sample into
    /// `endpoint`, measured.
    pub fn publish_child(&mut self, endpoint: &str) -> anyhow::Result<Measured> {
        let sample = self.sample()?;
        self.publish_child_of(&sample, endpoint, "lfs", None)
    }

    /// Runs `xtask publish --transfer {transfer} --json` of `sample` into `endpoint`,
    /// measured, with its local Xet index in `xet_cache` (kept by the caller: the same
    /// folder again is the same machine), else in a throwaway folder.
    pub fn publish_child_of(
        &mut self,
        sample: &Sample,
        endpoint: &str,
        transfer: &str,
        xet_cache: Option<&Path>,
    ) -> anyhow::Result<Measured> {
        let home = self.fresh_dir("home")?;
        let args: Vec<OsString> = vec![
            "publish".into(),
            "--registry".into(),
            sample.registry.clone().into_os_string(),
            "--files".into(),
            sample.files_dir.clone().into_os_string(),
            "--endpoint".into(),
            endpoint.into(),
            "--transfer".into(),
            transfer.into(),
            "--json".into(),
        ];
        let cache = xet_cache.map_or_else(|| home.join("xet-cache"), Path::to_path_buf);
        let xtask = self.xtask.clone();
        let measured = self.measure(
            "publish",
            xtask.as_os_str(),
            &args,
            &[
                ("HF_TOKEN", BENCH_TOKEN.into()),
                ("HF_HOME", home.clone().into()),
                ("RUVLTRA_XET_CACHE", cache.into()),
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
        self.python_child_with(label, script, args, endpoint, None)
    }

    /// [`python_child`](Self::python_child) with Xet on when `xet_cache` is given
    /// (`HF_HUB_DISABLE_XET` unset, the client's chunk cache in that folder: the same folder
    /// again is the same machine), else with `HF_HUB_DISABLE_XET=1`.
    pub fn python_child_with(
        &mut self,
        label: &str,
        script: &str,
        args: &[OsString],
        endpoint: &str,
        xet_cache: Option<&Path>,
    ) -> anyhow::Result<(Measured, f64)> {
        let python = self.python()?;
        let home = self.fresh_dir("hf-home")?;
        let script_path = self.work.join(format!("{label}.py"));
        fs::write(&script_path, script)
            .with_context(|| format!("cannot write {}", script_path.display()))?;
        let mut all: Vec<OsString> = vec![script_path.into_os_string()];
        all.extend(args.iter().cloned());
        let mut envs: Vec<(&str, OsString)> = vec![
            ("HF_ENDPOINT", endpoint.into()),
            ("HF_TOKEN", BENCH_TOKEN.into()),
            ("HF_HOME", home.clone().into()),
            ("HF_HUB_DISABLE_TELEMETRY", "1".into()),
            ("HF_HUB_DISABLE_PROGRESS_BARS", "1".into()),
        ];
        match xet_cache {
            Some(cache) => {
                envs.push(("HF_XET_CACHE", cache.into()));
                envs.push(("HF_XET_TELEMETRY_ENABLED", "0".into()));
                envs.push(("HF_HUB_DISABLE_XET", OsString::new()));
            }
            None => envs.push(("HF_HUB_DISABLE_XET", "1".into())),
        }
        let measured = self.measure(label, python.as_os_str(), &all, &envs);
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
        self.max_rss_kib as f64 / 1024.0
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
