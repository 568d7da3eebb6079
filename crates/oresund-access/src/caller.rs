//! Who is asking: the outcome of authentication, whatever the mechanism behind it.

use std::collections::{BTreeMap, BTreeSet};

use crate::duo_match::ResearchPurpose;
use crate::tier::Tier;

/// Whose data a controlled-access grant reaches in its dataset. Consent is given per person, so a
/// grant for a purpose reaches only the people whose consent allows that purpose.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reach {
    /// Everyone in the dataset: an operator's token without a purpose (the node's own staff).
    Everyone,
    /// The people whose consent allows at least one of these purposes (one per grant held).
    Purposes(BTreeSet<ResearchPurpose>),
    /// A grant that states no purpose (a visa of another issuer without `oresund_purpose`): only
    /// the people whose consent allows every purpose — no consent condition can be checked.
    Unstated,
}

impl Reach {
    /// The reach of holding both grants: a person either reaches is reached.
    pub fn union(self, other: Reach) -> Reach {
        match (self, other) {
            (Reach::Everyone, _) | (_, Reach::Everyone) => Reach::Everyone,
            (Reach::Purposes(mut a), Reach::Purposes(b)) => {
                a.extend(b);
                Reach::Purposes(a)
            }
            // Whoever allows every purpose allows any one purpose too.
            (Reach::Purposes(a), Reach::Unstated) | (Reach::Unstated, Reach::Purposes(a)) => Reach::Purposes(a),
            (Reach::Unstated, Reach::Unstated) => Reach::Unstated,
        }
    }

    /// A reach for one purpose.
    pub fn purpose(purpose: ResearchPurpose) -> Reach {
        Reach::Purposes(BTreeSet::from([purpose]))
    }
}

/// An authenticated (or anonymous) caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// Stable user id (for audit and budgets); `None` for anonymous callers.
    pub user: Option<String>,
    /// The passport's `sub` (a visa this node issues carries it); `None` for operator tokens.
    pub subject: Option<String>,
    /// Registered (bona fide) researcher.
    pub registered: bool,
    /// A clinician of this node: may submit matchmaking cases and ask for matches.
    pub clinician: bool,
    /// Datasets this caller holds controlled access to, and whose data in each the grants reach.
    pub controlled: BTreeMap<String, Reach>,
    /// Why a credential gives less than it seems to (a self-asserted researcher status, a revoked
    /// visa that was ignored...): told to the caller in `info.warnings`.
    pub notes: Vec<String>,
    /// Grants of this node that the credential carried but that no longer hold (revoked), by
    /// dataset: the audit log records each use.
    pub ignored_grants: Vec<IgnoredGrant>,
    /// The credential was made for this very node: a passport whose `aud` names it (not only its
    /// network), or an operator token configured here. Committee actions need it.
    pub for_this_node: bool,
}

/// A visa of this node's committee that was left out of a caller's rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredGrant {
    pub jti: String,
    /// The dataset the visa names, when this node knows it.
    pub dataset: Option<String>,
    pub why: String,
}

impl Caller {
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// The caller's tier for one dataset.
    pub fn tier(&self, dataset: &str) -> Tier {
        if self.controlled.contains_key(dataset) {
            Tier::Controlled
        } else if self.registered {
            Tier::Registered
        } else {
            Tier::Public
        }
    }

    /// Whose data in `dataset` the caller's grants reach (`None` below CONTROLLED).
    pub fn reach(&self, dataset: &str) -> Option<&Reach> {
        self.controlled.get(dataset)
    }

    /// A label for logs and audit: the user id or `anonymous`.
    pub fn label(&self) -> &str {
        self.user.as_deref().unwrap_or("anonymous")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hmb() -> ResearchPurpose {
        ResearchPurpose { purpose: "HMB".into(), disease: None, commercial: false, methods: false }
    }

    #[test]
    fn grants_on_one_dataset_add_up() {
        let gru = ResearchPurpose { purpose: "GRU".into(), ..hmb() };
        assert_eq!(Reach::purpose(hmb()).union(Reach::Everyone), Reach::Everyone);
        assert_eq!(Reach::Unstated.union(Reach::purpose(hmb())), Reach::purpose(hmb()));
        assert_eq!(
            Reach::purpose(hmb()).union(Reach::purpose(gru.clone())),
            Reach::Purposes(BTreeSet::from([hmb(), gru]))
        );
        assert_eq!(Reach::Unstated.union(Reach::Unstated), Reach::Unstated);
    }
}
