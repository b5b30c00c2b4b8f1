//! The process's allocator, and handing memory back to the system.
//!
//! mimalloc serves the LRS's many small, short-lived JSON nodes per
//! statement far better than the system allocator. It keeps pages a thread
//! freed for that thread's next allocations, and returns them to the
//! system only when the thread allocates again after a delay. An analytics
//! request is a burst: it works on about 10 MB (one view per learner of the
//! course) on a blocking thread that may then sit idle, so without
//! [`release_freed`] each such thread kept its burst resident (measured:
//! +25 MiB of RSS after the dashboard's queries at 1.1 M statements).
//!
//! Transparent huge pages are left off (the crate's `no_thp` feature):
//! with them, every 2 MiB region mimalloc touched stayed resident whole
//! (measured: 112 of the 145 MiB of a serving process's heap in huge
//! pages, about 20 MiB more in all).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Returns to the system the memory the calling thread has freed; for the
/// end of a burst of allocations on a thread that may then stay idle.
pub fn release_freed() {
    // SAFETY: `mi_collect` takes no pointer and has no precondition; it
    // only walks the allocator's own structures.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// Calls [`release_freed`] every `period`, on whichever async thread runs
/// it. Memory freed on another thread than the one that allocated it (a
/// response body, built on a blocking thread and dropped once sent) goes
/// back to the allocator's shared pool, which is handed back to the system
/// only when some thread next allocates or collects: an idle server kept
/// its last export's body (measured: +18 MiB after the progress table at
/// 1.1 M statements).
pub async fn release_freed_every(period: std::time::Duration) {
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        release_freed();
    }
}
