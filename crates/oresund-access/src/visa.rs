//! A verified GA4GH visa (Passport v1.2 `ga4gh_visa_v1`), what passport checking yields and visa
//! conditions are evaluated on.

use serde_json::Value;

/// The visa type that grants a dataset (Passport v1.2 §"ControlledAccessGrants").
pub const CONTROLLED_ACCESS_GRANTS: &str = "ControlledAccessGrants";

/// A visa's `type`: the standard ones of Passport v1.2 §"GA4GH Standard Passport Visa Type
/// Definitions", or a custom one (verified like any other, then ignored: it grants nothing here).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VisaType {
    AffiliationAndRole,
    AcceptedTermsAndPolicies,
    ResearcherStatus,
    ControlledAccessGrants,
    LinkedIdentities,
    /// A type the standard does not define, as the visa names it.
    Other(String),
}

impl VisaType {
    const STANDARD: [VisaType; 5] = [
        VisaType::AffiliationAndRole,
        VisaType::AcceptedTermsAndPolicies,
        VisaType::ResearcherStatus,
        VisaType::ControlledAccessGrants,
        VisaType::LinkedIdentities,
    ];

    /// The type as visas (and visa conditions) write it.
    pub fn as_str(&self) -> &str {
        match self {
            VisaType::AffiliationAndRole => "AffiliationAndRole",
            VisaType::AcceptedTermsAndPolicies => "AcceptedTermsAndPolicies",
            VisaType::ResearcherStatus => "ResearcherStatus",
            VisaType::ControlledAccessGrants => CONTROLLED_ACCESS_GRANTS,
            VisaType::LinkedIdentities => "LinkedIdentities",
            VisaType::Other(name) => name,
        }
    }

    /// A visa's `type`; names are case-sensitive, anything not standard is [`VisaType::Other`].
    pub fn parse(name: &str) -> Self {
        Self::STANDARD.into_iter().find(|t| t.as_str() == name).unwrap_or_else(|| VisaType::Other(name.to_string()))
    }

    /// One of the standard types.
    pub fn is_standard(&self) -> bool {
        !matches!(self, VisaType::Other(_))
    }
}

impl std::fmt::Display for VisaType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One verified visa (`ga4gh_visa_v1` plus who issued it).
#[derive(Debug, Clone, PartialEq)]
pub struct Visa {
    pub iss: String,
    pub sub: String,
    pub jti: Option<String>,
    pub kind: VisaType,
    pub value: String,
    pub source: String,
    pub by: Option<String>,
    pub asserted: i64,
    pub exp: i64,
    pub conditions: Option<Value>,
    /// The research purpose a grant states (`oresund_purpose`, see `passport::PURPOSE_CLAIM`).
    pub purpose: Option<crate::duo_match::ResearchPurpose>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_types_round_trip_and_others_are_kept_verbatim() {
        for kind in VisaType::STANDARD {
            assert_eq!(VisaType::parse(kind.as_str()), kind);
            assert!(kind.is_standard());
        }
        assert_eq!(VisaType::parse("ControlledAccessGrants"), VisaType::ControlledAccessGrants);
        let custom = VisaType::parse("researcherstatus");
        assert_eq!(custom, VisaType::Other("researcherstatus".into()), "names are case-sensitive");
        assert!(!custom.is_standard());
        assert_eq!(custom.as_str(), "researcherstatus");
    }
}
