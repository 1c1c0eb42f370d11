//! What the benchmarks show people and machines: rows with their goals, the table, the JSON
//! document (`benchmarks/latest.json`) and the progress lines on stderr.
//!
//! This is the bottom layer of `bench`: it knows nothing of processes, servers or the
//! benchmarks themselves, which hand it rows.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use serde_json::{Value, json};

/// One GiB, the unit throughputs are given in.
pub const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

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

/// Throughput in GiB/s of `bytes` in `seconds`.
pub fn gibps(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / GIB / seconds
}

/// What every figure of one invocation was measured on.
#[derive(Debug, Clone)]
pub struct Setting {
    /// The size of the sample file, in bytes (`--size`).
    pub size: u64,
    /// Measured runs per figure (`--runs`).
    pub runs: u64,
    /// The machine, as the harness describes it (`nproc`, `cpu`, `sha_ni`, `memory_gib`,
    /// `kernel`, `profile`).
    pub machine: Value,
}

/// Where the results go.
#[derive(Debug, Clone, Copy)]
pub struct Output<'a> {
    /// Write the JSON document (`--json`).
    pub json: bool,
    /// The file it goes to (`--out`); stdout when `None` (the table then goes to stderr).
    pub out: Option<&'a Path>,
}

/// Formats the table for people.
pub fn table(rows: &[Row], setting: &Setting) -> String {
    let machine = &setting.machine;
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
        setting.size, setting.runs
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

/// Prints the table and writes the JSON document as `output` asks (the file atomically);
/// returns how many goals were missed.
pub fn emit(
    rows: &[Row],
    setting: &Setting,
    output: Output<'_>,
    extra: Value,
    started: Instant,
) -> anyhow::Result<usize> {
    let text = table(rows, setting);
    if output.json {
        let argv: Vec<String> = std::env::args().skip(1).collect();
        let doc = json!({
            "command": format!("cargo xtask {}", argv.join(" ")),
            "machine": setting.machine,
            "size_bytes": setting.size,
            "runs": setting.runs,
            "elapsed_s": started.elapsed().as_secs_f64(),
            "rows": rows.iter().map(Row::to_json).collect::<Vec<_>>(),
            "extra": extra,
        });
        let doc = serde_json::to_string_pretty(&doc)?;
        match output.out {
            Some(path) => {
                ruvltra_registry::write_file_atomically(path, format!("{doc}\n").as_bytes())
                    .with_context(|| format!("cannot write {}", path.display()))?;
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
    Ok(rows.iter().filter(|r| r.pass() == Some(false)).count())
}

/// Prints a progress line on stderr with the seconds since the benchmark started.
pub fn note(message: std::fmt::Arguments<'_>) {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let start = START.get_or_init(Instant::now);
    eprintln!("[{:>6.1} s] {message}", start.elapsed().as_secs_f64());
}
