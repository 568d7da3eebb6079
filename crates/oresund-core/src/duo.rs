//! The Data Use Ontology (DUO) vocabulary: which codes exist, their shorthand and label.
//!
//! The table is `data/duo.csv` (DUO release 2021-02-23, see `data/README.md`), compiled in so a node
//! never depends on a file at run time. Consent columns may also carry a disease term (MONDO, HPO,
//! ICD-10) as the restriction of DS (DUO:0000007).

use std::sync::OnceLock;

/// One DUO term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuoTerm {
    pub id: String,
    /// The DUO shorthand (`GRU`, `HMB`, `DS`, `NPU`...); empty for grouping classes.
    pub shorthand: String,
    pub label: String,
}

static TERMS: OnceLock<Vec<DuoTerm>> = OnceLock::new();

/// Every DUO term of the compiled-in release.
pub fn terms() -> &'static [DuoTerm] {
    TERMS.get_or_init(|| {
        include_str!("../data/duo.csv")
            .lines()
            .skip(1)
            .filter_map(|line| {
                let mut fields = csv_fields(line).into_iter();
                Some(DuoTerm { id: fields.next()?, shorthand: fields.next()?, label: fields.next()? })
            })
            .collect()
    })
}

/// Looks a code up by id (`DUO:0000042`) or shorthand (`GRU`).
pub fn lookup(code: &str) -> Option<&'static DuoTerm> {
    let code = code.trim();
    terms().iter().find(|t| t.id == code || (!t.shorthand.is_empty() && t.shorthand.eq_ignore_ascii_case(code)))
}

/// Whether a consent column entry is a valid code: a DUO term, or a disease term that restricts DS.
pub fn is_consent_code(code: &str) -> bool {
    lookup(code).is_some() || is_disease_term(code)
}

/// Disease vocabularies accepted as the DS (DUO:0000007) restriction.
pub fn is_disease_term(code: &str) -> bool {
    ["MONDO:", "HP:", "ICD10:", "DOID:", "OMIM:", "ORPHA:"].iter().any(|p| code.starts_with(p) && code.len() > p.len())
}

/// Splits one CSV line (RFC 4180 quoting) into fields.
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// The automatic DUO match of a research purpose against a dataset's consent, as access requests
/// store and show it ([`MatchOutcome::as_str`]: `approve`, `needs_review`, `deny`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchOutcome {
    Approve,
    NeedsReview,
    Deny,
}

impl MatchOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOutcome::Approve => "approve",
            MatchOutcome::NeedsReview => "needs_review",
            MatchOutcome::Deny => "deny",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [MatchOutcome::Approve, MatchOutcome::NeedsReview, MatchOutcome::Deny].into_iter().find(|o| o.as_str() == name)
    }
}

impl std::fmt::Display for MatchOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_outcomes_keep_their_stored_names() {
        for (outcome, name) in [
            (MatchOutcome::Approve, "approve"),
            (MatchOutcome::NeedsReview, "needs_review"),
            (MatchOutcome::Deny, "deny"),
        ] {
            assert_eq!(outcome.as_str(), name);
            assert_eq!(MatchOutcome::parse(name), Some(outcome));
            assert_eq!(serde_json::to_value(outcome).unwrap(), name);
        }
        assert_eq!(MatchOutcome::parse("Approve"), None);
    }

    #[test]
    fn knows_the_permissions_and_modifiers_of_the_brief() {
        for (id, short) in
            [("DUO:0000042", "GRU"), ("DUO:0000006", "HMB"), ("DUO:0000007", "DS"), ("DUO:0000045", "NPU")]
        {
            assert_eq!(lookup(id).unwrap().shorthand, short);
            assert_eq!(lookup(short).unwrap().id, id);
        }
        assert_eq!(lookup("DUO:0000018").unwrap().label, "not for profit, non commercial use only");
        assert!(lookup("DUO:9999999").is_none());
        assert!(terms().len() >= 25);
    }

    #[test]
    fn consent_codes_accept_disease_restrictions() {
        assert!(is_consent_code("MONDO:0005027"));
        assert!(is_consent_code("DUO:0000019"));
        assert!(!is_consent_code("DUO:1234567"));
        assert!(!is_consent_code("MONDO:"));
    }
}
