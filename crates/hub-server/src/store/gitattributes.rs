//! `.gitattributes`: the file a new repo starts with, and which paths its `filter=lfs`
//! patterns send through LFS.

/// The content of a new repo's `.gitattributes`, as the Hub writes it.
pub const DEFAULT_GITATTRIBUTES: &str = "*.7z filter=lfs diff=lfs merge=lfs -text
*.arrow filter=lfs diff=lfs merge=lfs -text
*.bin filter=lfs diff=lfs merge=lfs -text
*.bz2 filter=lfs diff=lfs merge=lfs -text
*.ckpt filter=lfs diff=lfs merge=lfs -text
*.ftz filter=lfs diff=lfs merge=lfs -text
*.gguf filter=lfs diff=lfs merge=lfs -text
*.gz filter=lfs diff=lfs merge=lfs -text
*.h5 filter=lfs diff=lfs merge=lfs -text
*.joblib filter=lfs diff=lfs merge=lfs -text
*.lfs.* filter=lfs diff=lfs merge=lfs -text
*.mlmodel filter=lfs diff=lfs merge=lfs -text
*.model filter=lfs diff=lfs merge=lfs -text
*.msgpack filter=lfs diff=lfs merge=lfs -text
*.npy filter=lfs diff=lfs merge=lfs -text
*.npz filter=lfs diff=lfs merge=lfs -text
*.onnx filter=lfs diff=lfs merge=lfs -text
*.ot filter=lfs diff=lfs merge=lfs -text
*.parquet filter=lfs diff=lfs merge=lfs -text
*.pb filter=lfs diff=lfs merge=lfs -text
*.pickle filter=lfs diff=lfs merge=lfs -text
*.pkl filter=lfs diff=lfs merge=lfs -text
*.pt filter=lfs diff=lfs merge=lfs -text
*.pth filter=lfs diff=lfs merge=lfs -text
*.rar filter=lfs diff=lfs merge=lfs -text
*.safetensors filter=lfs diff=lfs merge=lfs -text
saved_model/**/* filter=lfs diff=lfs merge=lfs -text
*.tar.* filter=lfs diff=lfs merge=lfs -text
*.tar filter=lfs diff=lfs merge=lfs -text
*.tflite filter=lfs diff=lfs merge=lfs -text
*.tgz filter=lfs diff=lfs merge=lfs -text
*.wasm filter=lfs diff=lfs merge=lfs -text
*.xz filter=lfs diff=lfs merge=lfs -text
*.zip filter=lfs diff=lfs merge=lfs -text
*.zst filter=lfs diff=lfs merge=lfs -text
*tfevents* filter=lfs diff=lfs merge=lfs -text
";

/// The `filter=lfs` patterns of a `.gitattributes` text.
pub fn lfs_patterns(gitattributes: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in gitattributes.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        let Some(pattern) = parts.next() else {
            continue;
        };
        if parts.any(|attr| attr == "filter=lfs") {
            out.push(pattern.to_owned());
        }
    }
    out
}

/// Whether `path` matches a gitattributes pattern: a pattern without `/` matches the file name,
/// one with `/` matches the whole path; `*` and `?` stay inside one segment, `**` crosses them.
pub fn pattern_matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.strip_prefix('/').unwrap_or(pattern);
    if pattern.contains('/') {
        glob(pattern.as_bytes(), path.as_bytes())
    } else {
        let name = path.rsplit('/').next().unwrap_or(path);
        glob(pattern.as_bytes(), name.as_bytes())
    }
}

/// Matches a glob: `*` and `?` stay inside one segment, `**` crosses them, `[...]` is a
/// character class (`[!...]` or `[^...]` negated, `a-z` ranges); shared with `.gitignore`.
pub(super) fn glob(p: &[u8], s: &[u8]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(b'*') if p.get(1) == Some(&b'*') => {
            // `**/` also matches zero directories.
            let rest = &p[2..];
            let rest_no_slash = rest.strip_prefix(b"/").unwrap_or(rest);
            (0..=s.len()).any(|i| glob(rest, &s[i..]))
                || (0..=s.len()).any(|i| glob(rest_no_slash, &s[i..]))
        }
        Some(b'*') => {
            let rest = &p[1..];
            let mut i = 0;
            loop {
                if glob(rest, &s[i..]) {
                    return true;
                }
                if i == s.len() || s[i] == b'/' {
                    return false;
                }
                i += 1;
            }
        }
        Some(b'?') => !s.is_empty() && s[0] != b'/' && glob(&p[1..], &s[1..]),
        Some(b'[') => match (class(&p[1..]), s.first()) {
            (Some((matches, rest)), Some(&c)) => c != b'/' && matches(c) && glob(rest, &s[1..]),
            (Some(_), None) => false,
            // An unclosed `[` is a literal character.
            (None, _) => s.first() == Some(&b'[') && glob(&p[1..], &s[1..]),
        },
        Some(b'\\') if p.len() > 1 => s.first() == Some(&p[1]) && glob(&p[2..], &s[1..]),
        Some(c) => s.first() == Some(c) && glob(&p[1..], &s[1..]),
    }
}

/// A character class after its `[`: a test for one byte and the pattern after the `]`.
#[allow(clippy::type_complexity)]
fn class(p: &[u8]) -> Option<(Box<dyn Fn(u8) -> bool + '_>, &[u8])> {
    let (negated, body) = match p.first() {
        Some(b'!' | b'^') => (true, &p[1..]),
        _ => (false, p),
    };
    // A `]` first in the class is a member, not its end.
    let end = body.iter().skip(1).position(|&b| b == b']')? + 1;
    let members = &body[..end];
    let test = move |c: u8| {
        let mut i = 0;
        let mut hit = false;
        while i < members.len() {
            if i + 2 < members.len() && members[i + 1] == b'-' {
                hit |= (members[i]..=members[i + 2]).contains(&c);
                i += 3;
            } else {
                hit |= members[i] == c;
                i += 1;
            }
        }
        hit != negated
    };
    Some((Box::new(test), &body[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitattributes_patterns() {
        let pats = lfs_patterns(DEFAULT_GITATTRIBUTES);
        let lfs = |p: &str| pats.iter().any(|pat| pattern_matches(pat, p));
        assert!(lfs("m.gguf"));
        assert!(lfs("sub/dir/m.gguf"));
        assert!(lfs("a.tar.gz"));
        assert!(lfs("saved_model/x/y.pb"));
        assert!(lfs("saved_model/v"));
        assert!(lfs("runs/events.out.tfevents.123"));
        assert!(!lfs("README.md"));
        assert!(!lfs("gguf.txt"));
    }

    #[test]
    fn character_classes_and_escapes() {
        assert!(pattern_matches("*.[ch]", "src/a.c"));
        assert!(!pattern_matches("*.[ch]", "a.o"));
        assert!(pattern_matches("v[0-9].bin", "v7.bin"));
        assert!(pattern_matches("v[!0-9].bin", "vx.bin"));
        assert!(!pattern_matches("v[!0-9].bin", "v7.bin"));
        assert!(pattern_matches("[]x]", "]"));
        assert!(
            pattern_matches("a[b", "a[b"),
            "an unclosed class is literal"
        );
        assert!(pattern_matches("\\*.txt", "*.txt"));
        assert!(!pattern_matches("\\*.txt", "a.txt"));
    }
}
