//! Which file `llama-cli -hf REPO:TAG` and `ollama run hf.co/REPO:TAG` reach in a repository
//! that holds several GGUF files, so the card and `publish` only show commands that reach
//! exactly the intended file and warn about tags that do not.
//!
//! # The rules simulated
//!
//! llama.cpp (`common/download.cpp`, as summarised in `GGUF-AND-ECOSYSTEM.md` section 3):
//! - paths containing `mmproj`, `imatrix` or `mtp-` (case-insensitive) are skipped, and so
//!   is everything that does not end in `.gguf`;
//! - of a split model (`-NNNNN-of-MMMMM.gguf`) only shard `00001` can be chosen;
//! - with a tag, the first path (in the Hub's tree order, which is byte order of the paths)
//!   matching the case-insensitive, unanchored regex `TAG[.-]` is taken. This module does
//!   not use a regex engine: it looks for every case-insensitive occurrence of the tag that
//!   is followed by `.` or `-`, and, as in the regex, a `.` inside the tag matches any
//!   character. Tags proposed here only contain letters, digits, `_`, `-` and `.`;
//! - without a tag, `Q4_K_M`, then `Q8_0`, then the first GGUF.
//!
//! Ollama (`hf.co/REPO:TAG`) is resolved by the Hub, whose algorithm is not published. The
//! simulation assumes the same matching and defaults as llama.cpp and, to stay on the safe
//! side, only proposes the documented form of tag, the quant label (`:Q4_K_M`), and never for
//! a split model (Ollama does not load split GGUFs). Files it cannot reach get the Modelfile
//! route on the card instead.
//!
//! `--hf-file FILE` always reaches exactly one file, so every file has that command.
//!
//! A tag is said to *reach* a file only when that file is the one and only selectable file
//! it matches: a tag matching several files depends on the tree order and is reported as
//! ambiguous (`:Q4_K_M` with several sizes in one repository, `:F16` also matching
//! `-bf16.gguf`).

use std::collections::BTreeMap;
use std::fmt;

use ruvltra_registry::{Quant, naming};

/// The repository `report` assumes (ADR-013).
pub const DEFAULT_REPO: &str = "ruv/ruvltra";

/// A tool that resolves `REPO:TAG` to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tool {
    /// `llama-cli -hf REPO[:TAG]` (and every llama.cpp binary taking `-hf`).
    LlamaCpp,
    /// `ollama run hf.co/REPO[:TAG]`.
    Ollama,
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tool::LlamaCpp => "llama.cpp",
            Tool::Ollama => "ollama",
        })
    }
}

/// How one GGUF model (one file, or one split model counted once) can be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReach {
    /// The path in the repository; the first shard for a split model.
    pub file: String,
    /// Number of shards: 1 for an ordinary file.
    pub shards: u32,
    /// Tags for `llama-cli -hf REPO:TAG` that reach exactly this file, shortest first.
    pub llama_tags: Vec<String>,
    /// Tags for `ollama run hf.co/REPO:TAG` that reach exactly this file.
    pub ollama_tags: Vec<String>,
    /// Tools that pick this file when no tag is given.
    pub default_for: Vec<Tool>,
    /// Tags that match this file but also others: not usable to reach it.
    pub ambiguous: Vec<AmbiguousTag>,
    /// Every command that reaches exactly this file, the always-working `--hf-file` form first.
    pub commands: Vec<String>,
}

impl FileReach {
    /// The shortest llama.cpp tag reaching this file, when there is one.
    pub fn llama_tag(&self) -> Option<&str> {
        self.llama_tags.first().map(String::as_str)
    }

    /// The Ollama tag reaching this file, when there is one.
    pub fn ollama_tag(&self) -> Option<&str> {
        self.ollama_tags.first().map(String::as_str)
    }
}

/// A tag that matches more than one selectable file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AmbiguousTag {
    /// The tag as it would be typed after the `:`.
    pub tag: String,
    /// Every selectable file it matches, in tree order.
    pub files: Vec<String>,
    /// The file a tool actually takes: the first in tree order.
    pub picked: String,
}

/// True when `path` is a GGUF file the tools consider at all (not an mmproj, imatrix or
/// multi-token-prediction file).
pub fn is_candidate(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".gguf")
        && !lower.contains("mmproj")
        && !lower.contains("imatrix")
        && !lower.contains("mtp-")
}

/// The shard number and count of a split GGUF path (`-00001-of-00003.gguf`), if it is one.
pub fn split_of(path: &str) -> Option<(u32, u32)> {
    let stem = strip_suffix_ignore_case(path, ".gguf")?;
    split_suffix(stem).1
}

/// Whether a tool can choose this path: a candidate and, when split, the first shard.
pub fn is_selectable(path: &str) -> bool {
    is_candidate(path) && split_of(path).is_none_or(|(no, _)| no == 1)
}

/// True when `tag` followed by `.` or `-` occurs in `path`, case-insensitively, with `.` in
/// the tag matching any character: the regex `TAG[.-]` without a regex engine.
pub fn tag_matches(tag: &str, path: &str) -> bool {
    let tag: Vec<char> = tag.chars().collect();
    let path: Vec<char> = path.chars().collect();
    if tag.is_empty() {
        return path.iter().any(|&c| c == '.' || c == '-');
    }
    (0..path.len()).any(|start| {
        let end = start + tag.len();
        end < path.len()
            && tag
                .iter()
                .zip(&path[start..end])
                .all(|(&t, &p)| t == '.' || t.eq_ignore_ascii_case(&p))
            && matches!(path[end], '.' | '-')
    })
}

/// The file `tool` downloads for `REPO[:tag]` in a repository holding `paths` (any order;
/// they are put in tree order first), or `None` when nothing matches.
pub fn pick(paths: &[&str], tag: Option<&str>, tool: Tool) -> Option<String> {
    let selectable = selectable_in_tree_order(paths);
    let first = |tag: &str| {
        selectable
            .iter()
            .find(|p| tag_matches(tag, p))
            .map(|p| (*p).to_owned())
    };
    match (tag, tool) {
        (Some(tag), _) => first(tag),
        (None, Tool::LlamaCpp | Tool::Ollama) => first("Q4_K_M")
            .or_else(|| first("Q8_0"))
            .or_else(|| selectable.first().map(|p| (*p).to_owned())),
    }
}

/// The compatibility report of a repository `ruv/ruvltra` holding `paths`.
pub fn report(paths: &[&str]) -> Vec<FileReach> {
    report_for(DEFAULT_REPO, paths)
}

/// The compatibility report of repository `repo` holding `paths`: one entry per selectable
/// GGUF (split models once, by their first shard), in tree order.
pub fn report_for(repo: &str, paths: &[&str]) -> Vec<FileReach> {
    let selectable = selectable_in_tree_order(paths);
    let ambiguous = ambiguous_tags(paths);
    let default_llama = pick(paths, None, Tool::LlamaCpp);
    let default_ollama = pick(paths, None, Tool::Ollama);
    selectable
        .iter()
        .map(|&file| {
            let shards = split_of(file).map_or(1, |(_, count)| count);
            let reaches = |tag: &str| {
                let matched: Vec<&&str> =
                    selectable.iter().filter(|p| tag_matches(tag, p)).collect();
                matched.len() == 1 && *matched[0] == file
            };
            let llama_tags: Vec<String> = candidate_tags(file)
                .into_iter()
                .filter(|t| reaches(t))
                .collect();
            let ollama_tags: Vec<String> = if shards > 1 {
                Vec::new()
            } else {
                quant_tag(file).into_iter().filter(|t| reaches(t)).collect()
            };
            let mut default_for = Vec::new();
            if default_llama.as_deref() == Some(file) {
                default_for.push(Tool::LlamaCpp);
            }
            if default_ollama.as_deref() == Some(file) && shards == 1 {
                default_for.push(Tool::Ollama);
            }
            let mut commands = vec![format!("llama-cli --hf-repo {repo} --hf-file {file}")];
            commands.extend(
                llama_tags
                    .iter()
                    .map(|t| format!("llama-cli -hf {repo}:{t}")),
            );
            commands.extend(
                ollama_tags
                    .iter()
                    .map(|t| format!("ollama run hf.co/{repo}:{t}")),
            );
            let ambiguous = ambiguous
                .iter()
                .filter(|a| a.files.iter().any(|f| f == file))
                .cloned()
                .collect();
            FileReach {
                file: file.to_owned(),
                shards,
                llama_tags,
                ollama_tags,
                default_for,
                ambiguous,
                commands,
            }
        })
        .collect()
}

/// Every tag proposed for some file of the repository that matches more than one
/// selectable file, sorted by tag (case-insensitively; each tag once).
pub fn ambiguous_tags(paths: &[&str]) -> Vec<AmbiguousTag> {
    let selectable = selectable_in_tree_order(paths);
    let mut tags: BTreeMap<String, String> = BTreeMap::new();
    for file in &selectable {
        for tag in candidate_tags(file) {
            tags.entry(tag.to_ascii_lowercase()).or_insert(tag);
        }
    }
    tags.into_values()
        .filter_map(|tag| {
            let files: Vec<String> = selectable
                .iter()
                .filter(|p| tag_matches(&tag, p))
                .map(|p| (*p).to_owned())
                .collect();
            (files.len() > 1).then(|| AmbiguousTag {
                picked: files[0].clone(),
                tag,
                files,
            })
        })
        .collect()
}

/// Human warnings for `publish`: one line per ambiguous tag.
pub fn warnings(repo: &str, paths: &[&str]) -> Vec<String> {
    ambiguous_tags(paths)
        .into_iter()
        .map(|a| {
            format!(
                "tag `{repo}:{}` is ambiguous: it matches {}; llama.cpp and Ollama take `{}`; \
                 use `--hf-file` or a longer tag to reach the others",
                a.tag,
                a.files
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                a.picked
            )
        })
        .collect()
}

/// Selectable paths, deduplicated, in the Hub's tree order (byte order).
fn selectable_in_tree_order<'a>(paths: &[&'a str]) -> Vec<&'a str> {
    let mut selectable: Vec<&str> = paths.iter().copied().filter(|p| is_selectable(p)).collect();
    selectable.sort_unstable();
    selectable.dedup();
    selectable
}

/// The tags a file could be reached by, shortest first: every hyphen-separated suffix of its
/// file stem (without `.gguf` and the split suffix), ending with the whole stem. Each is
/// followed by `.` or `-` in the path, so each matches the file itself. A quant label is
/// written in upper case, as the tools' documentation does.
pub fn candidate_tags(path: &str) -> Vec<String> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some(stem) = strip_suffix_ignore_case(name, ".gguf") else {
        return Vec::new();
    };
    let stem = split_suffix(stem).0;
    // A name that follows the ADR-013 convention is only cut at its parts' boundaries, so
    // `claude-code` is never split into a tag such as `code-0.5b-Q4_K_M`.
    let structural: Option<Vec<String>> = naming::parse_file_name(name).map(|parsed| {
        let quant = parsed.quant.label().to_owned();
        let sized = format!("{}-{quant}", parsed.size);
        let mut allowed = vec![quant, sized.clone()];
        if let Some(variant) = &parsed.variant {
            allowed.push(format!("{variant}-{sized}"));
        }
        allowed
    });
    let mut tags: Vec<String> = stem
        .char_indices()
        .filter(|&(_, c)| c == '-')
        .map(|(i, _)| &stem[i + 1..])
        .filter(|s| !s.is_empty())
        .filter(|s| {
            structural
                .as_ref()
                .is_none_or(|allowed| allowed.iter().any(|a| a == s))
        })
        .rev()
        .map(display_tag)
        .collect();
    if !stem.is_empty() {
        tags.push(display_tag(stem));
    }
    tags.dedup();
    tags
}

/// The quant label of a file as a tag (`Q4_K_M`), when its last stem segment is one.
fn quant_tag(path: &str) -> Option<String> {
    candidate_tags(path)
        .into_iter()
        .next()
        .filter(|t| Quant::from_label(t).is_some())
}

/// Upper-cases the last segment of a tag when it is a quant label (`small-0.5b-Q4_K_M`).
fn display_tag(tag: &str) -> String {
    let (head, last) = match tag.rsplit_once('-') {
        Some((head, last)) => (Some(head), last),
        None => (None, tag),
    };
    let last = match Quant::from_label(last) {
        Some(_) => last.to_ascii_uppercase(),
        None => last.to_owned(),
    };
    match head {
        Some(head) => format!("{head}-{last}"),
        None => last,
    }
}

fn strip_suffix_ignore_case<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let at = s.len().checked_sub(suffix.len())?;
    (s.is_char_boundary(at) && s[at..].eq_ignore_ascii_case(suffix)).then(|| &s[..at])
}

/// Splits `-NNNNN-of-MMMMM` (five digits each, 1 <= N <= M) off a stem.
fn split_suffix(stem: &str) -> (&str, Option<(u32, u32)>) {
    const LEN: usize = "-00001-of-00002".len();
    let Some(at) = stem.len().checked_sub(LEN) else {
        return (stem, None);
    };
    if !stem.is_char_boundary(at) {
        return (stem, None);
    }
    let suffix = &stem[at..];
    let digits = |part: &str| {
        (part.len() == 5 && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u32>().ok())
            .flatten()
    };
    let parsed = suffix
        .strip_prefix('-')
        .and_then(|rest| rest.split_once("-of-"))
        .and_then(|(no, count)| Some((digits(no)?, digits(count)?)));
    match parsed {
        Some((no, count)) if no >= 1 && no <= count => (&stem[..at], Some((no, count))),
        _ => (stem, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_semantics() {
        assert!(tag_matches("Q4_K_M", "ruvltra-0.5b-q4_k_m.gguf"));
        assert!(
            tag_matches("f16", "ruvltra-3b-bf16.gguf"),
            "unanchored like the regex"
        );
        assert!(tag_matches("F16", "ruvltra-3b-f16-00001-of-00002.gguf"));
        assert!(
            !tag_matches("Q4_K", "ruvltra-0.5b-q4_k_m.gguf"),
            "needs . or - after"
        );
        assert!(
            tag_matches("0.5b-q8_0", "ruvltra-0x5b-q8_0.gguf"),
            ". is a wildcard"
        );
        assert!(!tag_matches("q8_0", "q8_0"));
    }

    #[test]
    fn skips_and_shards() {
        assert!(!is_candidate("mmproj-ruvltra-f16.gguf"));
        assert!(!is_candidate("ruvltra-0.5b-q4_k_m.imatrix.gguf"));
        assert!(!is_candidate("mtp-ruvltra.gguf"));
        assert!(!is_candidate("README.md"));
        assert!(is_selectable("a-f16-00001-of-00002.gguf"));
        assert!(!is_selectable("a-f16-00002-of-00002.gguf"));
        assert_eq!(split_of("a-f16-00002-of-00003.gguf"), Some((2, 3)));
        assert_eq!(split_of("a-f16-00004-of-00003.gguf"), None);
        assert_eq!(split_of("a-f16.gguf"), None);
    }

    #[test]
    fn defaults() {
        let paths = ["b-q8_0.gguf", "a-f16.gguf", "c-q4_k_m.gguf"];
        assert_eq!(
            pick(&paths, None, Tool::LlamaCpp).as_deref(),
            Some("c-q4_k_m.gguf")
        );
        assert_eq!(
            pick(&paths[..2], None, Tool::LlamaCpp).as_deref(),
            Some("b-q8_0.gguf")
        );
        assert_eq!(
            pick(&paths[1..2], None, Tool::LlamaCpp).as_deref(),
            Some("a-f16.gguf")
        );
        assert_eq!(pick(&[], None, Tool::Ollama), None);
    }

    #[test]
    fn candidates_are_suffixes() {
        assert_eq!(
            candidate_tags("ruvltra-small-0.5b-q4_k_m-00001-of-00002.gguf"),
            [
                "Q4_K_M",
                "0.5b-Q4_K_M",
                "small-0.5b-Q4_K_M",
                "ruvltra-small-0.5b-Q4_K_M"
            ]
        );
        assert_eq!(
            candidate_tags("ruvltra-claude-code-0.5b-q4_k_m.gguf"),
            [
                "Q4_K_M",
                "0.5b-Q4_K_M",
                "claude-code-0.5b-Q4_K_M",
                "ruvltra-claude-code-0.5b-Q4_K_M"
            ]
        );
        assert_eq!(
            candidate_tags("Other-Model.Q8_0.gguf"),
            ["Model.Q8_0", "Other-Model.Q8_0"]
        );
        assert!(candidate_tags("notes.txt").is_empty());
    }

    #[test]
    fn f16_collides_with_bf16() {
        let paths = ["ruvltra-3b-bf16.gguf", "ruvltra-3b-f16.gguf"];
        let reach = report(&paths);
        let f16 = reach
            .iter()
            .find(|r| r.file == "ruvltra-3b-f16.gguf")
            .unwrap();
        assert!(!f16.llama_tags.iter().any(|t| t == "F16"));
        assert_eq!(
            f16.llama_tag(),
            Some("3b-F16"),
            "`3b-f16` is not inside `3b-bf16`"
        );
        assert_eq!(f16.ollama_tag(), None);
        let bf16 = reach
            .iter()
            .find(|r| r.file == "ruvltra-3b-bf16.gguf")
            .unwrap();
        assert_eq!(bf16.ollama_tag(), Some("BF16"));
        let amb = ambiguous_tags(&paths);
        assert_eq!(amb.len(), 1);
        assert_eq!(amb[0].tag, "F16");
        assert_eq!(amb[0].picked, "ruvltra-3b-bf16.gguf");
    }
}
