//! The quant table against gguf-py (llama.cpp's own Python package): every `LlamaFileType`
//! that a file can carry is a [`Quant`] with the same number and name, and every tensor type
//! the table names is one of gguf-py's `GGMLQuantizationType`s.

use std::collections::BTreeMap;

use ruvltra_vocab::Quant;

/// Prints `file_type NAME` for each stored `LlamaFileType` (`GUESSED`, 1024, is a runtime flag)
/// and `tensor NAME` for each `GGMLQuantizationType`.
const SCRIPT: &str = r#"
import gguf
for ft in gguf.LlamaFileType:
    if ft.value < 1024:
        print("file_type", ft.value, ft.name.removeprefix("MOSTLY_").removeprefix("ALL_"))
for t in gguf.GGMLQuantizationType:
    print("tensor", t.value, t.name)
"#;

#[test]
fn the_quant_table_agrees_with_gguf_py() {
    let python = dev_python::Python::with_modules(&["gguf"]);
    let out = python.snippet(SCRIPT).run().stdout;
    let mut theirs = BTreeMap::new();
    let mut tensor_types = Vec::new();
    for line in out.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["file_type", value, name] => {
                theirs.insert(value.parse::<u32>().unwrap(), (*name).to_owned());
            }
            ["tensor", _, name] => tensor_types.push((*name).to_owned()),
            _ => panic!("unexpected line from gguf-py: {line:?}"),
        }
    }
    let ours: BTreeMap<u32, String> = Quant::ALL
        .iter()
        .map(|q| (q.file_type(), q.name().to_owned()))
        .collect();
    assert_eq!(
        ours, theirs,
        "the quants! table of crates/ruvltra-vocab/src/quant.rs differs from gguf-py's LlamaFileType"
    );
    for quant in Quant::ALL {
        let (main, mix) = quant.tensor_types();
        for name in std::iter::once(main).chain(mix) {
            assert!(
                tensor_types.iter().any(|t| t == name),
                "{quant:?} names tensor type {name}, which gguf-py does not know"
            );
        }
    }
}
