//! JSON pointers to the value a problem is about, built cheaply while checking and rendered
//! only when a problem is reported.

/// A JSON pointer that is only turned into text when a problem is reported, so that checking
/// a valid registry allocates nothing per value.
#[derive(Clone, Copy)]
pub(super) struct Pointer<'p> {
    parent: Option<&'p Pointer<'p>>,
    segment: Segment<'p>,
}

#[derive(Clone, Copy)]
enum Segment<'p> {
    Root,
    Key(&'p str),
    Index(usize),
}

impl<'p> Pointer<'p> {
    pub(super) const ROOT: Pointer<'static> = Pointer {
        parent: None,
        segment: Segment::Root,
    };

    pub(super) fn key(&'p self, key: &'p str) -> Pointer<'p> {
        Pointer {
            parent: Some(self),
            segment: Segment::Key(key),
        }
    }

    pub(super) fn index(&'p self, index: usize) -> Pointer<'p> {
        Pointer {
            parent: Some(self),
            segment: Segment::Index(index),
        }
    }

    pub(super) fn render(&self) -> String {
        let mut segments = Vec::new();
        let mut at = Some(self);
        while let Some(pointer) = at {
            segments.push(pointer.segment);
            at = pointer.parent;
        }
        let mut text = String::new();
        for segment in segments.iter().rev() {
            match segment {
                Segment::Root => {}
                Segment::Key(key) => {
                    // RFC 6901 escapes; only unknown keys from the file can hold these.
                    text.push('/');
                    text.push_str(&key.replace('~', "~0").replace('/', "~1"));
                }
                Segment::Index(index) => {
                    text.push('/');
                    text.push_str(&index.to_string());
                }
            }
        }
        text
    }
}

/// Where a file was first listed: its model and, for an extra file, its index there.
pub(super) type FileUse = (usize, Option<usize>);

pub(super) fn file_use_pointer((model, extra): FileUse) -> String {
    match extra {
        None => format!("/models/{model}/file"),
        Some(n) => format!("/models/{model}/extra_files/{n}/file"),
    }
}
