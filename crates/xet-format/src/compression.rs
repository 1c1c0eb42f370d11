//! The chunk compression schemes of xorbs (none, LZ4 frame, byte grouping by 4 then LZ4) and
//! the official client's rule for picking one, so that this crate writes the same bytes.

use std::io::{Read, Write};

/// How a chunk is stored in a xorb (the scheme byte of its header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Stored as is (0).
    None,
    /// One LZ4 frame (1).
    Lz4,
    /// The bytes regrouped by position modulo 4 ([`bg4_split`]), then one LZ4 frame (2).
    ByteGrouping4Lz4,
}

impl Scheme {
    /// The scheme byte.
    pub fn byte(self) -> u8 {
        match self {
            Scheme::None => 0,
            Scheme::Lz4 => 1,
            Scheme::ByteGrouping4Lz4 => 2,
        }
    }

    /// The scheme of a scheme byte, if it is one.
    pub fn from_byte(byte: u8) -> Option<Scheme> {
        match byte {
            0 => Some(Scheme::None),
            1 => Some(Scheme::Lz4),
            2 => Some(Scheme::ByteGrouping4Lz4),
            _ => None,
        }
    }
}

/// How an encoder picks each chunk's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CompressionPolicy {
    /// As the official client by default: [`choose_scheme`] on the first chunk of each file
    /// section of the xorb and again every [`RETEST_INTERVAL`] chunks within it.
    #[default]
    Auto,
    /// The same scheme for every chunk.
    Fixed(Scheme),
}

/// How many chunks the automatic policy keeps one scheme before it tests again.
pub const RETEST_INTERVAL: usize = 32;

/// Groups the bytes by their position modulo 4: all bytes 0, 4, 8…, then 1, 5, 9…, then 2…,
/// then 3…; float weights compress better that way.
pub fn bg4_split(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for lane in 0..4 {
        out.extend(data.iter().skip(lane).step_by(4));
    }
    out
}

/// Undoes [`bg4_split`].
pub fn bg4_regroup(grouped: &[u8]) -> Vec<u8> {
    let n = grouped.len();
    let mut out = vec![0u8; n];
    let mut src = grouped.iter();
    for lane in 0..4 {
        for slot in out.iter_mut().skip(lane).step_by(4) {
            // The lanes together hold exactly n bytes, so `src` never runs out.
            *slot = *src.next().unwrap_or(&0);
        }
    }
    out
}

/// The official client's test of whether byte grouping helps: the largest Kullback-Leibler
/// divergence between the distribution of per-byte bit counts at each position modulo 4 and
/// that of all bytes, above 0.02. Computed in the same order with the same floating-point
/// operations as the reference, so the choice is the same.
pub fn bg4_recommended(data: &[u8]) -> bool {
    let mut histograms = [[0u32; 9]; 4];
    for (i, b) in data.iter().enumerate() {
        histograms[i % 4][b.count_ones() as usize] += 1;
    }
    let mut base_counts = [1u32; 9];
    let mut totals = [0u32; 4];
    for i in 0..4 {
        for j in 0..9 {
            base_counts[j] += histograms[i][j];
            totals[i] += histograms[i][j];
        }
    }
    let base_total: u32 = totals.iter().sum();
    let mut max_kl_div = 0f64;
    for i in 0..4 {
        let mut kl_div = 0f64;
        for j in 0..9 {
            let p = histograms[i][j] as f64 / totals[i] as f64;
            let q = base_counts[j] as f64 / base_total as f64;
            kl_div += p * (p / q).ln();
        }
        // An empty bin makes the sum NaN, which `max` ignores, as in the reference.
        max_kl_div = max_kl_div.max(kl_div);
    }
    max_kl_div > 0.02
}

/// The scheme the official client picks for data like `chunk`: byte grouping when
/// [`bg4_recommended`], else plain LZ4.
pub fn choose_scheme(chunk: &[u8]) -> Scheme {
    if bg4_recommended(chunk) {
        Scheme::ByteGrouping4Lz4
    } else {
        Scheme::Lz4
    }
}

/// One LZ4 frame of `data`, with the `lz4_flex` defaults the official client uses (64 KiB
/// independent blocks, no checksums, no content size).
pub fn lz4_frame(data: &[u8]) -> Vec<u8> {
    let mut enc = lz4_flex::frame::FrameEncoder::new(Vec::with_capacity(data.len() / 2 + 64));
    // Writing to a Vec cannot fail.
    enc.write_all(data).expect("writing to memory");
    enc.finish().expect("writing to memory")
}

/// Compresses `chunk` with `scheme`; the scheme actually used is [`Scheme::None`] (and the
/// payload the chunk itself) when compression does not make it smaller, as the official
/// client stores incompressible chunks.
pub fn compress(chunk: &[u8], scheme: Scheme) -> (Scheme, std::borrow::Cow<'_, [u8]>) {
    let packed = match scheme {
        Scheme::None => return (Scheme::None, chunk.into()),
        Scheme::Lz4 => lz4_frame(chunk),
        Scheme::ByteGrouping4Lz4 => lz4_frame(&bg4_split(chunk)),
    };
    if packed.len() >= chunk.len() {
        (Scheme::None, chunk.into())
    } else {
        (scheme, packed.into())
    }
}

/// Why a payload did not decompress.
#[derive(Debug)]
pub(crate) enum DecompressError {
    /// The LZ4 decoder refused it.
    Lz4(String),
    /// It decompressed to another length (at most `expected + 1` bytes are produced).
    Length(u64),
}

/// Decompresses a payload stored with `scheme` into `out` (cleared first), producing at most
/// `expected + 1` bytes whatever the payload claims, so a hostile frame cannot make it
/// allocate more; fails unless the result is exactly `expected` bytes long.
pub(crate) fn decompress_into(
    payload: &[u8],
    scheme: Scheme,
    expected: usize,
    out: &mut Vec<u8>,
) -> Result<(), DecompressError> {
    out.clear();
    match scheme {
        Scheme::None => out.extend_from_slice(payload),
        Scheme::Lz4 | Scheme::ByteGrouping4Lz4 => {
            out.reserve(expected + 1);
            let decoder = lz4_flex::frame::FrameDecoder::new(payload);
            decoder
                .take(expected as u64 + 1)
                .read_to_end(out)
                .map_err(|e| DecompressError::Lz4(e.to_string()))?;
        }
    }
    if out.len() != expected {
        return Err(DecompressError::Length(out.len() as u64));
    }
    if scheme == Scheme::ByteGrouping4Lz4 {
        let regrouped = bg4_regroup(out);
        *out = regrouped;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bg4_round_trips_every_length_modulo_4() {
        for n in 0..40usize {
            let data: Vec<u8> = (0..n as u8).collect();
            let split = bg4_split(&data);
            assert_eq!(split.len(), n);
            assert_eq!(bg4_regroup(&split), data, "{n} bytes");
        }
        assert_eq!(bg4_split(&[0, 1, 2, 3, 4, 5, 6]), vec![0, 4, 1, 5, 2, 6, 3]);
    }

    #[test]
    fn float_like_data_is_grouped_and_text_is_not() {
        // Little-endian f32 values near 1.0: the high bytes repeat, the low bytes vary.
        let floats: Vec<u8> = (0..4096u32)
            .flat_map(|i| (1.0f32 + i as f32 * 1e-4).to_le_bytes())
            .collect();
        assert!(bg4_recommended(&floats));
        assert_eq!(choose_scheme(&floats), Scheme::ByteGrouping4Lz4);
        let text = "the quick brown fox jumps over the lazy dog ".repeat(300);
        assert!(!bg4_recommended(text.as_bytes()));
        // Fewer than 4 bytes: the empty positions give NaN, which is ignored.
        assert!(!bg4_recommended(&[1, 2]));
        assert!(!bg4_recommended(&[]));
    }

    #[test]
    fn incompressible_chunks_are_stored() {
        let mut x = 1u32;
        let noise: Vec<u8> = (0..5000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        let (scheme, payload) = compress(&noise, Scheme::Lz4);
        assert_eq!(scheme, Scheme::None);
        assert_eq!(&payload[..], &noise[..]);
        let zeros = vec![0u8; 5000];
        let (scheme, payload) = compress(&zeros, Scheme::ByteGrouping4Lz4);
        assert_eq!(scheme, Scheme::ByteGrouping4Lz4);
        let mut out = Vec::new();
        decompress_into(&payload, scheme, zeros.len(), &mut out).unwrap();
        assert_eq!(out, zeros);
    }

    #[test]
    fn decompression_is_bounded_by_the_declared_length() {
        let zeros = vec![0u8; 100_000];
        let frame = lz4_frame(&zeros);
        let mut out = Vec::new();
        let err = decompress_into(&frame, Scheme::Lz4, 10, &mut out).unwrap_err();
        assert!(matches!(err, DecompressError::Length(11)), "{err:?}");
        assert!(out.len() <= 11);
        let err = decompress_into(b"not a frame", Scheme::Lz4, 10, &mut out).unwrap_err();
        assert!(matches!(err, DecompressError::Lz4(_)), "{err:?}");
    }
}
