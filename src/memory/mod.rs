//! Memory: the process's allocator (glibc, with a heap of its own for jq and FHIRPath filters)
//! and giving freed memory back to the system. The crate's `unsafe` code is all here.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod filter_heap;
pub(crate) mod trim;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[global_allocator]
static ALLOCATOR: filter_heap::Allocator = filter_heap::Allocator;

/// Runs `work` (a filter) with this thread's allocations on the filter heap; its free pages go
/// back to the system when `work` returns. What `work` makes may outlive it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn on_filter_heap<T>(work: impl FnOnce() -> T) -> T {
    filter_heap::on_filter_heap(work)
}

/// Gives the filter heap's free pages back to the system now (a filter calls it once its
/// result exists; `on_filter_heap` does it again at the end).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn give_back_filter_pages() {
    filter_heap::collect();
}

/// Gives free pages back (here: nothing to do).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn give_back_filter_pages() {}

/// Runs `work` (here: with the one allocator there is).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn on_filter_heap<T>(work: impl FnOnce() -> T) -> T {
    work()
}
