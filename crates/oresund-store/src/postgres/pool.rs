//! A small bounded pool of synchronous PostgreSQL connections, each with its prepared
//! statements cached (a statement prepared once per connection saves a round trip per query).
//!
//! Bounded because every `serve` process of a node shares the server's `max_connections`:
//! N processes × `pool_size` (+1 for the writer lock while an ingest runs) must fit.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use postgres::{Client, NoTls, Statement};

use super::options::PostgresOptions;
use crate::error::{Result, StoreError};

/// One connection and the statements prepared on it.
pub(crate) struct Conn {
    pub client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Conn {
    /// `sql` prepared on this connection (once).
    pub fn statement(&mut self, sql: &'static str) -> Result<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }
}

struct State {
    idle: Vec<Conn>,
    /// Connections open, idle or lent.
    open: usize,
}

pub(crate) struct Pool {
    config: postgres::Config,
    target: String,
    options: PostgresOptions,
    state: Mutex<State>,
    returned: Condvar,
}

impl Pool {
    pub fn new(options: &PostgresOptions) -> Result<Self> {
        if options.pool_size == 0 {
            return Err(StoreError::Conflict("[catalog] pool_size must be at least 1".into()));
        }
        Ok(Pool {
            config: options.client_config()?,
            target: options.display_url(),
            options: options.clone(),
            state: Mutex::new(State { idle: Vec::new(), open: 0 }),
            returned: Condvar::new(),
        })
    }

    /// A new connection outside the pool (for the session-long writer lock).
    pub fn connect(&self) -> Result<Client> {
        self.config.connect(NoTls).map_err(|source| StoreError::Connect { target: self.target.clone(), source })
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>> {
        self.state.lock().map_err(|_| StoreError::Corrupt("connection pool poisoned".into()))
    }

    /// A connection, waiting up to `acquire_timeout` when all `pool_size` are lent.
    pub fn get(&self) -> Result<Pooled<'_>> {
        let deadline = Instant::now() + self.options.acquire_timeout;
        let mut state = self.lock()?;
        loop {
            if let Some(conn) = state.idle.pop() {
                if conn.client.is_closed() {
                    state.open -= 1;
                    continue;
                }
                return Ok(Pooled { pool: self, conn: Some(conn) });
            }
            if state.open < self.options.pool_size {
                state.open += 1;
                drop(state);
                return match self.connect() {
                    Ok(client) => Ok(Pooled { pool: self, conn: Some(Conn { client, statements: HashMap::new() }) }),
                    Err(e) => {
                        self.lock()?.open -= 1;
                        self.returned.notify_one();
                        Err(e)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(StoreError::PoolExhausted {
                    size: self.options.pool_size,
                    waited_s: self.options.acquire_timeout.as_secs(),
                });
            }
            state = self
                .returned
                .wait_timeout(state, deadline - now)
                .map_err(|_| StoreError::Corrupt("connection pool poisoned".into()))?
                .0;
        }
    }
}

impl Drop for Pool {
    /// Closing a synchronous client blocks on its own runtime, which panics inside an async
    /// context (a server drops its node when its runtime shuts down): close them on a plain thread.
    fn drop(&mut self) {
        let idle = match self.state.get_mut() {
            Ok(state) => std::mem::take(&mut state.idle),
            Err(poisoned) => std::mem::take(&mut poisoned.into_inner().idle),
        };
        if !idle.is_empty() {
            let _ = std::thread::spawn(move || drop(idle)).join();
        }
    }
}

/// A connection lent by the pool; returned when dropped (closed ones are not kept).
pub(crate) struct Pooled<'a> {
    pool: &'a Pool,
    conn: Option<Conn>,
}

impl Deref for Pooled<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn.as_ref().expect("present until drop")
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("present until drop")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let (Some(conn), Ok(mut state)) = (self.conn.take(), self.pool.state.lock()) {
            if conn.client.is_closed() {
                state.open -= 1;
            } else {
                state.idle.push(conn);
            }
            self.pool.returned.notify_one();
        }
    }
}
