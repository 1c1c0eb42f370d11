//! Every rule of the header reader, each with a file that breaks it: truncation at every byte,
//! bad lengths, bad JSON, bad offsets, overlaps, holes, wrong sizes, unknown dtypes, overflowing
//! shapes, duplicate keys and limits; plus a deterministic mutation run that must never panic.

use std::collections::BTreeMap;
use std::io::{self, Read};

use ruvltra_safetensors::writer::encode_header;
use ruvltra_safetensors::{
    Dtype, Limits, SafetensorsError, SafetensorsHeader, read_header, read_header_from,
};

/// A file made of the 8-byte length, `json` as the header and `data_len` zero bytes.
fn file(json: &str, data_len: usize) -> Vec<u8> {
    let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(json.as_bytes());
    bytes.resize(bytes.len() + data_len, 0);
    bytes
}

fn read(bytes: &[u8]) -> Result<SafetensorsHeader, SafetensorsError> {
    read_header_from(bytes, bytes.len() as u64, &Limits::default())
}

/// Reads `bytes`, expects an error and checks its message follows the project's style.
#[track_caller]
fn read_err(bytes: &[u8]) -> SafetensorsError {
    match read(bytes) {
        Ok(h) => panic!("expected an error, got {h:?}"),
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with(|c: char| !c.is_uppercase()) && !msg.ends_with('.'),
                "error message style: {msg}"
            );
            e
        }
    }
}

/// A small valid file: metadata, an F32 matrix, an I8 vector and a zero-size tensor.
fn small_file() -> (Vec<u8>, SafetensorsHeader) {
    let tensors: [(&str, Dtype, Vec<u64>); 3] = [
        ("w", Dtype::F32, vec![2, 3]),
        ("b", Dtype::I8, vec![3]),
        ("empty", Dtype::F16, vec![0, 4]),
    ];
    let meta = BTreeMap::from([("format".to_owned(), "pt".to_owned())]);
    let (mut bytes, header) = encode_header(&tensors, &meta).unwrap();
    bytes.resize(header.file_len() as usize, 0);
    (bytes, header)
}

#[test]
fn reads_what_the_writer_encodes() {
    let (bytes, header) = small_file();
    let read_back = read(&bytes).unwrap();
    assert_eq!(read_back, header);
    assert_eq!(read_back.data_len, 24 + 3);
    assert_eq!(read_back.header_len % 8, 0, "the writer pads to 8 bytes");
    let w = read_back.tensor("w").unwrap();
    assert_eq!(
        (w.dtype, w.shape.as_slice(), w.data_offsets),
        (Dtype::F32, &[2, 3][..], (0, 24))
    );
    assert_eq!(read_back.tensor("empty").unwrap().byte_len(), 0);
    assert_eq!(read_back.parameter_count(), 9);
    assert_eq!(
        read_back.metadata,
        Some(BTreeMap::from([("format".to_owned(), "pt".to_owned())]))
    );
    // Data order: larger dtypes first, as the reference writer lays them out.
    let names: Vec<&str> = read_back.tensors.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["w", "empty", "b"]);
}

#[test]
fn a_file_cut_at_every_byte_is_refused() {
    let (bytes, header) = small_file();
    let header_end = header.data_start as usize;
    for cut in 0..bytes.len() {
        let prefix = &bytes[..cut];
        // The file really is this short.
        let err = read_err(prefix);
        match err {
            SafetensorsError::Truncated {
                offset: 0,
                needed: 8,
                ..
            } => assert!(cut < 8),
            SafetensorsError::HeaderBeyondFile { len, available } => {
                assert!((8..header_end).contains(&cut), "cut {cut}");
                assert_eq!((len, available), (header.header_len, cut as u64 - 8));
            }
            SafetensorsError::OffsetOutOfBounds { data_len, .. } => {
                assert!(cut >= header_end, "cut {cut}");
                assert_eq!(data_len, (cut - header_end) as u64);
            }
            other => panic!("cut at {cut}: unexpected {other:?}"),
        }
        // The stream ends early although the caller claims the full length.
        let claimed = read_header_from(prefix, bytes.len() as u64, &Limits::default());
        if cut < header_end {
            let Err(SafetensorsError::Truncated { what, .. }) = claimed else {
                panic!("cut at {cut} with the full length claimed: {claimed:?}");
            };
            assert!(what.contains(if cut < 8 { "length" } else { "json" }));
        } else {
            // The header is whole: the data is never read, so the header checks pass.
            assert_eq!(claimed.unwrap(), header);
        }
    }
    // One byte more than the tensors cover is a hole at the end.
    let mut longer = bytes.clone();
    longer.push(0);
    let end = header.data_len;
    assert!(matches!(
        read_err(&longer),
        SafetensorsError::Hole { begin, end: e } if begin == end && e == end + 1
    ));
}

#[test]
fn header_length_caps() {
    let mut huge = u64::MAX.to_le_bytes().to_vec();
    huge.extend_from_slice(b"{}");
    assert!(matches!(
        read_err(&huge),
        SafetensorsError::HeaderTooLarge {
            len: u64::MAX,
            max: 100_000_000
        }
    ));
    // Over the default cap of 100 000 000 even when the file were that long.
    let over = read_header_from(
        &100_000_001u64.to_le_bytes()[..],
        200_000_000,
        &Limits::default(),
    );
    assert!(matches!(
        over,
        Err(SafetensorsError::HeaderTooLarge {
            len: 100_000_001,
            ..
        })
    ));
    // A smaller cap from the caller.
    let limits = Limits {
        max_header_len: 4,
        ..Limits::default()
    };
    let bytes = file("{}   ", 0);
    let err = read_header_from(&bytes[..], bytes.len() as u64, &limits).unwrap_err();
    assert!(matches!(
        err,
        SafetensorsError::HeaderTooLarge { len: 5, max: 4 }
    ));
    // One byte past the end of the file.
    let mut beyond = file("{}", 0);
    beyond[0] = 3;
    assert!(matches!(
        read_err(&beyond),
        SafetensorsError::HeaderBeyondFile {
            len: 3,
            available: 2
        }
    ));
}

#[test]
fn header_must_start_with_a_brace_and_be_utf8_json() {
    for json in [" {}", "\n{}", "[]", "\"x\""] {
        assert!(
            matches!(
                read_err(&file(json, 0)),
                SafetensorsError::HeaderStart { .. }
            ),
            "{json:?}"
        );
    }
    let empty = read_err(&file("", 0));
    assert!(empty.to_string().contains("length is 0"), "{empty}");

    let mut bad_utf8 = file("{\"\u{e9}\":1}", 0);
    bad_utf8[11] = 0xff; // The second byte of 'é', so the sequence starting at 10 is invalid.
    assert!(matches!(
        read_err(&bad_utf8),
        SafetensorsError::HeaderNotUtf8 { offset: 10 }
    ));

    for json in [
        "{",
        "{\"a\":",
        "{}\0\0",
        "{} x",
        "{\"a\":1}",
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}",
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}",
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,1]}}",
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}",
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[18446744073709551616],\"data_offsets\":[0,1]}}",
        "{\"a\":{\"dtype\":8,\"shape\":[1],\"data_offsets\":[0,1]}}",
        "{\"__metadata__\":{\"k\":1}}",
        "{\"__metadata__\":[]}",
    ] {
        assert!(
            matches!(
                read_err(&file(json, 1)),
                SafetensorsError::HeaderJson { .. }
            ),
            "{json:?}"
        );
    }
}

#[test]
fn lenient_where_the_format_allows() {
    // Space padding, other trailing whitespace, extra tensor fields and a null metadata map.
    let h = read(&file("{}      ", 0)).unwrap();
    assert!(h.tensors.is_empty() && h.metadata.is_none());
    read(&file("{}\n", 0)).unwrap();
    let json = "{\"__metadata__\":null,\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":[]}}";
    let h = read(&file(json, 1)).unwrap();
    assert_eq!(h.metadata, None);
    assert_eq!(h.tensors[0].shape, [1]);
    // A scalar is one element; zero-size tensors may share an offset.
    let json = "{\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]},\
                \"z1\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]},\
                \"z2\":{\"dtype\":\"U8\",\"shape\":[3,0],\"data_offsets\":[8,8]}}";
    let h = read(&file(json, 8)).unwrap();
    assert_eq!(h.tensor("s").unwrap().element_count(), 1);
    assert_eq!(h.tensors.len(), 3);
}

#[test]
fn offsets_must_lie_in_the_data_section() {
    let json = "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}";
    assert!(matches!(
        read_err(&file(json, 3)),
        SafetensorsError::OffsetOutOfBounds {
            begin: 0,
            end: 4,
            data_len: 3,
            ..
        }
    ));
    let json = "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[18446744073709551614,18446744073709551615]}}";
    assert!(matches!(
        read_err(&file(json, 1)),
        SafetensorsError::OffsetOutOfBounds { .. }
    ));
    let json = "{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,0]}}";
    assert!(matches!(
        read_err(&file(json, 4)),
        SafetensorsError::OffsetsReversed {
            begin: 4,
            end: 0,
            ..
        }
    ));
}

#[test]
fn overlapping_tensors_are_refused() {
    let json = "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\
                \"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}";
    let err = read_err(&file(json, 6));
    let SafetensorsError::Overlap {
        first,
        second,
        first_end,
        second_begin,
        ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(
        (first.as_str(), second.as_str(), *first_end, *second_begin),
        ("a", "b", 4, 2)
    );
    // The same range twice (an alias), and an empty tensor inside another one.
    let json = "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\
                \"b\":{\"dtype\":\"I8\",\"shape\":[4],\"data_offsets\":[0,4]}}";
    assert!(matches!(
        read_err(&file(json, 4)),
        SafetensorsError::Overlap { .. }
    ));
    let json = "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\
                \"z\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[2,2]}}";
    assert!(matches!(
        read_err(&file(json, 4)),
        SafetensorsError::Overlap { .. }
    ));
}

#[test]
fn the_data_section_must_be_covered_without_holes() {
    let gap = "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},\
               \"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[3,5]}}";
    assert!(matches!(
        read_err(&file(gap, 5)),
        SafetensorsError::Hole { begin: 2, end: 3 }
    ));
    let leading = "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[1,3]}}";
    assert!(matches!(
        read_err(&file(leading, 3)),
        SafetensorsError::Hole { begin: 0, end: 1 }
    ));
    let trailing = "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}";
    assert!(matches!(
        read_err(&file(trailing, 10)),
        SafetensorsError::Hole { begin: 2, end: 10 }
    ));
    assert!(matches!(
        read_err(&file("{}", 1)),
        SafetensorsError::Hole { begin: 0, end: 1 }
    ));
    // Out of order in the header is fine when the data is contiguous.
    let unordered = "{\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]},\
                     \"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}";
    let h = read(&file(unordered, 4)).unwrap();
    assert_eq!(h.tensors[0].name, "a");
}

#[test]
fn byte_size_must_match_dtype_and_shape() {
    let json = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,23]}}";
    let err = read_err(&file(json, 23));
    assert!(matches!(
        &err,
        SafetensorsError::ByteSizeMismatch {
            dtype: Dtype::F32,
            expected: 24,
            found: 23,
            ..
        }
    ));
    assert!(err.to_string().contains("needs 24 bytes"), "{err}");
    // Sub-byte dtypes: 4 F4 elements are 2 bytes, 3 are not whole bytes.
    let ok = "{\"a\":{\"dtype\":\"F4\",\"shape\":[4],\"data_offsets\":[0,2]}}";
    read(&file(ok, 2)).unwrap();
    let odd = "{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}";
    assert!(matches!(
        read_err(&file(odd, 2)),
        SafetensorsError::NotWholeBytes { bits: 12, .. }
    ));
    let f6 = "{\"a\":{\"dtype\":\"F6_E2M3\",\"shape\":[4],\"data_offsets\":[0,3]}}";
    read(&file(f6, 3)).unwrap();
}

#[test]
fn unknown_dtypes_are_refused() {
    for dtype in ["Q4_K", "f32", "F8", "float16", ""] {
        let json =
            format!("{{\"a\":{{\"dtype\":\"{dtype}\",\"shape\":[1],\"data_offsets\":[0,1]}}}}");
        let err = read_err(&file(&json, 1));
        let SafetensorsError::UnknownDtype {
            tensor,
            dtype: found,
        } = &err
        else {
            panic!("{dtype:?}: {err:?}");
        };
        assert_eq!((tensor.as_str(), found.as_str()), ("a", dtype));
        assert!(
            err.to_string().contains("BF16"),
            "the message lists the known dtypes"
        );
    }
    // Every known dtype is accepted with a matching size.
    for dtype in Dtype::ALL {
        let bytes = 8 * dtype.bits() / 8;
        let json = format!(
            "{{\"a\":{{\"dtype\":\"{dtype}\",\"shape\":[8],\"data_offsets\":[0,{bytes}]}}}}"
        );
        assert_eq!(
            read(&file(&json, bytes as usize)).unwrap().tensors[0].dtype,
            dtype
        );
    }
}

#[test]
fn shapes_that_overflow_u64_are_refused() {
    for (dtype, shape) in [
        ("U8", "[18446744073709551615,2]"),
        ("U8", "[4294967296,4294967296]"),
        ("F32", "[4611686018427387904]"), // 2^62 elements * 32 bits overflows.
        ("F64", "[2305843009213693952]"), // 2^61 * 64 bits.
        ("U8", "[18446744073709551615,2,0]"), // Overflows before the 0, as in the reference.
    ] {
        let json =
            format!("{{\"a\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[0,0]}}}}");
        assert!(
            matches!(
                read_err(&file(&json, 0)),
                SafetensorsError::ShapeOverflow { .. }
            ),
            "{shape}"
        );
    }
    // Large but representable: the size check, not an overflow, refuses it.
    let json = "{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,268435456],\"data_offsets\":[0,0]}}";
    assert!(matches!(
        read_err(&file(json, 0)),
        SafetensorsError::ByteSizeMismatch { .. }
    ));
}

#[test]
fn duplicate_keys_are_refused() {
    let t = "{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}";
    let dup_tensor = format!("{{\"a\":{t},\"a\":{t}}}");
    assert!(
        matches!(read_err(&file(&dup_tensor, 0)), SafetensorsError::DuplicateKey { key } if key == "a")
    );
    let dup_meta = "{\"__metadata__\":{},\"__metadata__\":{}}";
    assert!(
        matches!(read_err(&file(dup_meta, 0)), SafetensorsError::DuplicateKey { key } if key == "__metadata__")
    );
    let dup_inner = "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}";
    assert!(
        matches!(read_err(&file(dup_inner, 0)), SafetensorsError::DuplicateKey { key } if key == "__metadata__.k")
    );
}

#[test]
fn tensor_count_and_dimension_limits() {
    let (bytes, _) = small_file();
    let limits = Limits {
        max_tensors: 2,
        ..Limits::default()
    };
    let err = read_header_from(&bytes[..], bytes.len() as u64, &limits).unwrap_err();
    assert!(matches!(
        err,
        SafetensorsError::TooManyTensors { count: 3, max: 2 }
    ));
    let limits = Limits {
        max_dims: 1,
        ..Limits::default()
    };
    let err = read_header_from(&bytes[..], bytes.len() as u64, &limits).unwrap_err();
    assert!(matches!(
        err,
        SafetensorsError::TooManyDims {
            dims: 2,
            max: 1,
            ..
        }
    ));
    let shape = vec!["1"; 65].join(",");
    let json = format!("{{\"a\":{{\"dtype\":\"U8\",\"shape\":[{shape}],\"data_offsets\":[0,1]}}}}");
    assert!(matches!(
        read_err(&file(&json, 1)),
        SafetensorsError::TooManyDims {
            dims: 65,
            max: 64,
            ..
        }
    ));
}

#[test]
fn io_errors_are_typed() {
    let missing = std::env::temp_dir().join("ruvltra-safetensors-no-such-file.safetensors");
    assert!(matches!(
        read_header(&missing),
        Err(SafetensorsError::Open { .. })
    ));

    struct Failing(usize);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("disk on fire"));
            }
            let n = self.0.min(buf.len()).min(8);
            buf[..n].copy_from_slice(&[16, 0, 0, 0, 0, 0, 0, 0][..n]);
            self.0 -= n;
            Ok(n)
        }
    }
    let err = read_header_from(Failing(3), 100, &Limits::default()).unwrap_err();
    assert!(
        matches!(err, SafetensorsError::Read { offset: 3, .. }),
        "{err:?}"
    );
    let err = read_header_from(Failing(8), 100, &Limits::default()).unwrap_err();
    assert!(
        matches!(err, SafetensorsError::Read { offset: 8, .. }),
        "{err:?}"
    );
}

#[test]
fn reads_a_real_file_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let (bytes, header) = small_file();
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(read_header(&path).unwrap(), header);
    // Errors of a file read by path name it.
    std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
    let err = read_header(&path).unwrap_err();
    assert!(
        matches!(err.root(), SafetensorsError::OffsetOutOfBounds { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("{}: tensor \"", path.display())),
        "{msg}"
    );
}

/// Byte flips, insertions, deletions and length edits of a valid file: the reader must return
/// (never panic), and whatever it accepts must satisfy the format's invariants.
#[test]
fn mutations_never_panic_and_accepted_files_are_consistent() {
    let (base, _) = small_file();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b"{}[]\":,0123456789 FUI_ab";
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..20_000 {
        let mut bytes = base.clone();
        for _ in 0..1 + next() % 3 {
            let at = (next() % bytes.len() as u64) as usize;
            match next() % 4 {
                0 => bytes[at] = alphabet[(next() % alphabet.len() as u64) as usize],
                1 => bytes[at] = next() as u8,
                2 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, alphabet[(next() % alphabet.len() as u64) as usize]),
            }
        }
        if next() % 8 == 0 {
            // Keep the length field consistent with an edited header now and then.
            let n = bytes.len().saturating_sub(8 + 27) as u64;
            bytes[..8].copy_from_slice(&n.to_le_bytes());
        }
        match read(&bytes) {
            Ok(h) => {
                accepted += 1;
                assert_eq!(h.file_len(), bytes.len() as u64);
                let mut covered = 0;
                for t in &h.tensors {
                    assert_eq!(t.data_offsets.0, covered);
                    covered = t.data_offsets.1;
                    assert_eq!(t.byte_len() * 8, t.element_count() * t.dtype.bits());
                }
                assert_eq!(covered, h.data_len);
            }
            Err(_) => refused += 1,
        }
    }
    assert!(
        refused > 10_000,
        "most mutations break the file ({refused} refused)"
    );
    assert!(accepted > 0, "some mutations (e.g. in names) keep it valid");
}
