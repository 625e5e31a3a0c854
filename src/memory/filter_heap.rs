//! The process's allocator: glibc's malloc, except while a thread runs a jq or FHIRPath filter,
//! when its allocations come from a heap of their own (mimalloc, in one region reserved for it).
//!
//! Why: a whole-tree filter turns a 47 MB body into ~400 MB of small jq values in well under a
//! second. glibc grows a blocking thread's arena with one `mprotect` per 4 KiB page as well as
//! the page fault (`F .entry | length` 641–891 ms that way, 447–560 ms on this heap, side by
//! side in the real binary). The region is mapped readable and writable up front, so mimalloc
//! only ever takes the page faults. Nothing but filters use it, and mimalloc purges its free
//! pages when a filter ends, so the rest of the process keeps glibc's figures (mimalloc for the
//! whole process made the loaded and folded views 60% bigger). Transparent huge pages
//! (`MADV_HUGEPAGE` on the region) were measured and not kept: their first touch took 40 ms to
//! 1.1 s for 400 MiB on the 2-core test machine, against a steady 180–290 ms for small pages.
//! No crate routes one thread's allocations to another allocator, hence by hand.
//!
//! Safety rests on one rule: a block belongs to the region's heap if and only if its address
//! lies in the region. Every block the heap hands out is checked to lie there (mimalloc's
//! exclusive arena never goes to the OS, and anything else is given back and taken from glibc),
//! and every free and realloc is routed by the address alone — never by which thread frees or
//! whether a filter is still running.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::c_void;
use std::sync::Once;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use libmimalloc_sys as mi;

/// Virtual size of the region: address space only, pages are taken as they are touched.
/// A filter whose values outgrow it carries on with glibc. (mimalloc manages a little under
/// 16 GiB in one arena.)
const REGION_BYTES: usize = 8 << 30;
/// mimalloc's arenas are made of 64 KiB slices, aligned to their size.
const SLICE: usize = 64 << 10;

/// The region's first byte; 0 until it is set up. One atomic, not a start and an end: a free
/// on another thread between two stores could otherwise see a start of 0 and an end already
/// set, and take every glibc block below the region for the heap's.
static REGION_START: AtomicUsize = AtomicUsize::new(0);
static HEAP: AtomicPtr<mi::mi_heap_t> = AtomicPtr::new(std::ptr::null_mut());
static SET_UP: Once = Once::new();

thread_local! {
    /// Whether this thread's allocations go to the filter heap. `const` and without a
    /// destructor, so reading it never allocates and works while the thread exits.
    static IN_FILTER: Cell<bool> = const { Cell::new(false) };
}

/// The allocator `memory/mod.rs` installs.
pub(crate) struct Allocator;

/// Runs `work` with this thread's allocations on the filter heap, then gives the heap's free
/// pages back to the system. Values made inside may outlive it (they are freed by address).
pub(crate) fn on_filter_heap<T>(work: impl FnOnce() -> T) -> T {
    SET_UP.call_once(set_up);
    if HEAP.load(Ordering::Acquire).is_null() {
        return work();
    }
    struct Leave(bool);
    impl Drop for Leave {
        fn drop(&mut self) {
            IN_FILTER.set(self.0);
            if !self.0 {
                collect();
            }
        }
    }
    let _leave = Leave(IN_FILTER.replace(true));
    work()
}

/// Frees the heap's empty pages and purges them now (not after mimalloc's delay). Also called
/// by a filter between its result and freeing its input, so what the evaluation freed is back
/// with the system by the time the result is on screen. Only for a filter's own thread:
/// mimalloc collects the calling thread's part of the heap, and on a thread that has none it
/// would make one (a 64 KiB slice of the region).
pub(crate) fn collect() {
    let heap = HEAP.load(Ordering::Acquire);
    if !heap.is_null() {
        // SAFETY: `heap` was made by mi_heap_new_in_arena and is never deleted; mimalloc's
        // heaps may be collected from any thread.
        unsafe { mi::mi_heap_collect(heap, true) };
    }
}

/// Reserves the region and makes the heap; on any failure the heap stays null and filters use
/// glibc as before.
fn set_up() {
    // SAFETY: an anonymous private mapping at an address of the kernel's choosing overlaps
    // nothing of ours; MAP_NORESERVE makes it address space only.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            REGION_BYTES + SLICE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return;
    }
    let start = (base as usize).next_multiple_of(SLICE);
    let start_ptr = start as *mut c_void;
    let mut arena: mi::mi_arena_id_t = std::ptr::null_mut();
    // SAFETY: the memory is ours, readable and writable (committed), zeroed, and handed to
    // mimalloc for good; `exclusive` keeps every other heap out of it.
    let managed = unsafe {
        mi::mi_manage_os_memory_ex(
            start_ptr,
            REGION_BYTES,
            true,
            false,
            true,
            -1,
            true,
            &mut arena,
        )
    };
    if !managed {
        return;
    }
    // SAFETY: `arena` is the id mimalloc just gave us.
    let heap = unsafe { mi::mi_heap_new_in_arena(arena) };
    if heap.is_null() {
        return;
    }
    REGION_START.store(start, Ordering::Release);
    HEAP.store(heap, Ordering::Release);
}

fn in_region(p: *const u8) -> bool {
    let start = REGION_START.load(Ordering::Acquire);
    start != 0 && (p as usize).wrapping_sub(start) < REGION_BYTES
}

/// The heap, when this thread is running a filter.
fn filter_heap() -> Option<*mut mi::mi_heap_t> {
    if !IN_FILTER.try_with(Cell::get).unwrap_or(false) {
        return None;
    }
    let heap = HEAP.load(Ordering::Acquire);
    (!heap.is_null()).then_some(heap)
}

/// `p` from the heap if it lies in the region; anything else is freed and refused.
fn checked(p: *mut c_void) -> Option<*mut u8> {
    let p = p.cast::<u8>();
    if p.is_null() {
        return None;
    }
    if in_region(p) {
        return Some(p);
    }
    // SAFETY: `p` is a live block mimalloc just returned to us and nobody else has seen.
    unsafe { mi::mi_free(p.cast()) };
    None
}

// SAFETY: every block is freed by the allocator that made it, told apart by its address (see
// the module's doc); glibc's side is `System` unchanged.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if let Some(heap) = filter_heap() {
            // SAFETY: a live heap; size and alignment come from a valid Layout.
            let p = unsafe { mi::mi_heap_malloc_aligned(heap, layout.size(), layout.align()) };
            if let Some(p) = checked(p) {
                return p;
            }
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if let Some(heap) = filter_heap() {
            // SAFETY: as in alloc.
            let p = unsafe { mi::mi_heap_zalloc_aligned(heap, layout.size(), layout.align()) };
            if let Some(p) = checked(p) {
                return p;
            }
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if in_region(ptr) {
            // SAFETY: a block in the region was made by the heap (see `checked`); mimalloc
            // frees from any thread.
            unsafe { mi::mi_free(ptr.cast()) }
        } else {
            // SAFETY: any other block was made by System.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !in_region(ptr) {
            // SAFETY: a System block stays with System, whoever grows it.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        if let Some(heap) = filter_heap() {
            // SAFETY: `ptr` is the heap's (it lies in the region); an exclusive-arena heap
            // answers in the region or null, and on null `ptr` is untouched.
            let p =
                unsafe { mi::mi_heap_realloc_aligned(heap, ptr.cast(), new_size, layout.align()) };
            if !p.is_null() {
                if in_region(p.cast()) {
                    return p.cast();
                }
                // Cannot happen (the arena is exclusive). `ptr` is already freed, so a null
                // answer would let the caller go on using it: move the block or stop.
                // SAFETY: `p` is a live heap block of at least `new_size` bytes.
                let moved = unsafe { move_to_system(p.cast(), layout, new_size) };
                if moved.is_null() {
                    std::process::abort();
                }
                return moved;
            }
        }
        // Outside a filter (or the region is full): the block moves to System.
        // SAFETY: `ptr` is a live heap block of `layout`.
        unsafe { move_to_system(ptr, layout, new_size) }
    }
}

/// Copies a heap block of (at least) `layout` into a new System block of `new_size` bytes and
/// frees it; null (and the block kept) if System has no memory.
///
/// # Safety
/// `block` is a live block of the heap; `new_size` with `layout.align()` is a valid layout
/// (GlobalAlloc::realloc's own contract).
unsafe fn move_to_system(block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
    // SAFETY: the caller's contract.
    let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
    // SAFETY: two live, distinct blocks, each of at least the bytes copied.
    unsafe {
        let moved = System.alloc(new_layout);
        if !moved.is_null() {
            std::ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
            mi::mi_free(block.cast());
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_up_here() {
        on_filter_heap(|| ());
        assert!(
            !HEAP.load(Ordering::Acquire).is_null(),
            "the region was not set up"
        );
    }

    #[test]
    fn blocks_made_in_a_filter_lie_in_the_region_and_others_do_not() {
        set_up_here();
        let outside: Vec<u8> = std::iter::repeat_n(1, 100).collect();
        let inside = on_filter_heap(|| vec![2u8; 100]);
        assert!(in_region(inside.as_ptr()));
        assert!(!in_region(outside.as_ptr()));
        let after: Vec<u8> = std::iter::repeat_n(3, 100).collect();
        assert!(!in_region(after.as_ptr()));
    }

    #[test]
    fn a_filter_block_grown_after_the_filter_moves_to_glibc_intact() {
        set_up_here();
        let mut v: Vec<u64> = on_filter_heap(|| (0..1000).collect());
        assert!(in_region(v.as_ptr().cast()));
        v.extend(1000..100_000);
        assert!(!in_region(v.as_ptr().cast()));
        assert!(v.iter().copied().eq(0..100_000));
    }

    #[test]
    fn a_glibc_block_grown_in_a_filter_stays_with_glibc_intact() {
        set_up_here();
        let mut v: Vec<u64> = (0..1000).collect();
        on_filter_heap(|| v.extend(1000..100_000));
        assert!(!in_region(v.as_ptr().cast()));
        assert!(v.iter().copied().eq(0..100_000));
    }

    #[test]
    fn a_filter_block_grown_in_a_filter_stays_in_the_region_intact() {
        set_up_here();
        let v = on_filter_heap(|| {
            let mut v: Vec<u64> = (0..10).collect();
            v.extend(10..100_000);
            v
        });
        assert!(in_region(v.as_ptr().cast()));
        assert!(v.iter().copied().eq(0..100_000));
    }

    #[test]
    fn filter_blocks_are_freed_on_other_threads() {
        set_up_here();
        let made: Vec<String> = on_filter_heap(|| (0..10_000).map(|i| i.to_string()).collect());
        assert!(made.iter().all(|s| in_region(s.as_ptr())));
        let joined = std::thread::spawn(move || {
            let sum: usize = made.iter().map(String::len).sum();
            drop(made);
            sum
        })
        .join();
        assert_eq!(joined.ok(), Some(38_890));
        // The heap still works after those frees.
        let again = on_filter_heap(|| vec![7u8; 1000]);
        assert!(in_region(again.as_ptr()) && again.iter().all(|&b| b == 7));
    }

    #[test]
    fn zeroed_blocks_are_zero_even_on_reused_memory() {
        set_up_here();
        on_filter_heap(|| {
            for _ in 0..4 {
                drop(vec![0xffu8; 1 << 20]);
                let z = vec![0u8; 1 << 20];
                assert!(in_region(z.as_ptr()));
                assert!(z.iter().all(|&b| b == 0));
            }
        });
    }

    #[test]
    fn a_block_too_large_for_the_heap_comes_from_glibc() {
        set_up_here();
        // Address space only: the pages are never touched.
        let big: Vec<u8> = on_filter_heap(|| Vec::with_capacity(3 << 30));
        assert!(!in_region(big.as_ptr()));
    }

    #[test]
    fn a_nested_filter_keeps_routing_until_the_outer_one_ends() {
        set_up_here();
        let (inner, after_inner) =
            on_filter_heap(|| (on_filter_heap(|| vec![1u8; 10]), vec![2u8; 10]));
        assert!(in_region(inner.as_ptr()) && in_region(after_inner.as_ptr()));
    }

    /// Pages of `[start, start + len)` that are resident, by `mincore`.
    fn resident_pages(start: usize, len: usize) -> usize {
        let page = 4096;
        let first = start / page * page;
        let pages = (start + len - first).div_ceil(page);
        let mut map = vec![0u8; pages];
        // SAFETY: the range lies in the region's mapping (the caller's block did), and `map`
        // has one byte per page of it.
        let r = unsafe { libc::mincore(first as *mut c_void, pages * page, map.as_mut_ptr()) };
        assert_eq!(r, 0);
        map.iter().filter(|&&b| b & 1 == 1).count()
    }

    #[test]
    fn a_filters_memory_goes_back_to_the_system_when_it_ends() {
        set_up_here();
        let len = 64 << 20;
        let start = on_filter_heap(|| {
            // Many small blocks, as a parsed body is: 64 MiB of 64-byte boxes.
            let blocks: Vec<Box<[u8; 64]>> = (0..len / 64).map(|_| Box::new([1u8; 64])).collect();
            let lowest = blocks
                .iter()
                .map(|b| b.as_ptr() as usize)
                .min()
                .unwrap_or(0);
            assert!(resident_pages(lowest, len) > len / 4096 / 2);
            lowest
        });
        // Other tests' filters may touch a few of these pages meanwhile, not thousands.
        let left = resident_pages(start, len);
        assert!(
            left < len / 4096 / 8,
            "{left} of {} pages still resident",
            len / 4096
        );
    }
}
