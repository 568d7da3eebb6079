//! Visa `conditions` (Passport v1.2 §"Conditions"): a list of alternatives (OR), each a list of
//! clauses (AND); a clause names a visa `type` and optionally `value`, `source` and `by`, each
//! `const:TEXT` (exact), `pattern:GLOB` (`*` any run, `?` one character) or
//! `split_pattern:GLOB;GLOB…` (any of the semicolon-separated globs). A clause holds when another
//! visa of the same passport matches it. A visa whose conditions do not hold grants nothing (see
//! [`crate::passport`]).

use serde_json::Value;

use crate::visa::Visa;

/// Glob match with `*` and `?` (no escapes), on characters.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn field_matches(rule: Option<&str>, actual: Option<&str>) -> bool {
    match (rule, actual) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(rule), Some(actual)) => {
            if let Some(exact) = rule.strip_prefix("const:") {
                exact == actual
            } else if let Some(pattern) = rule.strip_prefix("pattern:") {
                glob(pattern, actual)
            } else if let Some(patterns) = rule.strip_prefix("split_pattern:") {
                patterns.split(';').any(|p| glob(p, actual))
            } else {
                // No known prefix: not a valid condition value, so it never matches.
                false
            }
        }
    }
}

fn clause_met(clause: &Value, visas: &[Visa]) -> bool {
    let Some(kind) = clause["type"].as_str() else { return false };
    visas.iter().any(|v| {
        v.kind.as_str() == kind
            && field_matches(clause["value"].as_str(), Some(&v.value))
            && field_matches(clause["source"].as_str(), Some(&v.source))
            && field_matches(clause["by"].as_str(), v.by.as_deref())
    })
}

/// Whether `conditions` (a list of lists of clauses) is met by `visas`.
pub fn conditions_met(conditions: &Value, visas: &[Visa]) -> bool {
    let Some(alternatives) = conditions.as_array() else { return false };
    alternatives.iter().any(|all| all.as_array().is_some_and(|clauses| clauses.iter().all(|c| clause_met(c, visas))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visa::VisaType;
    use serde_json::json;

    fn visa(kind: &str, value: &str, by: Option<&str>) -> Visa {
        Visa {
            iss: "i".into(),
            sub: "s".into(),
            jti: None,
            kind: VisaType::parse(kind),
            value: value.into(),
            source: "https://ku.dk".into(),
            by: by.map(str::to_string),
            asserted: 0,
            exp: 0,
            conditions: None,
            purpose: None,
        }
    }

    #[test]
    fn or_of_ands_with_const_and_pattern() {
        let visas = [
            visa("AffiliationAndRole", "faculty@ku.dk", Some("so")),
            visa("AcceptedTermsAndPolicies", "https://x/terms", None),
        ];
        let affiliated = json!([[{"type": "AffiliationAndRole", "value": "pattern:*@ku.dk", "by": "const:so"}]]);
        assert!(conditions_met(&affiliated, &visas));
        let both = json!([[{"type": "AffiliationAndRole", "value": "pattern:faculty@*"}, {"type": "AcceptedTermsAndPolicies", "value": "const:https://x/terms"}]]);
        assert!(conditions_met(&both, &visas));
        let elsewhere = json!([[{"type": "AffiliationAndRole", "value": "pattern:*@uu.se"}]]);
        assert!(!conditions_met(&elsewhere, &visas));
        let either = json!([[{"type": "AffiliationAndRole", "value": "pattern:*@uu.se"}], [{"type": "AcceptedTermsAndPolicies"}]]);
        assert!(conditions_met(&either, &visas));
        assert!(
            !conditions_met(&json!([[{"type": "AffiliationAndRole", "value": "faculty@ku.dk"}]]), &visas),
            "values need a prefix"
        );
        assert!(glob("a?c*", "abcdef") && !glob("a?c", "abcd") && glob("*", ""));
        let split = json!([[{"type": "AffiliationAndRole", "value": "split_pattern:*@uu.se;faculty@*"}]]);
        assert!(conditions_met(&split, &visas));
    }
}
