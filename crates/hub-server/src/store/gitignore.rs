//! `.gitignore`: which paths a repo's ignore rules exclude, which preupload answers as
//! `shouldIgnore` so that clients (huggingface_hub's `upload_folder`) skip them.
//!
//! The rules are git's, for the one `.gitignore` at the repo root (the one huggingface_hub
//! sends as `gitIgnore`, and assumed to be the only one the Hub reads): blank lines and `#`
//! comments skipped, `!` re-includes, a trailing `/` matches directories only, a pattern with
//! a `/` before its end is anchored at the root (else it matches a name at any depth), and the
//! last matching rule wins. A path under an excluded directory stays excluded, whatever a
//! later `!` rule says, as in git.

use super::gitattributes::glob;

/// One rule of a `.gitignore`.
#[derive(Debug, Clone)]
struct Rule {
    pattern: String,
    negated: bool,
    dir_only: bool,
    anchored: bool,
}

/// The parsed rules of a `.gitignore`.
#[derive(Debug, Clone, Default)]
pub struct Gitignore {
    rules: Vec<Rule>,
}

impl Gitignore {
    /// Parses a `.gitignore` text; lines it cannot use are skipped, as git skips them.
    pub fn parse(text: &str) -> Gitignore {
        let mut rules = Vec::new();
        for line in text.lines() {
            // Trailing spaces are dropped unless escaped.
            let mut line = line.trim_end_matches('\r');
            while line.ends_with(' ') && !line.ends_with("\\ ") {
                line = &line[..line.len() - 1];
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (negated, rest) = match line.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, line.strip_prefix('\\').unwrap_or(line)),
            };
            let (dir_only, rest) = match rest.strip_suffix('/') {
                Some(rest) => (true, rest),
                None => (false, rest),
            };
            let anchored = rest.contains('/');
            let pattern = rest.strip_prefix('/').unwrap_or(rest);
            if pattern.is_empty() {
                continue;
            }
            rules.push(Rule {
                pattern: pattern.to_owned(),
                negated,
                dir_only,
                anchored,
            });
        }
        Gitignore { rules }
    }

    /// Whether the file at `path` (relative to the repo root, `/`-separated) is ignored.
    pub fn is_ignored(&self, path: &str) -> bool {
        if self.rules.is_empty() {
            return false;
        }
        let mut end = 0;
        loop {
            let next = path[end..].find('/').map(|i| end + i);
            let candidate = &path[..next.unwrap_or(path.len())];
            let is_dir = next.is_some();
            if self.verdict(candidate, is_dir) == Some(true) {
                return true;
            }
            match next {
                Some(i) => end = i + 1,
                None => return false,
            }
        }
    }

    /// The last matching rule's verdict for one path: `Some(true)` ignored, `Some(false)`
    /// re-included, `None` when no rule matches.
    fn verdict(&self, path: &str, is_dir: bool) -> Option<bool> {
        let name = path.rsplit('/').next().unwrap_or(path);
        self.rules
            .iter()
            .rev()
            .find(|rule| {
                (!rule.dir_only || is_dir)
                    && if rule.anchored {
                        glob(rule.pattern.as_bytes(), path.as_bytes())
                    } else {
                        glob(rule.pattern.as_bytes(), name.as_bytes())
                    }
            })
            .map(|rule| !rule.negated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignored(rules: &str, path: &str) -> bool {
        Gitignore::parse(rules).is_ignored(path)
    }

    #[test]
    fn anchored_and_floating_patterns() {
        assert!(ignored("nested/*\n", "nested/file.bin"));
        assert!(
            ignored("nested/*\n", "nested/deeper/file.bin"),
            "the directory itself matches"
        );
        assert!(
            !ignored("nested/*\n", "other/nested/file.bin"),
            "anchored at the root"
        );
        assert!(
            ignored("*.log\n", "a/b/c.log"),
            "a name matches at any depth"
        );
        assert!(ignored("/*.log\n", "c.log"));
        assert!(!ignored("/*.log\n", "a/c.log"));
        assert!(ignored("**/cache/*.bin\n", "x/y/cache/a.bin"));
        assert!(ignored("logs/**\n", "logs/a/b.txt"));
        assert!(!ignored("logs/**\n", "logs.txt"));
    }

    #[test]
    fn directories_negation_and_comments() {
        assert!(ignored("build/\n", "build/out.bin"));
        assert!(ignored("build/\n", "src/build/out.bin"));
        assert!(
            !ignored("build/\n", "build"),
            "a file named like a directory rule"
        );
        assert!(!ignored("*.bin\n!keep.bin\n", "keep.bin"));
        assert!(ignored("*.bin\n!keep.bin\n", "drop.bin"));
        // A file under an excluded directory cannot be re-included.
        assert!(ignored("dir/\n!dir/keep.txt\n", "dir/keep.txt"));
        assert!(!ignored("# *.txt\n\n", "a.txt"));
        assert!(ignored("\\#notes\n", "#notes"));
        assert!(ignored("\\!bang\n", "!bang"));
        assert!(ignored("trailing   \n", "trailing"));
        assert!(!ignored("", "anything"));
    }
}
