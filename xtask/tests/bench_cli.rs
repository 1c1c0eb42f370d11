//! `cargo xtask bench all` plumbing on a small file: every figure of hash, publish, xet and
//! download shows up in the table and in the JSON, with its reference, ratio and verdict.
//! Timings are never asserted here (they are the benchmark's business, not a test's).

mod support;

use std::path::{Path, PathBuf};

use test_support::{CliRun, Filters, cli_snapshot, scratch_dir};

/// The rows `bench all --skip codegen` must print: (bench, measure, reference prefix).
const ROWS: &[(&str, &str, &str)] = &[
    (
        "hash",
        "streaming sha256 of the file",
        "openssl dgst -sha256",
    ),
    ("hash", "streaming sha256 of the file", "sha256sum"),
    ("hash", "streaming sha256 of the file", "SHA-256 ceiling"),
    ("publish", "wall time", "huggingface_hub upload_file"),
    (
        "publish",
        "wall time",
        "one streaming hash + one curl -T upload",
    ),
    ("publish", "throughput", "huggingface_hub upload_file"),
    (
        "publish",
        "peak RSS of the client",
        "huggingface_hub upload_file",
    ),
    (
        "publish",
        "API requests besides data transfer",
        "huggingface_hub upload_file",
    ),
    ("publish", "commits", "huggingface_hub upload_file"),
    (
        "xet",
        "first publish: wall time",
        "huggingface_hub upload_file with hf_xet",
    ),
    (
        "xet",
        "first publish: peak RSS of the client",
        "huggingface_hub upload_file with hf_xet",
    ),
    (
        "xet",
        "re-publish after a metadata edit, same machine: bytes sent",
        "huggingface_hub upload_file with hf_xet",
    ),
    (
        "xet",
        "re-publish after a metadata edit, same machine: wall time",
        "huggingface_hub upload_file with hf_xet",
    ),
    (
        "xet",
        "re-publish after a metadata edit, clean machine: bytes sent",
        "huggingface_hub upload_file with hf_xet",
    ),
    (
        "download",
        "verified download throughput (--no-xet)",
        "curl -o FILE && sha256sum FILE",
    ),
    (
        "download",
        "verified download throughput (--no-xet)",
        "disk floor: write + fsync",
    ),
    (
        "download",
        "verified download throughput (--no-xet)",
        "curl -o /dev/null",
    ),
    (
        "download",
        "verified download throughput (--no-xet)",
        "huggingface_hub hf_hub_download, Xet off",
    ),
    (
        "download",
        "peak RSS of the client (--no-xet)",
        "huggingface_hub hf_hub_download, Xet off",
    ),
    (
        "download",
        "peak RSS of the client (--no-xet)",
        "curl -o /dev/null",
    ),
    (
        "download",
        "cold download through Xet: throughput",
        "huggingface_hub hf_hub_download with hf_xet",
    ),
    (
        "download",
        "cold download through Xet: peak RSS of the client",
        "huggingface_hub hf_hub_download with hf_xet",
    ),
    (
        "download",
        "update after a metadata edit, previous revision cached: bytes fetched",
        "huggingface_hub hf_hub_download with hf_xet",
    ),
];

/// Filters that keep the table's words and hide its figures: the machine line, each row's
/// project value, reference value and ratio, and PASS or MISS (a `-` result, a row without a
/// goal, stays), and so whether it exits 0 or 1. Column widths follow the figures, so the runs
/// of spaces go too.
fn table_filters() -> Filters {
    Filters::new()
        .regex(r"(?m)^machine: .*$", "machine: [MACHINE]")
        .regex(
            r"(?m)^(\S+) +(.+?) {2,}[\d.]+ {2,}(.+?) {2,}[\d.]+ {2,}[\d.]+x {2,}(.+?) {2,}(PASS|MISS|-) *$",
            "$1 | $2 | [N] | $3 | [N] | [N]x | $4 | $5",
        )
        .regex(r"(?m)\| (PASS|MISS)$", "| [VERDICT]")
        .regex(
            r"\Asuccess: (true|false)\nexit_code: (0|1)\n",
            "success: [every goal met?]\nexit_code: [0 or 1]\n",
        )
        .regex(
            r"(?m)^bench +measure +project +reference +ref value +ratio +goal +result *$",
            "bench | measure | project | reference | ref value | ratio | goal | result",
        )
}

/// The `ruvllm` binary `cargo test --workspace` has just built next to xtask's, if there is
/// one (else the benchmark builds it with `cargo build -p ruvllm`).
fn ruvllm_bin() -> Option<(&'static str, PathBuf)> {
    let bin = Path::new(env!("CARGO_BIN_EXE_xtask")).with_file_name("ruvllm");
    bin.is_file().then_some(("RUVLLM_BIN", bin))
}

#[test]
fn bench_all_prints_every_figure_in_the_table_and_the_json() {
    // The benchmark's reference client runs on the venv's python; fails (never skips) if missing.
    let python = dev_python::Python::find();
    let dir = scratch_dir!("bench-cli");
    let json_path = dir.join("bench.json");
    let mut run = CliRun::of(
        support::xtask(&dir)
            .args([
                "bench", "all", "--skip", "codegen", "--size", "8388608", "--runs", "1", "--json",
                "--out",
            ])
            .arg(&json_path)
            .env(dev_python::ENV_VAR, python.path())
            .envs(ruvllm_bin()),
    );
    // 0: every goal met, 1: some missed (likely at 8 MiB, where process start-up dominates);
    // anything else is a failure of the benchmark itself.
    assert!(
        matches!(run.code(), Some(0 | 1)),
        "bench all failed: {}",
        run.render()
    );
    let stdout = run.stdout.clone();

    // The table as a user sees it, but for what the machine decides: the figures, the
    // verdicts, the exit code (0 or 1, as above) and the progress on stderr (timed).
    run.stderr = "[progress, with timings]".to_owned();
    cli_snapshot!(table_filters(), run);

    // The table (stdout, since the JSON went to --out).
    let header = stdout
        .lines()
        .find(|l| l.starts_with("bench "))
        .unwrap_or_else(|| panic!("no table header in:\n{stdout}"));
    for column in ["measure", "project", "reference", "ratio", "goal", "result"] {
        assert!(header.contains(column), "no {column} column: {header}");
    }
    assert!(stdout.contains("machine: "), "no machine line:\n{stdout}");
    for (bench, measure, reference) in ROWS {
        let found = stdout.lines().any(|l| {
            l.starts_with(bench)
                && l.contains(measure)
                && l.contains(reference)
                && (l.trim_end().ends_with("PASS")
                    || l.trim_end().ends_with("MISS")
                    || l.trim_end().ends_with('-'))
        });
        assert!(
            found,
            "no table row {bench} / {measure} / {reference}:\n{stdout}"
        );
    }
    assert!(
        !stdout.contains("codegen"),
        "codegen was skipped:\n{stdout}"
    );

    // The JSON: the same rows, with numbers where the table has them.
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(doc["size_bytes"], 8_388_608);
    assert_eq!(doc["runs"], 1);
    assert!(doc["machine"]["nproc"].as_u64().unwrap() >= 1);
    assert!(!doc["machine"]["cpu"].as_str().unwrap().is_empty());
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), ROWS.len(), "{rows:#?}");
    for ((bench, measure, reference), row) in ROWS.iter().zip(rows) {
        assert_eq!(row["bench"], *bench);
        assert_eq!(row["measure"], *measure);
        assert!(row["reference"].as_str().unwrap().starts_with(reference));
        let project = row["project"].as_f64().unwrap();
        assert!(project.is_finite() && project >= 0.0, "{row}");
        assert!(row["reference_value"].as_f64().is_some(), "{row}");
        assert!(row["ratio"].as_f64().is_some(), "{row}");
        assert!(
            ["PASS", "MISS", "-"].contains(&row["result"].as_str().unwrap()),
            "{row}"
        );
    }
    // The update after a header edit copies from the cached revision: a few chunks of the
    // 8 MiB file are fetched, a counted fact like the commits (the official client's figure
    // is whatever it fetched).
    let update = rows
        .iter()
        .find(|r| {
            r["measure"]
                .as_str()
                .unwrap()
                .starts_with("update after a metadata edit")
        })
        .unwrap();
    assert!(update["project"].as_f64().unwrap() < 5.0, "{update}");
    // Counted facts do not depend on the machine's speed: one commit per publish.
    let commits = rows.iter().find(|r| r["measure"] == "commits").unwrap();
    assert_eq!(commits["project"], 1.0);
    assert_eq!(commits["result"], "PASS");
    // The peak RSS of a client process is real (a process needs more than a MiB).
    for row in rows.iter().filter(|r| r["unit"] == "MiB") {
        assert!(row["project"].as_f64().unwrap() > 1.0, "{row}");
        assert!(row["reference_value"].as_f64().unwrap() > 1.0, "{row}");
    }
}
