//! Asking every MME partner at once for a clinician's query: each with its own `X-Auth-Token`,
//! within `[mme] timeout_ms`; a partner that is down, slow or answers garbage is reported in
//! `_nodes` and the others' results still come back (the network's partial-answer rule).

use crate::audit_log::AuditUnavailable;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use oresund_core::audit::AuditAction;
use oresund_match::Patient;
use oresund_node::matchmaking::MmePartner;
use serde_json::{Value, json};

use super::media::{AUTH_TOKEN_HEADER, MEDIA_TYPE};
use crate::state::AppState;

/// Most results taken from one partner.
const MAX_RESULTS: usize = 50;

static CLIENT: LazyLock<reqwest::Client> = LazyLock::new(|| {
    reqwest::Client::builder()
        // A partner answers where it was asked; a redirect is a misconfiguration or an attack.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
});

/// One partner's part of the answer.
pub struct PartnerAnswer {
    pub partner: String,
    pub status: &'static str,
    pub error: Option<String>,
    /// Results labelled with the partner (`_node`).
    pub results: Vec<Value>,
    pub warnings: Vec<String>,
    pub ms: u128,
}

impl PartnerAnswer {
    pub fn summary(&self) -> Value {
        let mut v = json!({"node": self.partner, "status": self.status, "results": self.results.len(), "ms": self.ms});
        if let Some(e) = &self.error {
            v["error"] = json!(e);
        }
        v
    }
}

/// Asks every partner with a URL; every request is audited under the clinician (their answers are
/// shown only once those records are committed).
pub async fn ask_all(
    app: &AppState,
    clinician: &str,
    patient: &Patient,
    test: bool,
) -> Result<Vec<PartnerAnswer>, AuditUnavailable> {
    let config = &app.node.config.mme;
    let timeout = Duration::from_millis(config.timeout_ms);
    let mut body = json!({ "patient": patient });
    if test {
        body["test"] = json!(true);
    }
    let asks = config.partners.iter().filter(|p| p.url.is_some()).map(|p| ask(p, &body, timeout));
    let answers = futures::future::join_all(asks).await;
    for a in &answers {
        let detail = match &a.error {
            Some(e) => format!("{}: {e}", a.status),
            None => format!("{}; results={}", a.status, a.results.len()),
        };
        let record = app.node.mme_audit(clinician, AuditAction::MmeAsk, &format!("mme-partner:{}", a.partner), detail);
        app.audit.record(record).await?;
    }
    Ok(answers)
}

async fn ask(partner: &MmePartner, body: &Value, timeout: Duration) -> PartnerAnswer {
    let started = Instant::now();
    let outcome = exchange(partner, body, timeout).await;
    let mut answer = PartnerAnswer {
        partner: partner.id.clone(),
        status: "ok",
        error: None,
        results: Vec::new(),
        warnings: Vec::new(),
        ms: started.elapsed().as_millis(),
    };
    match outcome {
        Ok((results, warnings)) => {
            answer.results = results;
            answer.warnings = warnings;
        }
        Err((status, error)) => {
            answer.status = status;
            answer.error = Some(error);
        }
    }
    answer
}

/// The partner's results, each checked: a result whose patient does not follow the API is
/// left out with a warning, not passed on.
async fn exchange(
    partner: &MmePartner,
    body: &Value,
    timeout: Duration,
) -> Result<(Vec<Value>, Vec<String>), (&'static str, String)> {
    let (Some(url), Some(token)) = (&partner.url, &partner.token) else {
        return Err(("error", "no url or token configured".into()));
    };
    let response = CLIENT
        .post(url)
        .timeout(timeout)
        .header(reqwest::header::CONTENT_TYPE, MEDIA_TYPE)
        .header(reqwest::header::ACCEPT, MEDIA_TYPE)
        .header(AUTH_TOKEN_HEADER, token)
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| match e.is_timeout() {
            true => ("timeout", format!("no answer within {} ms", timeout.as_millis())),
            false => ("unreachable", "could not connect".to_string()),
        })?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|_| ("error", "the answer broke off".to_string()))?;
    if !status.is_success() {
        let message = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v["message"].as_str().map(|m| m.chars().take(200).collect::<String>()))
            .unwrap_or_default();
        return Err(("error", format!("HTTP {}: {message}", status.as_u16())));
    }
    let answer: Value = serde_json::from_slice(&bytes).map_err(|_| ("error", "the answer is not JSON".to_string()))?;
    let Some(list) = answer.get("results").and_then(Value::as_array) else {
        return Err(("error", "the answer has no results list".into()));
    };
    let mut results = Vec::new();
    let mut warnings = Vec::new();
    for (i, r) in list.iter().take(MAX_RESULTS).enumerate() {
        let score = r["score"]["patient"].as_f64().filter(|s| (0.0..=1.0).contains(s));
        let patient = r.get("patient").cloned().map(Patient::from_value);
        match (score, patient) {
            (Some(score), Some(Ok(patient))) => results.push(json!({
                "score": {"patient": score},
                "patient": patient,
                "_node": partner.id,
            })),
            _ => warnings.push(format!("{}: result {i} does not follow the MME API and was left out", partner.id)),
        }
    }
    Ok((results, warnings))
}
