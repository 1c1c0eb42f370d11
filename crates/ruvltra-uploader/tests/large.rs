//! Multi-GB full-precision files, written sparse so the tests stay cheap: the GGUF header
//! checks read only the header (offsets past 4 GiB included), and a file over the Hub's
//! per-file limit is refused before it is hashed. Hashing a multi-GB file in a test is I/O
//! heavy and is left to the streaming-hash unit tests and the `hash_speed` example.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use ruvltra_gguf::writer::SampleModel;
use ruvltra_registry::Quant;
use ruvltra_uploader::{
    Event, Expected, FileKind, MAX_FILE_BYTES, ModelUploader, PublishOptions, UploadError,
    check_gguf,
};

const BIG: Spec = Spec::new("large", "3b", Quant::F16);

#[test]
fn a_sparse_5_gib_f16_passes_the_header_checks_without_reading_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(BIG.file());
    // 2.7 billion F16 parameters: about 5 GiB of tensor data, all of it a hole in the file.
    SampleModel::new("qwen2", Quant::F16.file_type(), 2_700_000_000)
        .build()
        .unwrap()
        .write_file(&path)
        .unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    assert!(len > 5 * (1 << 30), "{len}");

    let mut expected = Expected::new(BIG.file(), &path, FileKind::GgufModel);
    expected.quant = Some("f16".into());
    expected.architecture = Some("qwen2".into());
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    let facts = check_gguf(&expected, len, &mut errors, &mut warnings).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(facts.quant.as_deref(), Some("F16"));
    assert_eq!(facts.architecture.as_deref(), Some("qwen2"));

    // One byte short: the last tensor no longer fits, and that is found from the header alone.
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(len - 1).unwrap();
    let mut errors = Vec::new();
    assert!(check_gguf(&expected, len - 1, &mut errors, &mut Vec::new()).is_none());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("past the file length") || errors[0].contains("does not fit the file"),
        "{errors:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_over_the_hub_limit_is_refused_without_hashing_it() {
    let fx = Fixture::new();
    let path = fx.write_sample(&BIG, 1);
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(MAX_FILE_BYTES + 1).unwrap();

    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let uploader = ModelUploader::with_client(fx.client()).observer(Arc::new(move |e: Event| {
        seen.lock().unwrap().push(format!("{e:?}"));
    }));
    let err = uploader
        .publish(&registry(&[BIG]), &fx.files, &PublishOptions::default())
        .await
        .unwrap_err();
    let UploadError::Checks(problems) = &err else {
        panic!("expected check problems, got {err}");
    };
    assert_eq!(problems.len(), 1, "{err}");
    assert_eq!(problems[0].path, BIG.file());
    assert!(problems[0].message.contains("split it"), "{err}");
    let events = events.lock().unwrap();
    assert!(
        !events.iter().any(|e| e.contains("HashStart")),
        "{events:?}"
    );
    assert_eq!(fx.stats().api_requests, 0);
}
