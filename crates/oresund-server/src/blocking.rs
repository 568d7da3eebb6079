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
