//! The Xet hashes: the 32-byte hash type with its string form, and every keyed BLAKE3 hash the
//! formats use (chunk, Merkle node, xorb, file, term verification, global dedup key).

use std::fmt;
use std::str::FromStr;

/// The key of chunk hashes (the spec's hashing page, "DATA_KEY").
pub const DATA_KEY: [u8; 32] = [
    102, 151, 245, 119, 91, 149, 80, 222, 49, 53, 203, 172, 165, 151, 24, 28, 157, 228, 33, 16,
    155, 235, 43, 88, 180, 208, 176, 75, 147, 173, 242, 41,
];

/// The key of Merkle internal nodes (the spec's hashing page, "INTERNAL_NODE_KEY").
pub const INTERNAL_NODE_KEY: [u8; 32] = [
    1, 126, 197, 199, 165, 71, 41, 150, 253, 148, 102, 102, 180, 138, 2, 230, 93, 221, 83, 111, 55,
    199, 109, 210, 248, 99, 82, 230, 74, 83, 113, 63,
];

/// The key of term verification hashes (the spec's hashing page, "VERIFICATION_KEY").
pub const VERIFICATION_KEY: [u8; 32] = [
    127, 24, 87, 214, 206, 86, 237, 102, 18, 127, 249, 19, 231, 165, 195, 243, 164, 205, 38, 213,
    181, 219, 73, 230, 65, 36, 152, 127, 40, 251, 148, 195,
];

/// A hash in the Xet string form that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseHashError {
    /// Not 64 characters long.
    #[error("a xet hash is 64 hex digits, got {0} characters")]
    Length(usize),
    /// A character that is not a hex digit.
    #[error("a xet hash is 64 hex digits, got {0:?}")]
    Digit(char),
}

/// A Xet hash: 32 bytes, as BLAKE3 outputs them and as the binary formats store them.
///
/// Its text form ([`fmt::Display`], [`FromStr`], [`XetHash::to_hex`]) is the one of CAS paths and
/// JSON: the bytes read as four little-endian `u64` words, each printed as 16 lowercase hex
/// digits, so each 8-byte group appears reversed compared with plain hex. The order ([`Ord`]) is
/// the order of those words, which is also the order of the text form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct XetHash(pub [u8; 32]);

impl XetHash {
    /// The all-zero hash (the hash of an empty file, and "no key" in a shard footer).
    pub const ZERO: XetHash = XetHash([0; 32]);

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Word `i` (0..4) read as a little-endian `u64`.
    pub fn word(&self, i: usize) -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&self.0[i * 8..i * 8 + 8]);
        u64::from_le_bytes(w)
    }

    /// The four words, read little-endian.
    pub fn words(&self) -> [u64; 4] {
        [self.word(0), self.word(1), self.word(2), self.word(3)]
    }

    /// The hash whose words are `words`.
    pub fn from_words(words: [u64; 4]) -> XetHash {
        let mut out = [0u8; 32];
        for (i, w) in words.iter().enumerate() {
            out[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
        }
        XetHash(out)
    }

    /// The Xet string form (64 lowercase hex digits, each 8-byte group reversed).
    pub fn to_hex(&self) -> String {
        self.to_string()
    }

    /// Parses the Xet string form (64 hex digits, either case).
    pub fn from_hex(text: &str) -> Result<XetHash, ParseHashError> {
        if text.len() != 64 {
            return Err(ParseHashError::Length(text.len()));
        }
        // Every character is checked before any slicing, so a multi-byte one cannot split.
        if let Some(bad) = text.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(ParseHashError::Digit(bad));
        }
        let mut words = [0u64; 4];
        for (i, word) in words.iter_mut().enumerate() {
            for &digit in &text.as_bytes()[i * 16..i * 16 + 16] {
                let value = (digit as char).to_digit(16).unwrap_or(0);
                *word = (*word << 4) | u64::from(value);
            }
        }
        Ok(XetHash::from_words(words))
    }

    /// The word the spec's modulo rules look at: bytes 24..32 as a little-endian `u64` (the
    /// Merkle tree's group cuts and the global dedup key chunks).
    pub fn rule_word(&self) -> u64 {
        self.word(3)
    }

    /// This hash keyed with `key` (BLAKE3 keyed mode over the 32 raw bytes): the file hash
    /// from the Merkle root (key zero) and the "HMAC" of chunk hashes in global dedup answers.
    pub fn keyed(&self, key: &XetHash) -> XetHash {
        XetHash(*blake3::keyed_hash(&key.0, &self.0).as_bytes())
    }
}

impl Ord for XetHash {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.words().cmp(&other.words())
    }
}

impl PartialOrd for XetHash {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for XetHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.words();
        write!(f, "{a:016x}{b:016x}{c:016x}{d:016x}")
    }
}

impl fmt::Debug for XetHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "XetHash({self})")
    }
}

impl FromStr for XetHash {
    type Err = ParseHashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        XetHash::from_hex(s)
    }
}

impl From<[u8; 32]> for XetHash {
    fn from(bytes: [u8; 32]) -> Self {
        XetHash(bytes)
    }
}

/// The hash of one chunk's bytes (BLAKE3 keyed with [`DATA_KEY`]).
pub fn chunk_hash(data: &[u8]) -> XetHash {
    XetHash(*blake3::keyed_hash(&DATA_KEY, data).as_bytes())
}

/// An incremental chunk hasher, for a chunk whose bytes arrive in pieces.
#[derive(Clone, Debug)]
pub struct ChunkHasher {
    inner: blake3::Hasher,
    len: u64,
}

impl Default for ChunkHasher {
    fn default() -> Self {
        ChunkHasher::new()
    }
}

impl ChunkHasher {
    /// A hasher for a new chunk.
    pub fn new() -> ChunkHasher {
        ChunkHasher {
            inner: blake3::Hasher::new_keyed(&DATA_KEY),
            len: 0,
        }
    }

    /// Adds the next bytes of the chunk.
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
        self.len += data.len() as u64;
    }

    /// The bytes added so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no byte was added yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The chunk's hash and length; the hasher starts a new chunk.
    pub fn finish_chunk(&mut self) -> (XetHash, u64) {
        let hash = XetHash(*self.inner.finalize().as_bytes());
        let len = self.len;
        self.inner.reset();
        self.len = 0;
        (hash, len)
    }
}

/// A Merkle internal node over its children: BLAKE3 keyed with [`INTERNAL_NODE_KEY`] over
/// `"{child hash} : {child size}\n"` for each child, and the sum of the children's sizes.
pub fn merkle_node(children: &[(XetHash, u64)]) -> (XetHash, u64) {
    // 64 hex digits, " : ", up to 20 decimal digits and "\n" per child; nodes have at most
    // MAX_GROUP children, so a stack buffer holds the text of any node.
    let mut buf = [0u8; MAX_GROUP * 88];
    let mut hasher = blake3::Hasher::new_keyed(&INTERNAL_NODE_KEY);
    let mut total = 0u64;
    for group in children.chunks(MAX_GROUP) {
        let mut pos = 0;
        for (hash, size) in group {
            pos += write_node_line(&mut buf[pos..], hash, *size);
            total = total.wrapping_add(*size);
        }
        hasher.update(&buf[..pos]);
    }
    (XetHash(*hasher.finalize().as_bytes()), total)
}

/// Writes `"{hash} : {size}\n"` into `out` and returns its length.
fn write_node_line(out: &mut [u8], hash: &XetHash, size: u64) -> usize {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut pos = 0;
    for word in hash.words() {
        for shift in (0..16).rev() {
            out[pos] = DIGITS[((word >> (shift * 4)) & 0xf) as usize];
            pos += 1;
        }
    }
    out[pos..pos + 3].copy_from_slice(b" : ");
    pos += 3;
    let mut digits = [0u8; 20];
    let mut n = 0;
    let mut v = size;
    loop {
        digits[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for d in digits[..n].iter().rev() {
        out[pos] = *d;
        pos += 1;
    }
    out[pos] = b'\n';
    pos + 1
}

/// The most children a Merkle node has.
const MAX_GROUP: usize = 9;

/// How many of `level`'s leading nodes the next node groups: all of them when there are at
/// most 2; else up to and including the first node from the third on whose rule word is
/// divisible by 4, and at most [`MAX_GROUP`].
fn next_group_len(level: &[(XetHash, u64)]) -> usize {
    if level.len() <= 2 {
        return level.len();
    }
    let end = MAX_GROUP.min(level.len());
    (2..end)
        .find(|&i| level[i].0.rule_word().is_multiple_of(4))
        .map_or(end, |i| i + 1)
}

/// The Merkle root of a list of (hash, size) leaves, with the Xet tree shape (which the spec
/// leaves out): walking the level, a group closes after node `i` (`i` >= 2, so at least three
/// nodes) whose rule word is divisible by 4, or at 9 nodes; a last group of 1 or 2 is allowed.
/// Each group becomes one node ([`merkle_node`]) and that repeats until one node remains. One
/// leaf is its own root; no leaf gives [`XetHash::ZERO`].
pub fn merkle_root(leaves: &[(XetHash, u64)]) -> XetHash {
    match leaves {
        [] => return XetHash::ZERO,
        [(one, _)] => return *one,
        _ => {}
    }
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        let mut read = 0;
        let mut write = 0;
        while read < level.len() {
            let n = next_group_len(&level[read..]);
            level[write] = merkle_node(&level[read..read + n]);
            write += 1;
            read += n;
        }
        level.truncate(write);
    }
    level[0].0
}

/// The hash of a xorb: the Merkle root of its chunks' (hash, length).
pub fn xorb_hash(chunks: &[(XetHash, u64)]) -> XetHash {
    merkle_root(chunks)
}

/// The hash of a file: the Merkle root of its chunks' (hash, length), keyed with 32 zero bytes;
/// the empty file's hash is [`XetHash::ZERO`].
pub fn file_hash(chunks: &[(XetHash, u64)]) -> XetHash {
    if chunks.is_empty() {
        return XetHash::ZERO;
    }
    merkle_root(chunks).keyed(&XetHash::ZERO)
}

/// The verification hash of a file term: BLAKE3 keyed with [`VERIFICATION_KEY`] over the raw
/// bytes of the hashes of the term's chunks, in xorb order.
pub fn term_verification_hash(chunk_hashes: &[XetHash]) -> XetHash {
    let mut hasher = blake3::Hasher::new_keyed(&VERIFICATION_KEY);
    for h in chunk_hashes {
        hasher.update(&h.0);
    }
    XetHash(*hasher.finalize().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_form_reverses_each_word() {
        let mut bytes = [0u8; 32];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = i as u8;
        }
        let h = XetHash(bytes);
        assert_eq!(
            h.to_hex(),
            "07060504030201000f0e0d0c0b0a090817161514131211101f1e1d1c1b1a1918"
        );
        assert_eq!(XetHash::from_hex(&h.to_hex()).unwrap(), h);
        assert_eq!(XetHash::from_hex(&h.to_hex().to_uppercase()).unwrap(), h);
        assert_eq!(h.rule_word(), 0x1f1e1d1c1b1a1918);
    }

    #[test]
    fn bad_strings_say_what_is_wrong() {
        let e = XetHash::from_hex("abc").unwrap_err();
        assert!(e.to_string().contains("3"), "{e}");
        let e = XetHash::from_hex(&"g".repeat(64)).unwrap_err();
        assert!(e.to_string().contains("'g'"), "{e}");
        // A sign is not a digit, although u64::from_str_radix would take one.
        let e = XetHash::from_hex(&format!("+{}", "0".repeat(63))).unwrap_err();
        assert!(e.to_string().contains("'+'"), "{e}");
        // Multi-byte characters are refused before any slicing.
        let text = format!("é{}", "0".repeat(62));
        assert_eq!(text.len(), 64);
        assert!(XetHash::from_hex(&text).is_err());
    }

    #[test]
    fn order_is_the_order_of_the_text_form() {
        let a = XetHash::from_hex(&format!("{}{}", "0".repeat(15), "1".repeat(49))).unwrap();
        let b = XetHash::from_hex(&format!("{}{}", "1", "0".repeat(63))).unwrap();
        assert!(a < b);
        assert!(a.to_hex() < b.to_hex());
    }

    #[test]
    fn node_lines_match_the_text_the_spec_describes() {
        let h = chunk_hash(b"x");
        let mut buf = [0u8; 88];
        let n = write_node_line(&mut buf, &h, 12345);
        assert_eq!(
            std::str::from_utf8(&buf[..n]).unwrap(),
            format!("{h} : 12345\n")
        );
        let n = write_node_line(&mut buf, &h, 0);
        assert_eq!(
            std::str::from_utf8(&buf[..n]).unwrap(),
            format!("{h} : 0\n")
        );
        let n = write_node_line(&mut buf, &h, u64::MAX);
        assert_eq!(n, 88);
    }

    #[test]
    fn merkle_node_hashes_the_text_form() {
        let leaves = [(chunk_hash(b"a"), 1), (chunk_hash(b"b"), 22)];
        let text = format!("{} : 1\n{} : 22\n", leaves[0].0, leaves[1].0);
        let expect = XetHash(*blake3::keyed_hash(&INTERNAL_NODE_KEY, text.as_bytes()).as_bytes());
        assert_eq!(merkle_node(&leaves), (expect, 23));
        assert_eq!(merkle_root(&leaves), expect);
    }

    #[test]
    fn group_cuts_follow_the_rule_word() {
        let with_word = |w: u64| (XetHash::from_words([1, 2, 3, w]), 1u64);
        // Nodes 0 and 1 never close a group, whatever their word.
        let level = [
            with_word(0),
            with_word(0),
            with_word(5),
            with_word(8),
            with_word(1),
        ];
        assert_eq!(next_group_len(&level), 4);
        let level = [with_word(0), with_word(4)];
        assert_eq!(next_group_len(&level), 2);
        let level: Vec<_> = (0..20).map(|_| with_word(1)).collect();
        assert_eq!(next_group_len(&level), 9);
        assert_eq!(next_group_len(&level[..5]), 5);
    }

    #[test]
    fn single_and_empty_roots() {
        let h = chunk_hash(b"one");
        assert_eq!(merkle_root(&[(h, 3)]), h);
        assert_eq!(merkle_root(&[]), XetHash::ZERO);
        assert_eq!(file_hash(&[]), XetHash::ZERO);
        assert_eq!(file_hash(&[(h, 3)]), h.keyed(&XetHash::ZERO));
    }

    #[test]
    fn chunk_hasher_matches_one_shot() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut h = ChunkHasher::new();
        for piece in data.chunks(777) {
            h.update(piece);
        }
        assert_eq!(h.finish_chunk(), (chunk_hash(&data), data.len() as u64));
        h.update(b"next");
        assert_eq!(h.finish_chunk(), (chunk_hash(b"next"), 4));
    }

    #[test]
    fn verification_hash_is_over_raw_hashes() {
        let hs = [chunk_hash(b"a"), chunk_hash(b"b")];
        let mut raw = Vec::new();
        raw.extend_from_slice(&hs[0].0);
        raw.extend_from_slice(&hs[1].0);
        let expect = XetHash(*blake3::keyed_hash(&VERIFICATION_KEY, &raw).as_bytes());
        assert_eq!(term_verification_hash(&hs), expect);
    }
}
