//! What one process remembers of the re-identification budget (see `budget`): the charges it
//! knows are booked, the public tier's disclosures it knows were withheld, and the users it knows
//! are locked, so repeats and common variants need no store access.

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
    /// Fingerprints the public tier's shared budget could not pay for. It never can later: what
    /// people have spent only grows, and the fingerprint names the carriers and counts.
    withheld: Mutex<HashSet<String>>,
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
            withheld: Mutex::new(HashSet::new()),
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

    pub(crate) fn remember(&self, user: &str, items: &[ChargeItem]) {
        remember_in(&self.seen, user, items);
    }

    /// Remembers public-tier disclosures the shared budget withheld.
    pub(crate) fn remember_withheld(&self, user: &str, items: &[ChargeItem]) {
        remember_in(&self.withheld, user, items);
    }

    /// Whether each item is disclosed (charged before) or withheld (withheld before), when every
    /// one is known; `None` when any is new.
    pub(crate) fn known_outcomes(&self, user: &str, items: &[ChargeItem]) -> Option<Vec<bool>> {
        let (seen, withheld) = (self.seen.lock().ok()?, self.withheld.lock().ok()?);
        items
            .iter()
            .map(|i| {
                let key = format!("{user}\0{}", i.fingerprint);
                if seen.contains(&key) { Some(true) } else { withheld.contains(&key).then_some(false) }
            })
            .collect()
    }
}

fn remember_in(set: &Mutex<HashSet<String>>, user: &str, items: &[ChargeItem]) {
    if let Ok(mut set) = set.lock() {
        if set.len() + items.len() > SEEN_ENTRIES {
            set.clear();
        }
        set.extend(items.iter().map(|i| format!("{user}\0{}", i.fingerprint)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(fingerprint: &str) -> ChargeItem {
        ChargeItem { fingerprint: fingerprint.into(), charges: Vec::new() }
    }

    #[test]
    fn outcomes_are_known_only_when_every_item_is() {
        let budget = Budget::new(true, 1.0, Some(0.5), 8);
        let (a, b, c) = (item("a"), item("b"), item("c"));
        assert_eq!(budget.known_outcomes("u", std::slice::from_ref(&a)), None);
        budget.remember("u", std::slice::from_ref(&a));
        budget.remember_withheld("u", std::slice::from_ref(&b));
        assert_eq!(budget.known_outcomes("u", &[a.clone(), b.clone()]), Some(vec![true, false]));
        assert_eq!(budget.known_outcomes("u", &[b.clone(), a.clone()]), Some(vec![false, true]));
        assert_eq!(budget.known_outcomes("u", &[a.clone(), c]), None, "c is new");
        assert_eq!(budget.known_outcomes("other", &[a]), None, "per user");
    }
}
