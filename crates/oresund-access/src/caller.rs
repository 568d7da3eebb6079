//! Who is asking: the outcome of authentication, whatever the mechanism behind it.

use std::collections::BTreeSet;

use crate::tier::Tier;

/// An authenticated (or anonymous) caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// Stable user id (for audit and budgets); `None` for anonymous callers.
    pub user: Option<String>,
    /// The passport's `sub` (a visa this node issues carries it); `None` for operator tokens.
    pub subject: Option<String>,
    /// Registered (bona fide) researcher.
    pub registered: bool,
    /// Datasets this caller holds controlled access to.
    pub controlled: BTreeSet<String>,
}

impl Caller {
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// The caller's tier for one dataset.
    pub fn tier(&self, dataset: &str) -> Tier {
        if self.controlled.contains(dataset) {
            Tier::Controlled
        } else if self.registered {
            Tier::Registered
        } else {
            Tier::Public
        }
    }

    /// A label for logs and audit: the user id or `anonymous`.
    pub fn label(&self) -> &str {
        self.user.as_deref().unwrap_or("anonymous")
    }
}
