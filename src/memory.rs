//! Giving memory back to the system: the one module of the crate that uses `unsafe`.
//!
//! A log-in check runs argon2id, whose work area is `argon2.memory_kib` (19 MiB by default)
//! allocated and freed on a password thread. The global allocator (mimalloc) keeps freed
//! pages of a thread for that thread's next allocations and returns them to the system only
//! when that thread allocates or frees again; a password thread that has just finished a
//! check sleeps until the next log-in, so the work area would stay resident for good.
//! [`release_freed`] asks mimalloc to return it at once.

#![allow(unsafe_code)]

/// Returns the memory this thread has freed (and the allocator's free pages) to the system.
/// Cheap next to an argon2 check (it walks the calling thread's heap, which on a password
/// thread holds almost nothing). Without mimalloc as the global allocator (the library's
/// test binaries use the system allocator) it only tidies mimalloc's own empty heap.
pub fn release_freed() {
    // SAFETY: `mi_collect` takes no pointer and has no precondition: it may be called from
    // any thread at any time, and only frees memory that the program has already freed
    // (it never touches a live allocation). It is the documented way to ask mimalloc to
    // return cached memory to the operating system.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
