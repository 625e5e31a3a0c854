//! Giving freed memory back to the system after a large, short-lived allocation (a jq filter's
//! parsed body). glibc keeps freed memory in its arenas — a blocking thread's arena above all —
//! so without this the process stays at its filter peak for as long as the result is open.

/// Returns the free memory of every malloc arena to the system (glibc's `malloc_trim(0)`).
/// Costs a few milliseconds after a large filter; does nothing where glibc is not the allocator.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub(crate) fn return_free_memory() {
    // SAFETY: malloc_trim takes a plain integer, touches only the allocator's own free lists
    // (under the allocator's locks, so it is safe to call from any thread at any time), and
    // returns an int we do not need. No Rust invariant is involved.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Returns the free memory of every malloc arena to the system (here: nothing to do).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn return_free_memory() {}
