//! Giving freed memory back to the system after a large, short-lived allocation (a jq filter's
//! parsed body). glibc keeps freed memory in its arenas — a blocking thread's arena above all —
//! so without this the process stays at its filter peak for as long as the result is open.
//! (What a filter makes is on the filter heap, which gives its pages back when the filter ends;
//! this covers what glibc served all the same, such as a filter that outgrew that heap.)
//! Also the heap step for `fhirside import`, a short-lived command.

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

/// Makes malloc grow its heaps `bytes` at a time instead of by what each allocation needs.
/// Parsing a 50 MB collection allocates some hundred MB in small pieces on a blocking thread,
/// whose arena glibc grows with one `mprotect` per growth: 74,000 calls (0.23 s of system time,
/// `strace -f -c`) for the 23,000-request import benchmark, 33 with 64 MiB steps. For
/// short-lived commands only (`fhirside import`): setting it also turns off glibc's adaptive
/// mmap threshold, and a long-lived process would keep up to `bytes` of freed memory per arena.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub(crate) fn grow_heaps_in_steps(bytes: usize) {
    let value = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt takes two plain integers and changes only the allocator's own tuning
    // (under the allocator's lock); it returns 0 when the value is refused, which only leaves
    // the default. No Rust invariant is involved.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, value);
    }
}

/// Makes malloc grow its heaps in larger steps (here: nothing to do).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn grow_heaps_in_steps(_bytes: usize) {}
