//! Sample bytes for uploads and downloads: deterministic, so failures reproduce, and
//! incompressible-looking, so no layer can shortcut them.

/// `len` bytes of a xorshift stream seeded by `seed`; the same arguments give the same bytes.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
