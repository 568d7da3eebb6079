//! The server's one blocking edge: every call into the synchronous node API (catalog, archive,
//! access records, counting) goes through [`run`]; handlers use it as `AppState::blocking`.
//!
//! Why: the node is synchronous. Its catalog blocks on SQLite or PostgreSQL, and its archive drives
//! a private tokio runtime with `block_on`, which panics when called from async code. Calling it
//! on a runtime worker stalls that worker, and `tokio::task::block_in_place` panics on a
//! current-thread runtime. `spawn_blocking` moves the work to tokio's blocking pool, where all of
//! that is fine inside any runtime. One request makes one trip across the edge: the work done
//! there (the count, its audit record) stays synchronous on the blocking thread.
//!
//! The work keeps the request's id ([`RequestId::current`], for node faults) and the caller's
//! `tracing` dispatcher, so its log lines land where the request's do.
//!
//! One exception: a count of one variant on the embedded store is answered on the request's own
//! thread (`answer.rs`), since the trip across the edge cost more than the count. What it may
//! wait on the disk for — a budget charge's synced commit — goes through [`waiting_on_disk`].

use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::task::JoinError;

use crate::request_id::RequestId;

/// Runs `work` on tokio's blocking pool, under the current request id and log dispatcher.
/// Fails only when `work` panicked (or the runtime is shutting down).
pub async fn run<T, F>(work: F) -> Result<T, JoinError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let id = RequestId::current();
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    tokio::task::spawn_blocking(move || {
        tracing::dispatcher::with_default(&dispatch, || match id {
            Some(id) => id.sync_scope(work),
            None => work(),
        })
    })
    .await
}

/// Runs `work`, which waits on the disk, from synchronous code that may be running on a runtime
/// worker (a request answered in place): there the worker's other tasks move to another thread
/// for the while (`block_in_place`); on a blocking thread, a current-thread runtime (where
/// `block_in_place` panics) or outside any runtime, it simply runs.
pub fn waiting_on_disk<T>(work: impl FnOnce() -> T) -> T {
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(work),
        _ => work(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::waiting_on_disk;

    /// On a runtime of one worker, a task waiting on the disk in place leaves the worker to the
    /// others: here the one that lets it go (without the hand-over, it waits its five seconds).
    #[test]
    fn the_workers_other_tasks_run_while_one_waits_on_the_disk() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().expect("a runtime");
        let (let_go, held) = mpsc::channel::<()>();
        let waited = runtime.block_on(async move {
            let waiting = tokio::spawn(async move { waiting_on_disk(|| held.recv_timeout(Duration::from_secs(5))) });
            tokio::task::yield_now().await;
            tokio::spawn(async move { let_go.send(()) }).await.expect("the sender ran").expect("sent");
            waiting.await.expect("the waiting task ended")
        });
        assert_eq!(waited, Ok(()));
    }

    /// Where `block_in_place` would panic (a current-thread runtime) and outside any runtime, the
    /// work simply runs.
    #[test]
    fn it_runs_on_a_current_thread_runtime_and_outside_one() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
        assert_eq!(runtime.block_on(async { waiting_on_disk(|| 7) }), 7);
        assert_eq!(waiting_on_disk(|| 8), 8);
    }
}
