//! Reader tests: writer round trips, every malformed-input error, limits and truncation.

use std::io::Cursor;

use ruvltra_gguf::writer::{DataFill, GgufWriter, Layout, sample_model};
use ruvltra_gguf::{
    Array, GgmlType, GgufError, Header, LimitKind, Limits, Value, ValueType, read_header,
    read_header_from,
};

fn parse(bytes: &[u8]) -> Result<Header, GgufError> {
    read_header_from(Cursor::new(bytes), &Limits::default())
}

fn parse_with(bytes: &[u8], limits: &Limits) -> Result<Header, GgufError> {
    read_header_from(Cursor::new(bytes), limits)
}

/// One value of every type, including nested and empty arrays.
fn every_value() -> Vec<(&'static str, Value)> {
    vec![
        ("t.u8", Value::U8(200)),
        ("t.i8", Value::I8(-100)),
        ("t.u16", Value::U16(60_000)),
        ("t.i16", Value::I16(-30_000)),
        ("t.u32", Value::U32(4_000_000_000)),
        ("t.i32", Value::I32(-2_000_000_000)),
        ("t.f32", Value::F32(-1.5e-7)),
        ("t.bool_true", Value::Bool(true)),
        ("t.bool_false", Value::Bool(false)),
        ("t.string", Value::String("héllo, κόσμε {{ jinja }}".into())),
        ("t.empty_string", Value::String(String::new())),
        ("t.u64", Value::U64(u64::MAX - 1)),
        ("t.i64", Value::I64(i64::MIN + 1)),
        ("t.f64", Value::F64(std::f64::consts::PI)),
        ("t.arr.u8", Value::Array(Array::U8(vec![0, 1, 255]))),
        ("t.arr.i8", Value::Array(Array::I8(vec![-128, 127]))),
        ("t.arr.u16", Value::Array(Array::U16(vec![1, 65_535]))),
        ("t.arr.i16", Value::Array(Array::I16(vec![-1, 1]))),
        ("t.arr.u32", Value::Array(Array::U32(vec![7, 8, 9]))),
        ("t.arr.i32", Value::Array(Array::I32(vec![-7, 8]))),
        ("t.arr.f32", Value::Array(Array::F32(vec![0.5, -0.25]))),
        (
            "t.arr.bool",
            Value::Array(Array::Bool(vec![true, false, true])),
        ),
        (
            "t.arr.string",
            Value::Array(Array::String(vec!["a".into(), "".into(), "ç".into()])),
        ),
        ("t.arr.u64", Value::Array(Array::U64(vec![u64::MAX]))),
        ("t.arr.i64", Value::Array(Array::I64(vec![i64::MIN]))),
        ("t.arr.f64", Value::Array(Array::F64(vec![1e300, -0.0]))),
        ("t.arr.empty", Value::Array(Array::U32(vec![]))),
        (
            "t.arr.nested",
            Value::Array(Array::Array(vec![
                Array::U32(vec![1, 2]),
                Array::String(vec!["x".into()]),
                Array::Array(vec![Array::I8(vec![-1]), Array::Bool(vec![])]),
            ])),
        ),
    ]
}

fn rich_writer() -> GgufWriter {
    let mut w = GgufWriter::new();
    w.kv("general.architecture", "qwen2");
    for (k, v) in every_value() {
        w.kv(k, v);
    }
    w.tensor("token_embd.weight", &[256, 16], GgmlType::Q4_K)
        .tensor("blk.0.attn_norm.weight", &[256], GgmlType::F32)
        .tensor("blk.0.ffn_down.weight", &[512, 256], GgmlType::Q6_K)
        .tensor("odd.weight", &[32, 3], GgmlType::Q8_0)
        .tensor("scalar", &[], GgmlType::F16)
        .tensor_with_size("future.weight", &[10, 10], GgmlType::Unknown(250), 77);
    w
}

#[test]
fn every_value_type_round_trips() {
    let w = rich_writer();
    let bytes = w.header_bytes().unwrap();
    let header = parse(&bytes).unwrap();
    assert_eq!(header.version, 3);
    assert_eq!(header.metadata.len(), every_value().len() + 1);
    for (key, value) in every_value() {
        assert_eq!(header.get(key), Some(&value), "key {key}");
        assert_eq!(header.get(key).unwrap().value_type(), value.value_type());
    }
    let all_types: std::collections::BTreeSet<ValueType> = header
        .metadata
        .iter()
        .map(|e| e.value.value_type())
        .collect();
    assert_eq!(
        all_types.len(),
        13,
        "the fixture must cover all 13 value types"
    );
    // File order is kept.
    assert_eq!(header.metadata[0].key, "general.architecture");
    assert_eq!(header.metadata[1].key, "t.u8");
}

#[test]
fn tensor_infos_and_offsets_round_trip() {
    let w = rich_writer();
    let layout: Layout = w.layout().unwrap();
    let header = parse(&w.header_bytes().unwrap()).unwrap();
    assert_eq!(header.tensors.len(), 6);
    assert_eq!(header.header_end, layout.header_end);
    assert_eq!(header.data_offset, layout.data_offset);
    assert_eq!(header.data_offset % 32, 0);
    let names: Vec<&str> = header.tensors.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "token_embd.weight",
            "blk.0.attn_norm.weight",
            "blk.0.ffn_down.weight",
            "odd.weight",
            "scalar",
            "future.weight"
        ]
    );
    for (t, (offset, size)) in header.tensors.iter().zip(&layout.tensors) {
        assert_eq!(t.offset, *offset, "{}", t.name);
        assert_eq!(t.offset % 32, 0);
        if let Some(s) = t.data_size() {
            assert_eq!(s, *size, "{}", t.name);
        }
    }
    assert_eq!(header.tensors[0].data_size(), Some(144 * 16));
    assert_eq!(header.tensors[2].data_size(), Some(2 * 210 * 256));
    assert_eq!(header.tensors[3].data_size(), Some(34 * 3));
    assert_eq!(header.tensors[4].dims, Vec::<u64>::new());
    assert_eq!(header.tensors[4].n_elements(), 1);
    assert_eq!(header.tensors[5].ggml_type, GgmlType::Unknown(250));
    assert_eq!(header.tensors[5].data_size(), None);
}

#[test]
fn read_header_from_a_file_checks_the_data_section() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.gguf");
    let mut w = rich_writer();
    w.fill(DataFill::Pattern);
    let layout = w.write_file(&path).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), layout.file_len);
    let header = read_header(&path).unwrap();
    assert_eq!(header.tensors.len(), 6);
    // The pattern bytes of the first tensor are where the header says.
    let bytes = std::fs::read(&path).unwrap();
    let start = (header.data_offset + header.tensors[2].offset) as usize;
    assert_eq!(bytes[start], ruvltra_gguf::writer::pattern_byte(2, 0));
    assert_eq!(bytes[start + 5], ruvltra_gguf::writer::pattern_byte(2, 5));

    // Cut inside the data section: the header parses, the file is refused.
    let cut = &bytes[..bytes.len() - 200];
    std::fs::write(&path, cut).unwrap();
    assert!(parse(cut).is_ok());
    let err = read_header(&path).unwrap_err();
    assert!(matches!(err, GgufError::BadTensorData { .. }), "{err}");
}

#[test]
fn custom_alignment_is_used() {
    let mut w = GgufWriter::new();
    w.kv("general.architecture", "llama")
        .alignment(256)
        .tensor("a", &[32], GgmlType::F32)
        .tensor("b", &[8], GgmlType::F32);
    let header = parse(&w.header_bytes().unwrap()).unwrap();
    assert_eq!(header.alignment, 256);
    assert_eq!(header.data_offset % 256, 0);
    assert_eq!(header.tensors[1].offset, 256);
}

#[test]
fn version_two_is_accepted() {
    let mut w = GgufWriter::new();
    w.version(2).kv("general.architecture", "llama");
    assert_eq!(parse(&w.header_bytes().unwrap()).unwrap().version, 2);
}

/// Every prefix of a valid header (padding included) is an error, never Ok, never a panic.
#[test]
fn truncation_at_every_offset_is_an_error() {
    let bytes = rich_writer().header_bytes().unwrap();
    assert!(parse(&bytes).is_ok());
    for cut in 0..bytes.len() {
        match parse(&bytes[..cut]) {
            Err(GgufError::Truncated { offset, .. }) => {
                assert!(offset <= cut as u64, "cut {cut}: offset {offset}")
            }
            other => panic!(
                "cut at {cut} of {}: expected Truncated, got {other:?}",
                bytes.len()
            ),
        }
    }
}

#[test]
fn sample_model_truncation_at_every_offset_is_an_error() {
    let mut sample = ruvltra_gguf::writer::SampleModel::new("qwen2", 15, 1_000_000);
    sample.vocab_size = 40;
    let bytes = sample.build().unwrap().header_bytes().unwrap();
    assert!(parse(&bytes).is_ok());
    for cut in 0..bytes.len() {
        assert!(
            matches!(parse(&bytes[..cut]), Err(GgufError::Truncated { .. })),
            "cut at {cut}"
        );
    }
}

#[test]
fn bad_magic() {
    let mut bytes = rich_writer().header_bytes().unwrap();
    bytes[0] = b'g';
    let err = parse(&bytes).unwrap_err();
    assert!(
        matches!(err, GgufError::BadMagic { found } if &found == b"gGUF"),
        "{err}"
    );
    assert!(err.to_string().contains("not a gguf file"));
}

#[test]
fn version_one_and_future_versions_are_refused() {
    for version in [1u32, 4, 0xFFFF] {
        let mut w = GgufWriter::new();
        w.version(version);
        let err = parse(&w.header_bytes().unwrap()).unwrap_err();
        assert!(
            matches!(err, GgufError::UnsupportedVersion { version: v } if v == version),
            "{err}"
        );
    }
}

#[test]
fn big_endian_is_detected() {
    let mut bytes = rich_writer().header_bytes().unwrap();
    bytes[4..8].copy_from_slice(&3u32.to_be_bytes());
    let err = parse(&bytes).unwrap_err();
    assert!(
        matches!(err, GgufError::BigEndian { raw: 0x0300_0000 }),
        "{err}"
    );
    assert!(err.to_string().contains("big-endian"));
}

/// The byte offset of the value type of the first KV (after magic, version, counts, key).
fn first_kv_type_offset(key: &str) -> usize {
    4 + 4 + 8 + 8 + 8 + key.len()
}

fn one_kv(key: &str, value: Value) -> Vec<u8> {
    let mut w = GgufWriter::new();
    w.kv(key, value);
    w.header_bytes().unwrap()
}

#[test]
fn unknown_value_type() {
    let mut bytes = one_kv("a.b", Value::U32(1));
    let at = first_kv_type_offset("a.b");
    bytes[at..at + 4].copy_from_slice(&13u32.to_le_bytes());
    let err = parse(&bytes).unwrap_err();
    assert!(
        matches!(err, GgufError::UnknownValueType { type_id: 13, offset } if offset == at as u64),
        "{err}"
    );
    // Also as an array element type.
    let mut bytes = one_kv("a.b", Value::Array(Array::U8(vec![1])));
    let at = first_kv_type_offset("a.b") + 4;
    bytes[at..at + 4].copy_from_slice(&99u32.to_le_bytes());
    assert!(matches!(
        parse(&bytes),
        Err(GgufError::UnknownValueType { type_id: 99, .. })
    ));
}

#[test]
fn invalid_bool() {
    let mut bytes = one_kv("a.b", Value::Bool(true));
    let at = first_kv_type_offset("a.b") + 4;
    bytes[at] = 2;
    assert!(matches!(
        parse(&bytes),
        Err(GgufError::InvalidBool { byte: 2, .. })
    ));
}

#[test]
fn invalid_utf8() {
    let mut bytes = one_kv("a.b", Value::String("ok".into()));
    let at = first_kv_type_offset("a.b") + 4 + 8;
    bytes[at] = 0xFF;
    assert!(matches!(
        parse(&bytes),
        Err(GgufError::InvalidUtf8 {
            what: "string value",
            ..
        })
    ));
    let mut bytes = one_kv("a.b", Value::U8(1));
    bytes[4 + 4 + 8 + 8 + 8] = 0xC3;
    assert!(matches!(
        parse(&bytes),
        Err(GgufError::InvalidUtf8 {
            what: "metadata key",
            ..
        })
    ));
}

#[test]
fn duplicate_key_and_tensor_name() {
    let mut w = GgufWriter::new();
    w.kv("a.b", 1u32).kv("c", 2u32).kv("a.b", 3u32);
    let err = parse(&w.header_bytes().unwrap()).unwrap_err();
    assert!(
        matches!(&err, GgufError::DuplicateKey { key, .. } if key == "a.b"),
        "{err}"
    );

    let mut w = GgufWriter::new();
    w.tensor("x", &[4], GgmlType::F32)
        .tensor("y", &[4], GgmlType::F32)
        .tensor("x", &[4], GgmlType::F32);
    let err = parse(&w.header_bytes().unwrap()).unwrap_err();
    assert!(
        matches!(&err, GgufError::DuplicateTensorName { name, .. } if name == "x"),
        "{err}"
    );
}

#[test]
fn bad_alignment() {
    for value in [
        Value::U32(0),
        Value::U32(48),
        Value::U64(32),
        Value::I32(32),
    ] {
        let mut w = GgufWriter::new();
        w.kv("general.alignment", value.clone());
        let err = parse(&w.header_bytes().unwrap()).unwrap_err();
        assert!(
            matches!(err, GgufError::BadAlignment { .. }),
            "{value:?}: {err}"
        );
    }
}

#[test]
fn unknown_tensor_types_are_kept() {
    let mut w = GgufWriter::new();
    w.tensor_with_size("a", &[64], GgmlType::Unknown(4242), 64);
    let header = parse(&w.header_bytes().unwrap()).unwrap();
    assert_eq!(header.tensors[0].ggml_type, GgmlType::Unknown(4242));
    assert_eq!(header.tensors[0].ggml_type.id(), 4242);
    assert_eq!(header.tensors[0].ggml_type.to_string(), "UNKNOWN(4242)");
}

/// A header with the given tensor and kv counts and nothing else.
fn counts_only(tensor_count: u64, kv_count: u64) -> Vec<u8> {
    let mut b = b"GGUF".to_vec();
    b.extend_from_slice(&3u32.to_le_bytes());
    b.extend_from_slice(&tensor_count.to_le_bytes());
    b.extend_from_slice(&kv_count.to_le_bytes());
    b
}

fn assert_limit(result: Result<Header, GgufError>, kind: LimitKind) {
    match result {
        Err(GgufError::LimitExceeded { kind: k, .. }) if k == kind => {}
        other => panic!("expected LimitExceeded({kind:?}), got {other:?}"),
    }
}

#[test]
fn huge_counts_fail_fast() {
    assert_limit(parse(&counts_only(1 << 60, 0)), LimitKind::TensorCount);
    assert_limit(parse(&counts_only(0, 1 << 60)), LimitKind::KvCount);
    // Within the caps but with nothing behind them: a truncation, not a huge allocation.
    assert!(matches!(
        parse(&counts_only(1 << 20, 0)),
        Err(GgufError::Truncated { .. })
    ));
}

#[test]
fn huge_string_fails_fast() {
    // A key claiming 2^62 bytes.
    let mut b = counts_only(0, 1);
    b.extend_from_slice(&(1u64 << 62).to_le_bytes());
    assert_limit(parse(&b), LimitKind::KeyLength);
    // A string value claiming 2^62 bytes.
    let mut bytes = one_kv("k", Value::String("abc".into()));
    let at = first_kv_type_offset("k") + 4;
    bytes[at..at + 8].copy_from_slice(&(1u64 << 62).to_le_bytes());
    assert_limit(parse(&bytes), LimitKind::StringLength);
    // A tensor name claiming u64::MAX bytes.
    let mut b = counts_only(1, 0);
    b.extend_from_slice(&u64::MAX.to_le_bytes());
    assert_limit(parse(&b), LimitKind::TensorNameLength);
}

#[test]
fn huge_arrays_fail_fast() {
    let mut bytes = one_kv("k", Value::Array(Array::U64(vec![1])));
    let at = first_kv_type_offset("k") + 4 + 4;
    bytes[at..at + 8].copy_from_slice(&(1u64 << 62).to_le_bytes());
    assert_limit(parse(&bytes), LimitKind::ArrayElements);

    // Within the element cap but over a small memory budget.
    let limits = Limits {
        max_total_bytes: 1000,
        ..Limits::default()
    };
    bytes[at..at + 8].copy_from_slice(&1000u64.to_le_bytes());
    assert_limit(parse_with(&bytes, &limits), LimitKind::MemoryBudget);

    // The element budget is shared by all arrays.
    let limits = Limits {
        max_array_elements: 5,
        ..Limits::default()
    };
    let mut w = GgufWriter::new();
    w.kv("a", Array::U8(vec![1, 2, 3]));
    assert!(parse_with(&w.header_bytes().unwrap(), &limits).is_ok());
    w.kv("b", Array::U8(vec![1, 2, 3]));
    assert_limit(
        parse_with(&w.header_bytes().unwrap(), &limits),
        LimitKind::ArrayElements,
    );
}

#[test]
fn nesting_depth_is_capped() {
    fn nested(depth: u32) -> Array {
        if depth == 1 {
            Array::U8(vec![1])
        } else {
            Array::Array(vec![nested(depth - 1)])
        }
    }
    let mut ok = GgufWriter::new();
    ok.kv("k", nested(4));
    let header = parse(&ok.header_bytes().unwrap()).unwrap();
    assert_eq!(header.get("k"), Some(&Value::Array(nested(4))));
    let mut deep = GgufWriter::new();
    deep.kv("k", nested(5));
    assert_limit(parse(&deep.header_bytes().unwrap()), LimitKind::ArrayDepth);
    // A hostile file nesting a thousand levels stops at the cap without recursing further.
    let mut b = counts_only(0, 1);
    b.extend_from_slice(&1u64.to_le_bytes());
    b.push(b'k');
    b.extend_from_slice(&9u32.to_le_bytes());
    for _ in 0..1000 {
        b.extend_from_slice(&9u32.to_le_bytes());
        b.extend_from_slice(&1u64.to_le_bytes());
    }
    assert_limit(parse(&b), LimitKind::ArrayDepth);
}

#[test]
fn too_many_dims_and_overflowing_shapes() {
    let mut w = GgufWriter::new();
    w.tensor_with_size("t", &[1, 2, 3, 4, 5], GgmlType::F32, 480);
    assert_limit(parse(&w.header_bytes().unwrap()), LimitKind::Dimensions);
    let mut w = GgufWriter::new();
    w.tensor_with_size("t", &[1 << 32, 1 << 32], GgmlType::F32, 4);
    assert!(matches!(
        parse(&w.header_bytes().unwrap()),
        Err(GgufError::TensorTooLarge { .. })
    ));
}

#[test]
fn limits_are_configurable() {
    let limits = Limits {
        max_key_len: 3,
        ..Limits::default()
    };
    let bytes = one_kv("abcd", Value::U8(1));
    assert_limit(parse_with(&bytes, &limits), LimitKind::KeyLength);
    assert!(parse(&bytes).is_ok());
    let err = parse_with(&bytes, &limits).unwrap_err();
    assert!(err.to_string().contains("Limits::max_key_len"), "{err}");
}

#[test]
fn sample_model_is_plausible() {
    let w = sample_model("qwen2", 15, 500_000_000).unwrap();
    let params = w.parameter_count();
    assert!((350_000_000..700_000_000).contains(&params), "{params}");
    let header = parse(&w.header_bytes().unwrap()).unwrap();
    assert_eq!(header.architecture(), Some("qwen2"));
    assert_eq!(header.get_u64("general.file_type"), Some(15));
    assert_eq!(header.get_u64("qwen2.context_length"), Some(32_768));
    assert!(
        header
            .get_str("tokenizer.chat_template")
            .unwrap()
            .contains("<|im_start|>")
    );
    let q6 = header
        .tensors
        .iter()
        .filter(|t| t.ggml_type == GgmlType::Q6_K)
        .count();
    assert!(q6 > 0, "a Q4_K_M sample mixes in Q6_K tensors");
    assert!(
        sample_model("qwen2", 4, 1_000_000).is_err(),
        "4 is a removed file type"
    );
    assert!(sample_model("Qwen-2", 15, 1_000_000).is_err());
}

#[test]
fn write_to_matches_write_file() {
    let mut w = rich_writer();
    w.fill(DataFill::Pattern);
    let mut streamed = Vec::new();
    let layout = w.write_to(&mut streamed).unwrap();
    assert_eq!(streamed.len() as u64, layout.file_len);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.gguf");
    w.write_file(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), streamed);
    // Zeros: the sparse file equals the streamed zeros.
    let mut z = rich_writer();
    z.fill(DataFill::Zeros);
    let mut streamed = Vec::new();
    z.write_to(&mut streamed).unwrap();
    z.write_file(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), streamed);
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1);
}

#[test]
fn lookups_survive_edits_of_the_public_metadata() {
    let mut header = parse(&rich_writer().header_bytes().unwrap()).unwrap();
    assert_eq!(header.get("t.u8"), Some(&Value::U8(200)));
    header.metadata.retain(|e| e.key != "t.u8");
    assert_eq!(header.get("t.u8"), None);
    assert_eq!(header.get("t.i8"), Some(&Value::I8(-100)));
    header.metadata.clear();
    assert_eq!(header.get("t.i8"), None);
}

#[test]
fn depth_ceiling_holds_whatever_the_limits_say() {
    let limits = Limits {
        max_array_depth: u32::MAX,
        ..Limits::default()
    };
    let mut b = counts_only(0, 1);
    b.extend_from_slice(&1u64.to_le_bytes());
    b.push(b'k');
    b.extend_from_slice(&9u32.to_le_bytes());
    for _ in 0..100_000 {
        b.extend_from_slice(&9u32.to_le_bytes());
        b.extend_from_slice(&1u64.to_le_bytes());
    }
    assert_limit(parse_with(&b, &limits), LimitKind::ArrayDepth);
}
