//! Security tiers and response granularity (Beacon v2 framework: `securityLevel` PUBLIC /
//! REGISTERED / CONTROLLED; `Granularity` boolean / count / record).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How much a response may say, in increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// Nothing at all: the dataset is not visible to this caller.
    None,
    Boolean,
    Count,
    Record,
}

impl Granularity {
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::None => "none",
            Granularity::Boolean => "boolean",
            Granularity::Count => "count",
            Granularity::Record => "record",
        }
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("granularity must be boolean, count or record, got {0:?}")]
pub struct GranularityError(pub String);

impl FromStr for Granularity {
    type Err = GranularityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "boolean" => Ok(Granularity::Boolean),
            "count" => Ok(Granularity::Count),
            "record" => Ok(Granularity::Record),
            "none" => Ok(Granularity::None),
            _ => Err(GranularityError(s.to_string())),
        }
    }
}

/// A caller's standing for one dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Tier {
    /// Anyone, unauthenticated.
    Public,
    /// An authenticated, registered researcher (GA4GH: bona fide researcher status).
    Registered,
    /// A caller granted access to this dataset.
    Controlled,
}

impl Tier {
    /// The Beacon v2 `securityLevel` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Public => "PUBLIC",
            Tier::Registered => "REGISTERED",
            Tier::Controlled => "CONTROLLED",
        }
    }
}

/// The most each tier may see of one dataset. Defaults: anonymous callers boolean answers,
/// registered callers counts, controlled callers records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatasetPolicy {
    pub public: Granularity,
    pub registered: Granularity,
    pub controlled: Granularity,
}

impl Default for DatasetPolicy {
    fn default() -> Self {
        Self { public: Granularity::Boolean, registered: Granularity::Count, controlled: Granularity::Record }
    }
}

impl DatasetPolicy {
    /// What a caller of `tier` gets when asking for `requested`.
    pub fn granted(&self, tier: Tier, requested: Granularity) -> Granularity {
        let ceiling = match tier {
            Tier::Public => self.public,
            Tier::Registered => self.registered.max(self.public),
            Tier::Controlled => self.controlled.max(self.registered).max(self.public),
        };
        requested.min(ceiling)
    }

    /// The Beacon `securityLevel` of the dataset: the lowest tier that sees anything.
    pub fn security_level(&self) -> Tier {
        if self.public > Granularity::None {
            Tier::Public
        } else if self.registered > Granularity::None {
            Tier::Registered
        } else {
            Tier::Controlled
        }
    }

    /// Rules the types cannot express.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.public == Granularity::Record || self.registered == Granularity::Record {
            return Err(PolicyError::RecordsBelowControlled);
        }
        Ok(())
    }
}

/// A dataset policy that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("record granularity is only for controlled access (set public/registered to count at most)")]
    RecordsBelowControlled,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn granularity_is_capped_by_tier() {
        let policy = DatasetPolicy::default();
        assert_eq!(policy.granted(Tier::Public, Granularity::Record), Granularity::Boolean);
        assert_eq!(policy.granted(Tier::Registered, Granularity::Record), Granularity::Count);
        assert_eq!(policy.granted(Tier::Registered, Granularity::Boolean), Granularity::Boolean);
        assert_eq!(policy.granted(Tier::Controlled, Granularity::Record), Granularity::Record);
        let hidden = DatasetPolicy { public: Granularity::None, ..policy };
        assert_eq!(hidden.granted(Tier::Public, Granularity::Count), Granularity::None);
        assert_eq!(hidden.security_level(), Tier::Registered);
        let public_counts = DatasetPolicy { public: Granularity::Count, ..policy };
        assert_eq!(public_counts.granted(Tier::Public, Granularity::Count), Granularity::Count);
        assert!(DatasetPolicy { public: Granularity::Record, ..policy }.validate().is_err());
    }

    #[test]
    fn parses_beacon_names() {
        assert_eq!("COUNT".parse::<Granularity>().unwrap(), Granularity::Count);
        assert!("rows".parse::<Granularity>().is_err());
        assert!(Granularity::Boolean < Granularity::Count && Granularity::Count < Granularity::Record);
    }
}
