//! A verified GA4GH visa (Passport v1.2 `ga4gh_visa_v1`), what passport checking yields and visa
//! conditions are evaluated on.

use serde_json::Value;

/// One verified visa (`ga4gh_visa_v1` plus who issued it).
#[derive(Debug, Clone, PartialEq)]
pub struct Visa {
    pub iss: String,
    pub sub: String,
    pub jti: Option<String>,
    pub kind: String,
    pub value: String,
    pub source: String,
    pub by: Option<String>,
    pub asserted: i64,
    pub exp: i64,
    pub conditions: Option<Value>,
}
