//! Running the chunks of a large render on scoped threads, with a panicking thread reported
//! as a panic rather than as a problem of the registry.

use crate::Error;

/// Runs `work` on every chunk, each on a scoped thread of its own, and returns the results in
/// chunk order. A thread that panicked is [`Error::Panicked`] with the panic's message, never
/// mistaken for a problem of the registry or of the generated code.
pub(crate) fn on_threads<'a, T: Sync + 'a, R: Send>(
    chunks: impl Iterator<Item = &'a [T]>,
    work: impl Fn(&'a [T]) -> R + Sync,
) -> Result<Vec<R>, Error> {
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = chunks
            .map(|chunk| scope.spawn(move || work(chunk)))
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .map_err(|payload| Error::Panicked(panic_message(&*payload)))
            })
            .collect()
    })
}

/// The text of a panic's payload (`panic!` gives a `&str` or a `String`).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "no message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// A panicking render thread is reported as a panic with its message, not as generated
    /// code that does not parse (which sent people looking for a syntax bug).
    #[test]
    fn a_panicking_render_thread_is_reported_as_a_panic() {
        let numbers = [1, 2, 3, 4];
        let err = on_threads(numbers.chunks(2), |chunk| {
            assert!(chunk[0] != 3, "chunk {chunk:?} is broken");
            chunk.len()
        })
        .unwrap_err();
        assert!(matches!(err, Error::Panicked(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            "a render thread of ruvltra-codegen panicked (chunk [3, 4] is broken); this is a bug \
             in ruvltra-codegen, please report it"
        );
        assert_eq!(err.for_registry_file(Path::new("r.json")), err.to_string());
    }

    #[test]
    fn threads_return_their_results_in_chunk_order() {
        let numbers: Vec<u32> = (0..10).collect();
        let sums = on_threads(numbers.chunks(3), |chunk| chunk.iter().sum::<u32>()).unwrap();
        assert_eq!(sums, [3, 12, 21, 9]);
    }
}
