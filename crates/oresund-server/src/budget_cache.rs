//! What one process remembers of the re-identification budget (see `budget`): the charges it
//! knows are booked and the users it knows are locked, so repeats and common variants need no
//! store access.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use oresund_store::ChargeItem;

use crate::error::BeaconError;

/// Fingerprints known to be charged, per process: repeats need no store access.
const SEEN_ENTRIES: usize = 100_000;
/// How long "this user is not locked" is believed before the store is asked again (another
/// process may have locked them).
const UNLOCKED_FOR: Duration = Duration::from_secs(1);

/// The budget of one node.
pub struct Budget {
    pub enabled: bool,
    /// Nats per (user, individual).
    pub limit: f64,
    /// Nats per individual of the public tier's shared budget; `None`: not kept.
    pub public: Option<f64>,
    /// The fewest carriers able to pay a public-tier "yes" is about.
    pub public_min_carriers: usize,
    seen: Mutex<HashSet<String>>,
    /// Per user: locked (for good), or not locked when last asked.
    locks: Mutex<HashMap<String, Option<Instant>>>,
}

impl Budget {
    pub fn new(enabled: bool, limit: f64, public: Option<f64>, public_min_carriers: usize) -> Self {
        Budget {
            enabled,
            limit,
            public,
            public_min_carriers,
            seen: Mutex::new(HashSet::new()),
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `user` is locked: remembered once seen, otherwise asked at most once a second.
    pub(crate) fn is_locked(&self, node: &oresund_node::node::Node, user: &str) -> Result<bool, BeaconError> {
        if let Ok(locks) = self.locks.lock() {
            match locks.get(user) {
                Some(None) => return Ok(true),
                Some(Some(asked)) if asked.elapsed() < UNLOCKED_FOR => return Ok(false),
                _ => {}
            }
        }
        let locked = node.budget_locked(user).map_err(BeaconError::from)?;
        self.set_locked(user, locked);
        Ok(locked)
    }

    pub(crate) fn set_locked(&self, user: &str, locked: bool) {
        if let Ok(mut locks) = self.locks.lock() {
            if locks.len() >= SEEN_ENTRIES {
                locks.clear();
            }
            locks.insert(user.to_string(), if locked { None } else { Some(Instant::now()) });
        }
    }

    pub(crate) fn all_seen(&self, user: &str, items: &[ChargeItem]) -> bool {
        let Ok(seen) = self.seen.lock() else { return false };
        items.iter().all(|i| seen.contains(&format!("{user}\0{}", i.fingerprint)))
    }

    pub(crate) fn remember(&self, user: &str, items: &[ChargeItem]) {
        if let Ok(mut seen) = self.seen.lock() {
            if seen.len() + items.len() > SEEN_ENTRIES {
                seen.clear();
            }
            seen.extend(items.iter().map(|i| format!("{user}\0{}", i.fingerprint)));
        }
    }
}
