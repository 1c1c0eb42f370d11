//! The rules of the files a model lists: GGUF naming and shards, unique safe paths, quant
//! labels, sizes and hashes.

use std::collections::HashSet;

use super::pointer::{FileUse, Pointer, file_use_pointer};
use super::{Checker, parse_sha256, show};
use crate::Quant;
use crate::model::{ArtifactKind, Model};
use crate::naming;

impl<'a> Checker<'a> {
    /// The naming convention, its agreement with the fields, and the shards of a split model.
    pub(super) fn gguf(&mut self, index: usize, model: &Model, quant: Option<Quant>) {
        let models = Pointer::ROOT.key("models");
        let here = models.index(index);
        let at = |key| here.key(key);
        if let Some(quant) = quant {
            match (model.kind, quant.is_full_precision()) {
                (ArtifactKind::Gguf, true) => self.report(
                    at("kind"),
                    format!("quant {quant} is full precision: set `kind` to `gguf-full-precision`"),
                ),
                (ArtifactKind::GgufFullPrecision, false) => self.report(
                    at("kind"),
                    format!(
                        "kind `gguf-full-precision` needs an f16, bf16 or f32 quant, not \
                         {quant}; use kind `gguf` for quantised models"
                    ),
                ),
                _ => {}
            }
        }
        let Some(parsed) = naming::parse_file_name(&model.file) else {
            self.report(
                at("file"),
                format!(
                    "GGUF file name {} does not follow the naming convention \
                     `ruvltra-[variant-]{{size}}-{{quant}}.gguf` (e.g. \
                     `ruvltra-claude-code-0.5b-q4_k_m.gguf`); rename the file or fix `kind`",
                    show(last_segment(&model.file))
                ),
            );
            return;
        };
        let stem = parsed.stem();
        if model.id != stem {
            self.report(
                at("id"),
                format!(
                    "id {} must be the file stem {}",
                    show(&model.id),
                    show(&stem)
                ),
            );
        }
        // An unknown or upper-case label is reported already.
        if quant.is_some() && model.quant != parsed.quant.label() {
            self.report(
                at("quant"),
                format!(
                    "quant {} disagrees with the file name, which says `{}`",
                    show(&model.quant),
                    parsed.quant
                ),
            );
        }
        if model.size != parsed.size {
            self.report(
                at("size"),
                format!(
                    "size {} disagrees with the file name, which says {}",
                    show(&model.size),
                    show(&parsed.size)
                ),
            );
        }
        if model.variant != parsed.variant {
            let message = match (&model.variant, &parsed.variant) {
                (Some(variant), None) => format!(
                    "variant {} is not in the file name; remove it or rename the file",
                    show(variant)
                ),
                (_, Some(named)) => format!(
                    "the file name says variant {}; set `variant` to it",
                    show(named)
                ),
                (None, None) => unreachable!("the variants differ"),
            };
            self.report(at("variant"), message);
        }
        if let Some((no, count)) = parsed.split {
            if no != 1 {
                self.report(
                    at("file"),
                    format!(
                        "`file` of a split GGUF must be its first shard \
                         (`-00001-of-{count:05}`); list the other shards in `extra_files`"
                    ),
                );
            }
            // Checking each missing shard is bounded by the number of extra files listed, so
            // a huge shard count cannot make validation slow.
            let listed: HashSet<&str> = model.extra_files.iter().map(|f| f.file.as_str()).collect();
            let needed = usize::try_from(count - 1).unwrap_or(usize::MAX);
            if needed > listed.len() {
                self.report(
                    at("extra_files"),
                    format!(
                        "a split GGUF of {count} shards needs shards 2 to {count} in \
                         `extra_files`, but only {} extra files are listed",
                        listed.len()
                    ),
                );
            } else {
                let dir = model.file.rsplit_once('/').map(|(dir, _)| dir);
                for shard in 2..=count {
                    let name = parsed.shard_file_name(shard).expect("the model is split");
                    let path = match dir {
                        Some(dir) => format!("{dir}/{name}"),
                        None => name,
                    };
                    if !listed.contains(path.as_str()) {
                        self.report(
                            at("extra_files"),
                            format!(
                                "shard {} of the split GGUF is missing from `extra_files`",
                                show(&path)
                            ),
                        );
                    }
                }
            }
        }
    }

    pub(super) fn file(&mut self, path: Pointer<'_>, repo: &'a str, file: &str, this_use: FileUse) {
        if let Some(problem) = repo_path_problem(file) {
            self.report(path, format!("file {} {problem}", show(file)));
            return;
        }
        match self.first_use_of_file.entry((repo, file.to_lowercase())) {
            std::collections::hash_map::Entry::Occupied(first) => {
                let first = file_use_pointer(*first.get());
                self.report(
                    path,
                    format!(
                        "file {} is already listed at {first}; every file of a repository must \
                         be unique, ignoring case",
                        show(file)
                    ),
                );
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(this_use);
            }
        }
    }

    pub(super) fn quant(&mut self, path: Pointer<'_>, label: &str) -> Option<Quant> {
        match Quant::from_label(label) {
            Some(quant) if quant.label() == label => Some(quant),
            Some(quant) => {
                self.report(
                    path,
                    format!("quant {} must be lowercase: `{quant}`", show(label)),
                );
                None
            }
            None => {
                self.report(
                    path,
                    format!(
                        "unknown quant label {}; use a llama.cpp label such as q4_k_m, q8_0 or f16",
                        show(label)
                    ),
                );
                None
            }
        }
    }

    pub(super) fn sha256(&mut self, path: Pointer<'_>, sha256: Option<&str>) {
        if let Some(sha256) = sha256
            && parse_sha256(sha256).is_none()
        {
            self.report(
                path,
                format!(
                    "sha256 {} is not 64 lowercase hex digits; leave it out until sync or \
                     publish fills it",
                    show(sha256)
                ),
            );
        }
    }

    pub(super) fn bytes(&mut self, path: Pointer<'_>, bytes: Option<u64>) {
        if bytes == Some(0) {
            self.report(
                path,
                "bytes must be positive; leave it out until sync or publish fills it",
            );
        }
    }
}

fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A path inside a repository that is safe to use as a local path on every platform.
fn repo_path_problem(path: &str) -> Option<&'static str> {
    let bytes = path.as_bytes();
    Some(if path.is_empty() {
        "is empty"
    } else if path.starts_with('/') {
        "is absolute; paths are relative to the repository root"
    } else if path.contains('\\') {
        "contains a backslash; separate folders with `/`"
    } else if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        "starts with a drive letter; paths are relative to the repository root"
    } else if path.contains('\0') {
        "contains a NUL byte"
    } else if path.chars().any(char::is_control) {
        "contains a control character"
    } else if path.len() > 1024 {
        "is longer than 1024 bytes"
    } else {
        let mut problem = None;
        for segment in path.split('/') {
            problem = match segment {
                "" => Some("has an empty segment (`//` or a trailing `/`)"),
                "." => Some("has a `.` segment"),
                ".." => Some("has a `..` segment, which would leave the repository"),
                _ if segment.len() > 255 => Some("has a segment longer than 255 bytes"),
                _ => continue,
            };
            break;
        }
        return problem;
    })
}
