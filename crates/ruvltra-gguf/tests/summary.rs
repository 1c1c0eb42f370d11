//! Quant labels, split names and the publisher's summary.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use ruvltra_gguf::quant::{FILE_TYPES, dominant_tensor_type, file_type_of_label};
use ruvltra_gguf::writer::{GgufWriter, SampleModel, sample_model, tensor_types_for_file_type};
use ruvltra_gguf::{
    GgmlType, Header, Limits, Summary, file_type_label, quant_label, read_header_from,
    read_model_header, split_name,
};

fn parse(w: &GgufWriter) -> Header {
    read_header_from(Cursor::new(w.header_bytes().unwrap()), &Limits::default()).unwrap()
}

#[test]
fn file_type_table() {
    assert_eq!(file_type_label(15), Some("Q4_K_M"));
    assert_eq!(file_type_label(30), Some("IQ4_XS"));
    assert_eq!(file_type_label(32), Some("BF16"));
    assert_eq!(file_type_label(7), Some("Q8_0"));
    assert_eq!(file_type_label(40), Some("Q1_0"));
    // Removed values, the first value past the table (41 today) and the runtime flag 1024.
    let next = FILE_TYPES
        .iter()
        .map(|(value, _)| value + 1)
        .max()
        .unwrap_or(0);
    for removed in [4, 5, 6, 33, 34, 35, next, 1024] {
        assert_eq!(file_type_label(removed), None, "{removed}");
    }
    assert_eq!(file_type_of_label("q4_k_m"), Some(15));
    for (value, label) in FILE_TYPES {
        assert_eq!(file_type_of_label(label), Some(*value));
    }
}

#[test]
fn label_from_file_type_is_not_guessed() {
    for &(value, label) in FILE_TYPES {
        let w = sample_model("qwen2", value, 2_000_000).unwrap();
        let q = quant_label(&parse(&w)).unwrap();
        assert_eq!((q.label, q.guessed), (label, false), "file type {value}");
    }
}

#[track_caller]
fn check_guess(file_type: u32, expect: &str) {
    let mut sample = SampleModel::new("llama", file_type, 2_000_000);
    sample.write_file_type = false;
    let header = parse(&sample.build().unwrap());
    assert!(header.get("general.file_type").is_none());
    let q = quant_label(&header).unwrap();
    assert_eq!(
        (q.label, q.guessed),
        (expect, true),
        "file type {file_type}"
    );
}

#[test]
fn label_guessed_from_tensor_types() {
    check_guess(15, "Q4_K_M");
    check_guess(14, "Q4_K_M");
    check_guess(17, "Q5_K_M");
    check_guess(12, "Q3_K_M");
    check_guess(18, "Q6_K");
    check_guess(7, "Q8_0");
    check_guess(1, "F16");
    check_guess(32, "BF16");
    check_guess(30, "IQ4_XS");
    check_guess(0, "F32");
}

#[test]
fn removed_file_type_falls_back_to_a_guess() {
    let mut w = sample_model("qwen2", 7, 2_000_000).unwrap();
    w.set_kv("general.file_type", 5u32);
    let header = parse(&w);
    let q = quant_label(&header).unwrap();
    assert_eq!((q.label, q.guessed), ("Q8_0", true));
    assert_eq!(Summary::from_header(&header).file_type, Some(5));
}

#[test]
fn dominant_type_ignores_norms_and_breaks_ties_stably() {
    let mut w = GgufWriter::new();
    for i in 0..5 {
        w.tensor(format!("n{i}"), &[256], GgmlType::F32);
    }
    w.tensor("a", &[256, 2], GgmlType::Q4_K)
        .tensor("b", &[256, 2], GgmlType::Q6_K)
        .tensor("c", &[256, 4], GgmlType::Q6_K)
        .tensor("d", &[256, 8], GgmlType::Q4_K);
    // Two of each; Q4_K has more elements.
    assert_eq!(
        dominant_tensor_type(&parse(&w).tensors),
        Some(GgmlType::Q4_K)
    );
    // Only 1-D tensors: they count.
    let mut w = GgufWriter::new();
    w.tensor("n", &[256], GgmlType::F16);
    assert_eq!(
        dominant_tensor_type(&parse(&w).tensors),
        Some(GgmlType::F16)
    );
    assert_eq!(dominant_tensor_type(&[]), None);
    // An unknown majority type gives no label.
    let mut w = GgufWriter::new();
    w.tensor_with_size("u", &[8, 8], GgmlType::Unknown(99), 8);
    assert_eq!(quant_label(&parse(&w)), None);
}

#[test]
fn every_file_type_has_sample_tensor_types() {
    for &(value, _) in FILE_TYPES {
        assert!(tensor_types_for_file_type(value).is_some(), "{value}");
    }
}

#[test]
fn summary_fields() {
    let mut w = sample_model("qwen2", 15, 3_000_000).unwrap();
    w.set_kv("general.name", "RuvLTRA Claude Code 0.5B")
        .set_kv("qwen2.context_length", 4096u64);
    let header = parse(&w);
    let s = Summary::from_header(&header);
    assert_eq!(s.version, 3);
    assert_eq!(s.architecture.as_deref(), Some("qwen2"));
    assert_eq!(s.name.as_deref(), Some("RuvLTRA Claude Code 0.5B"));
    assert_eq!(
        s.size_label,
        header.get_str("general.size_label").map(str::to_owned)
    );
    assert_eq!(
        s.quant.as_ref().map(|q| (q.label, q.guessed)),
        Some(("Q4_K_M", false))
    );
    assert_eq!(s.file_type, Some(15));
    assert_eq!(
        s.context_length,
        Some(4096),
        "a u64 context length is read too"
    );
    assert_eq!(s.parameter_count, w.parameter_count());
    assert!(s.has_chat_template);
    assert_eq!(s.license.as_deref(), Some("apache-2.0"));
    assert_eq!(s.tensor_count, header.tensors.len() as u64);
    assert_eq!(s.kv_count, header.metadata.len() as u64);
    assert_eq!(s.data_offset, w.layout().unwrap().data_offset);
    assert_eq!(s.split, None);

    let mut bare = SampleModel::new("llama", 1, 1_000_000);
    bare.chat_template = None;
    bare.license = None;
    let s = Summary::from_header(&parse(&bare.build().unwrap()));
    assert!(!s.has_chat_template);
    assert_eq!(s.license, None);
}

#[test]
fn split_names() {
    let n = split_name(Path::new("/m/ruvltra-7b-q4_k_m-00002-of-00003.gguf")).unwrap();
    assert_eq!((n.no, n.count), (2, 3));
    assert_eq!(
        n.first_shard,
        PathBuf::from("/m/ruvltra-7b-q4_k_m-00001-of-00003.gguf")
    );
    let n = split_name(Path::new("a-00001-of-00001.gguf")).unwrap();
    assert_eq!((n.no, n.count), (1, 1));
    for not_split in [
        "ruvltra-q4_k_m.gguf",
        "a-00000-of-00003.gguf",
        "a-00004-of-00003.gguf",
        "a-0001-of-00003.gguf",
        "a-00001-of-00003.gguf.part",
        "a-00001_of-00003.gguf",
        "-00001-of-00003.gguf",
        "a-0000x-of-00003.gguf",
        "a-00001-of-000003.gguf",
        "é-00001-of-0000é.gguf",
        "",
    ] {
        assert_eq!(split_name(Path::new(not_split)), None, "{not_split}");
    }
}

#[test]
fn split_keys_and_first_shard() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("m-00001-of-00002.gguf");
    let second = dir.path().join("m-00002-of-00002.gguf");
    let mut w = sample_model("qwen2", 7, 1_000_000).unwrap();
    w.kv("split.no", 0u16)
        .kv("split.count", 2u16)
        .kv("split.tensors.count", 99i32);
    w.write_file(&first).unwrap();
    let mut w2 = GgufWriter::new();
    w2.kv("split.no", 1u16)
        .kv("split.count", 2u16)
        .kv("split.tensors.count", 99i32)
        .tensor("late.weight", &[32, 2], GgmlType::Q8_0);
    w2.write_file(&second).unwrap();

    let (path, header) = read_model_header(&second).unwrap();
    assert_eq!(path, first);
    let s = Summary::from_header(&header);
    let split = s.split.unwrap();
    assert_eq!(
        (split.no, split.count, split.tensors_count),
        (0, 2, Some(99))
    );
    assert!(split.matches_name(&split_name(&first).unwrap()));
    assert!(!split.matches_name(&split_name(&second).unwrap()));
    assert_eq!(s.architecture.as_deref(), Some("qwen2"));

    let (path, header) = read_model_header(&first).unwrap();
    assert_eq!(path, first);
    assert_eq!(header.architecture(), Some("qwen2"));
}
