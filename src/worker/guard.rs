//! A panic inside one of the worker's tasks must not leave someone waiting for ever (the TUI's
//! request, `fhirside run`'s answer): [`guarded`] turns the panic into a sentence for whoever
//! waits, and [`in_guarded_task`] lets a panic hook know the panic is being handled.

use std::cell::Cell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::FutureExt;

thread_local! {
    static GUARDED: Cell<u32> = const { Cell::new(0) };
}

/// True while this thread is polling a [`guarded`] future: a panic now will be caught and
/// reported as a sentence, so a panic hook need not tear the terminal down.
pub fn in_guarded_task() -> bool {
    GUARDED.with(|g| g.get() > 0)
}

/// Marks the thread as guarded while the inner future is polled (boxed, so no unsafe pinning).
struct Marked<F>(Pin<Box<F>>);

impl<F: Future> Future for Marked<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        struct Reset;
        impl Drop for Reset {
            fn drop(&mut self) {
                GUARDED.with(|g| g.set(g.get().saturating_sub(1)));
            }
        }
        GUARDED.with(|g| g.set(g.get().saturating_add(1)));
        let _reset = Reset;
        self.0.as_mut().poll(cx)
    }
}

/// Runs `fut`; a panic inside it becomes `Err("WHAT failed unexpectedly …")`.
pub async fn guarded<T>(what: &str, fut: impl Future<Output = T>) -> Result<T, String> {
    AssertUnwindSafe(Marked(Box::pin(fut)))
        .catch_unwind()
        .await
        .map_err(|payload| sentence(what, payload.as_ref()))
}

/// [`guarded`] for blocking work on a thread of its own (an import): a panic inside `work`
/// becomes the same sentence, and the panic hook knows it is handled.
pub fn guarded_blocking<T>(what: &str, work: impl FnOnce() -> T) -> Result<T, String> {
    GUARDED.with(|g| g.set(g.get().saturating_add(1)));
    let result = std::panic::catch_unwind(AssertUnwindSafe(work));
    GUARDED.with(|g| g.set(g.get().saturating_sub(1)));
    result.map_err(|payload| sentence(what, payload.as_ref()))
}

fn sentence(what: &str, payload: &(dyn std::any::Any + Send)) -> String {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no detail".into());
    format!(
        "{what} failed unexpectedly (an internal error: {detail}); fhirside carries on — please report it."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_a_sentence_and_the_flag_is_reset() {
        let r: Result<(), String> = guarded("Sending", async { panic!("boom") }).await;
        let e = r.unwrap_err();
        assert!(e.contains("Sending failed unexpectedly"), "{e}");
        assert!(e.contains("boom"), "{e}");
        assert!(!in_guarded_task());
        assert_eq!(guarded("x", async { 7 }).await, Ok(7));
    }

    #[test]
    fn a_panic_in_blocking_work_becomes_a_sentence() {
        let seen = std::thread::spawn(|| {
            let r: Result<(), String> = guarded_blocking("The import", || {
                assert!(in_guarded_task());
                panic!("bad file")
            });
            (r, in_guarded_task())
        })
        .join()
        .unwrap();
        let e = seen.0.unwrap_err();
        assert!(
            e.contains("The import failed unexpectedly") && e.contains("bad file"),
            "{e}"
        );
        assert!(!seen.1);
    }
}
