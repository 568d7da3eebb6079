//! What opening a store did to its schema. A store is brought to the newest schema when it is
//! opened, one versioned step at a time, each step in its own transaction (a crash leaves the
//! store at the last whole step); this records where each part stood before and stands now, so
//! that `oresund migrate` can say what happened.

/// One separately versioned part of a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaVersion {
    /// What the part holds, for people (`catalog (node.db)`).
    pub part: &'static str,
    /// The version found when the store was opened (0: a new store).
    pub found: i64,
    /// The version now, the newest this build knows.
    pub current: i64,
}

impl SchemaVersion {
    /// Whether opening the store changed this part.
    pub fn migrated(&self) -> bool {
        self.found < self.current
    }
}
