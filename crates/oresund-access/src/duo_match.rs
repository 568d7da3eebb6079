//! Matching a research purpose against consent (Data Use Ontology), following the rules of the
//! Broad Institute's DUOS: a permission code decides which purposes are possible, modifiers can
//! forbid some, and modifiers a machine cannot check send the request to human review.
//!
//! Permissions (DUO): NRES allows anything; GRU any research, population origins included; HMB
//! health/medical/biomedical research (not population origins, DUO:0000006); DS(disease) only
//! research on that disease or one below it — a purpose "lung cancer" matches DS(cancer), "cancer"
//! does not match DS(lung cancer); POA population origins or ancestry research only.
//! Modifiers: NPU, NCU and NPUNCU forbid commercial purposes; NPOA forbids population-origins
//! research; NMDS forbids methods development; PUB is an obligation the researcher accepts;
//! the others (IRB, COL, GS, GSO, MOR, TS, US, PS, IS, RTN, CC, RS) need a person to check.

use serde::{Deserialize, Serialize};

/// DUO codes used here.
pub mod codes {
    pub const NRES: &str = "DUO:0000004";
    pub const GRU: &str = "DUO:0000042";
    pub const HMB: &str = "DUO:0000006";
    pub const DS: &str = "DUO:0000007";
    pub const POA: &str = "DUO:0000011";
    pub const NMDS: &str = "DUO:0000015";
    pub const NPUNCU: &str = "DUO:0000018";
    pub const PUB: &str = "DUO:0000019";
    pub const NPOA: &str = "DUO:0000044";
    pub const NPU: &str = "DUO:0000045";
    pub const NCU: &str = "DUO:0000046";
}
use codes::*;

/// What a researcher wants to do.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResearchPurpose {
    /// DUO permission code of the research: GRU, HMB, DS, POA (ids or shorthands).
    pub purpose: String,
    /// For DS: the disease studied (MONDO, HPO or ICD-10 term).
    #[serde(default)]
    pub disease: Option<String>,
    #[serde(default)]
    pub commercial: bool,
    /// Developing methods (algorithms, software) rather than studying a disease.
    #[serde(default)]
    pub methods: bool,
}

/// Why a research purpose cannot be matched (the request is refused with HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PurposeError {
    #[error("purpose {0:?} is not a DUO research purpose: use GRU, HMB, DS or POA (or their DUO ids)")]
    NotAPurpose(String),
    #[error("a disease-specific purpose (DS, DUO:0000007) must name the disease (MONDO, HPO or ICD-10 term)")]
    DiseaseMissing,
    #[error("disease {0:?} is not a MONDO, HPO, ICD-10, DOID, OMIM or ORPHA term")]
    NotADisease(String),
}

impl ResearchPurpose {
    /// Checks that the purpose can be matched: a DUO permission a researcher can pursue, and for
    /// DS (DUO:0000007) a disease term.
    pub fn validate(&self) -> Result<(), PurposeError> {
        let wanted = canonical(&self.purpose);
        if ![GRU, HMB, DS, POA].contains(&wanted.as_str()) {
            return Err(PurposeError::NotAPurpose(self.purpose.clone()));
        }
        match self.disease.as_deref() {
            None if wanted == DS => Err(PurposeError::DiseaseMissing),
            Some(d) if !oresund_core::duo::is_disease_term(d) => Err(PurposeError::NotADisease(d.to_string())),
            _ => Ok(()),
        }
    }
}

impl ResearchPurpose {
    /// The purpose with its code as a DUO id (`HMB` → `DUO:0000006`), so that one purpose is
    /// stored and compared one way.
    pub fn canonical(&self) -> ResearchPurpose {
        ResearchPurpose { purpose: canonical(&self.purpose), ..self.clone() }
    }

    /// A short human description: `HMB (DUO:0000006)`, `DS (DUO:0000007) MONDO:0005027, commercial`.
    pub fn describe(&self) -> String {
        let id = canonical(&self.purpose);
        let short = oresund_core::duo::lookup(&id).map(|t| t.shorthand.clone()).unwrap_or_default();
        let mut out = if short.is_empty() { id } else { format!("{short} ({id})") };
        if let Some(disease) = &self.disease {
            out.push_str(&format!(" {disease}"));
        }
        if self.commercial {
            out.push_str(", commercial");
        }
        if self.methods {
            out.push_str(", methods development");
        }
        out
    }
}

/// The automatic decision (defined in `oresund-core`, so that the store can keep it).
pub use oresund_core::duo::MatchOutcome as Outcome;

/// Answers "is `descendant` the same disease as, or a kind of, `ancestor`?" from the node's
/// ontologies; `None` when no ontology the node has can tell.
pub trait DiseaseHierarchy {
    fn is_a(&self, descendant: &str, ancestor: &str) -> Option<bool>;
}

/// A decision with the reasons behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub outcome: Outcome,
    pub reasons: Vec<String>,
}

fn canonical(code: &str) -> String {
    oresund_core::duo::lookup(code).map(|t| t.id.clone()).unwrap_or_else(|| code.trim().to_string())
}

/// Matches a purpose against one person's consent codes (a permission, modifiers, and for DS the
/// disease term).
pub fn match_consent(purpose: &ResearchPurpose, consent: &[String], diseases: &dyn DiseaseHierarchy) -> Decision {
    let codes: Vec<String> = consent.iter().map(|c| canonical(c)).collect();
    let has = |code: &str| codes.iter().any(|c| c == code);
    let wanted = canonical(&purpose.purpose);
    let mut reasons = Vec::new();
    let mut outcome = Outcome::Approve;
    let mut worst = |o: Outcome, reason: String, reasons: &mut Vec<String>| {
        reasons.push(reason);
        outcome = match (outcome, o) {
            (Outcome::Deny, _) | (_, Outcome::Deny) => Outcome::Deny,
            (Outcome::NeedsReview, _) | (_, Outcome::NeedsReview) => Outcome::NeedsReview,
            _ => Outcome::Approve,
        };
    };
    // Permission.
    let disease_terms: Vec<&String> = codes.iter().filter(|c| oresund_core::duo::is_disease_term(c)).collect();
    if has(NRES) {
        reasons.push("NRES: no restriction".into());
    } else if has(GRU) {
        reasons.push("GRU: any research purpose".into());
    } else if has(HMB) {
        if wanted == POA {
            worst(Outcome::Deny, "HMB excludes population origins or ancestry research".into(), &mut reasons);
        } else if wanted == GRU {
            worst(
                Outcome::Deny,
                "HMB allows health/medical/biomedical research only, not general research".into(),
                &mut reasons,
            );
        } else {
            reasons.push("HMB: health/medical/biomedical research".into());
        }
    } else if has(DS) {
        match (wanted.as_str(), purpose.disease.as_deref()) {
            (DS, Some(_)) if disease_terms.is_empty() => {
                worst(Outcome::NeedsReview, "DS without a disease term in the consent".into(), &mut reasons)
            }
            (DS, Some(disease)) => {
                let answers: Vec<Option<bool>> = disease_terms.iter().map(|t| diseases.is_a(disease, t)).collect();
                if answers.contains(&Some(true)) {
                    reasons.push(format!("DS: {disease} is covered by the consented disease"));
                } else if answers.contains(&None) {
                    worst(
                        Outcome::NeedsReview,
                        format!("DS: no ontology here relates {disease} to the consented disease"),
                        &mut reasons,
                    );
                } else {
                    worst(
                        Outcome::Deny,
                        format!("DS: {disease} is not the consented disease or a kind of it"),
                        &mut reasons,
                    );
                }
            }
            (DS, None) => worst(
                Outcome::Deny,
                "DS consent needs a disease-specific purpose naming the disease".into(),
                &mut reasons,
            ),
            _ => worst(Outcome::Deny, "DS: only research on the consented disease is allowed".into(), &mut reasons),
        }
    } else if has(POA) {
        if wanted != POA {
            worst(Outcome::Deny, "POA: population origins or ancestry research only".into(), &mut reasons);
        }
    } else {
        worst(Outcome::NeedsReview, "no DUO permission code in the consent".into(), &mut reasons);
    }
    // Modifiers that forbid.
    if purpose.commercial && (has(NPU) || has(NCU) || has(NPUNCU)) {
        worst(Outcome::Deny, "the consent excludes commercial or for-profit use".into(), &mut reasons);
    }
    if wanted == POA && has(NPOA) {
        worst(Outcome::Deny, "NPOA: population origins research is prohibited".into(), &mut reasons);
    }
    if purpose.methods && has(NMDS) {
        worst(Outcome::Deny, "NMDS: no general methods research".into(), &mut reasons);
    }
    if has(PUB) {
        reasons.push("PUB: results must be published (an obligation of the grant)".into());
    }
    // Modifiers a person must check.
    for code in &codes {
        let review = [
            "DUO:0000021",
            "DUO:0000020",
            "DUO:0000022",
            "DUO:0000016",
            "DUO:0000024",
            "DUO:0000025",
            "DUO:0000026",
            "DUO:0000027",
            "DUO:0000028",
            "DUO:0000029",
            "DUO:0000043",
            "DUO:0000012",
        ];
        if review.contains(&code.as_str()) {
            let short = oresund_core::duo::lookup(code).map(|t| t.shorthand.clone()).unwrap_or_default();
            worst(Outcome::NeedsReview, format!("{short} ({code}) needs a committee member to check"), &mut reasons);
        }
    }
    Decision { outcome, reasons }
}

/// Whether a person's consent allows every research purpose — commercial, methods development and
/// population origins research included — which is what a grant that states no purpose can rely on.
pub fn allows_every_purpose(consent: &[String], diseases: &dyn DiseaseHierarchy) -> bool {
    [GRU, POA].into_iter().all(|code| {
        let any = ResearchPurpose { purpose: code.to_string(), disease: None, commercial: true, methods: true };
        match_consent(&any, consent, diseases).outcome == Outcome::Approve
    })
}

/// Combines the decisions for everyone in a dataset: approve when everyone's consent allows the
/// purpose, deny when nobody's does, review otherwise.
pub fn dataset_decision(decisions: &[Decision]) -> (Outcome, usize, usize) {
    let approved = decisions.iter().filter(|d| d.outcome == Outcome::Approve).count();
    let denied = decisions.iter().filter(|d| d.outcome == Outcome::Deny).count();
    let outcome = if !decisions.is_empty() && approved == decisions.len() {
        Outcome::Approve
    } else if denied == decisions.len() {
        Outcome::Deny
    } else {
        Outcome::NeedsReview
    };
    (outcome, approved, denied)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// cancer ⊃ lung cancer; epilepsy unrelated; MONDO:9 unknown to any ontology here.
    struct Toy;
    impl DiseaseHierarchy for Toy {
        fn is_a(&self, d: &str, a: &str) -> Option<bool> {
            match (d, a) {
                (x, y) if x == y => Some(true),
                ("MONDO:lung-cancer", "MONDO:cancer") => Some(true),
                (_, "MONDO:9") | ("MONDO:9", _) => None,
                _ => Some(false),
            }
        }
    }

    fn purpose(p: &str, disease: Option<&str>, commercial: bool) -> ResearchPurpose {
        ResearchPurpose { purpose: p.into(), disease: disease.map(str::to_string), commercial, methods: false }
    }

    fn decide(p: &ResearchPurpose, consent: &[&str]) -> Outcome {
        match_consent(p, &consent.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &Toy).outcome
    }

    #[test]
    fn disease_specific_consent_walks_up_the_disease_tree() {
        let lung = purpose("DS", Some("MONDO:lung-cancer"), false);
        let cancer = purpose("DS", Some("MONDO:cancer"), false);
        assert_eq!(decide(&lung, &["DUO:0000007", "MONDO:cancer"]), Outcome::Approve);
        assert_eq!(decide(&cancer, &["DUO:0000007", "MONDO:lung-cancer"]), Outcome::Deny);
        assert_eq!(decide(&cancer, &["DUO:0000007", "MONDO:9"]), Outcome::NeedsReview);
        assert_eq!(decide(&purpose("HMB", None, false), &["DS", "MONDO:cancer"]), Outcome::Deny);
    }

    #[test]
    fn permissions_nest_and_modifiers_forbid() {
        let hmb = purpose("HMB", None, false);
        assert_eq!(decide(&hmb, &["GRU"]), Outcome::Approve);
        assert_eq!(decide(&hmb, &["HMB"]), Outcome::Approve);
        assert_eq!(decide(&purpose("POA", None, false), &["HMB"]), Outcome::Deny);
        assert_eq!(decide(&purpose("POA", None, false), &["GRU", "NPOA"]), Outcome::Deny);
        assert_eq!(decide(&purpose("GRU", None, false), &["HMB"]), Outcome::Deny);
        // Commercial purposes need neither NPU nor NCU.
        assert_eq!(decide(&purpose("HMB", None, true), &["HMB", "NPU"]), Outcome::Deny);
        assert_eq!(decide(&purpose("HMB", None, true), &["GRU", "NCU"]), Outcome::Deny);
        assert_eq!(decide(&purpose("HMB", None, true), &["GRU"]), Outcome::Approve);
        assert_eq!(decide(&hmb, &["GRU", "PUB"]), Outcome::Approve);
        assert_eq!(decide(&hmb, &["GRU", "IRB"]), Outcome::NeedsReview);
        assert_eq!(decide(&hmb, &["NRES"]), Outcome::Approve);
    }

    #[test]
    fn purposes_are_checked_before_matching() {
        assert!(purpose("HMB", None, false).validate().is_ok());
        assert!(purpose("DUO:0000007", Some("MONDO:0005027"), false).validate().is_ok());
        assert_eq!(purpose("NRES", None, false).validate(), Err(PurposeError::NotAPurpose("NRES".into())));
        assert_eq!(purpose("fun", None, false).validate(), Err(PurposeError::NotAPurpose("fun".into())));
        assert_eq!(purpose("DS", None, false).validate(), Err(PurposeError::DiseaseMissing));
        assert!(matches!(purpose("DS", Some("epilepsy"), false).validate(), Err(PurposeError::NotADisease(_))));
    }

    #[test]
    fn only_unrestricted_consent_allows_every_purpose() {
        let every =
            |consent: &[&str]| allows_every_purpose(&consent.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &Toy);
        assert!(every(&["NRES"]) && every(&["GRU"]) && every(&["GRU", "PUB"]));
        assert!(!every(&["HMB"]) && !every(&["GRU", "NPU"]) && !every(&["GRU", "NPOA"]) && !every(&["GRU", "NMDS"]));
        assert!(!every(&["GRU", "IRB"]) && !every(&["DS", "MONDO:cancer"]) && !every(&[]));
        assert_eq!(purpose("HMB", None, false).canonical().purpose, HMB);
        assert_eq!(purpose("DS", Some("MONDO:cancer"), true).describe(), "DS (DUO:0000007) MONDO:cancer, commercial");
    }

    #[test]
    fn datasets_approve_only_when_everyone_consents() {
        let d = |o| Decision { outcome: o, reasons: vec![] };
        assert_eq!(dataset_decision(&[d(Outcome::Approve), d(Outcome::Approve)]).0, Outcome::Approve);
        assert_eq!(dataset_decision(&[d(Outcome::Approve), d(Outcome::Deny)]).0, Outcome::NeedsReview);
        assert_eq!(dataset_decision(&[d(Outcome::Deny)]).0, Outcome::Deny);
    }
}
