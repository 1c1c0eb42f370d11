//! What every `cargo xtask` CLI test starts from: the binary with a clean environment (no Hub
//! or ModelScope token or endpoint of the person running the tests) and the snapshot filters
//! for its scratch folder.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use test_support::Filters;

/// Every variable through which a token or an endpoint could reach xtask.
const HOST_VARIABLES: &[&str] = &[
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HUGGINGFACE_API_KEY",
    "HF_TOKEN_PATH",
    "HF_ENDPOINT",
    "MODELSCOPE_API_TOKEN",
    "MODELSCOPE_ENDPOINT",
    "MODELSCOPE_DOMAIN",
    "RUST_LOG",
    // The local Xet index of a publish goes to its default place, under the scratch HOME.
    "RUVLTRA_XET_CACHE",
    "XDG_CACHE_HOME",
];

/// `xtask` run in `dir`, with none of [`HOST_VARIABLES`] and with `HF_HOME` and `HOME` inside
/// `dir`, so nothing of the machine's own set-up reaches it; add arguments and variables.
pub fn xtask(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.current_dir(dir);
    for variable in HOST_VARIABLES {
        command.env_remove(variable);
    }
    command
        .env("HF_HOME", dir.join("hf-home"))
        .env("HOME", dir.join("home"));
    command
}

/// The snapshot filters of a run in `dir`: the folder shows as `[DIR]`, plus the defaults
/// (ports, temporary paths, timings).
pub fn filters(dir: &Path) -> Filters {
    Filters::new().path(dir, "[DIR]")
}
