//! The re-identification budget of REGISTERED-tier answers about genotypes (after Raisaro et al.,
//! JAMIA 2017; see `oresund_access::budget`).
//!
//! For each dataset answered at the REGISTERED tier, every variant the answer reports with
//! carriers among the caller's filtered individuals charges each of those carriers
//! `cost(f, N)`: `f` the variant's allele frequency among them, `N` the individuals with a call
//! (AN / 2). The charges of one answer are booked together (`Budgets::charge_budget`); a
//! disclosure the user was charged for before — same dataset, variant, counts and carriers — is
//! free. If any carrier would pass the budget, the answer is refused (HTTP 403).
//!
//! From that refusal on, the user gets no new REGISTERED-tier answer about genotypes at all, not
//! even "no carrier" or a common variant's frequency: a refusal happens only when carriers exist,
//! and the Shringarpure–Bustamante test draws its power from the "no" answers non-members get,
//! so answering those while refusing the rest would tell members from non-members as well as the
//! answers themselves (and each person shifts a common variant's counts a little too). See
//! `crates/oresund/tests/e2e/external/reidentification.rs` and BENCHMARKS.md. Repeats of charged answers stay
//! free. Common variants cost nothing (below `NEGLIGIBLE`): for a user who is not locked they
//! need no store access beyond a lock check at most once a second.

use oresund_access::budget::{LOCKING_REFUSAL, NEGLIGIBLE, SPENT_REFUSAL, cost};
use oresund_access::{Caller, Tier};
use oresund_node::CohortFilter;
use oresund_node::cohort::PreparedFilter;
use oresund_node::query::VariantCount;
use oresund_store::{BudgetCharge, BudgetOutcome, ChargeItem, IndividualNumber, VariantCalls};
use sha2::{Digest, Sha256};

use crate::error::BeaconError;
use crate::scope::Scope;
use crate::state::AppState;

fn refused(dataset_hint: &str, limit: f64) -> BeaconError {
    BeaconError::forbidden(format!(
        "{LOCKING_REFUSAL} take an individual{dataset_hint} past this user's budget of \
         {limit} nats (Raisaro et al. 2017), so this answer is refused and this user gets no further new \
         REGISTERED-tier answers about genotypes; ask the data access committee for controlled access \
         (POST /dac/requests)"
    ))
}

fn locked() -> BeaconError {
    BeaconError::forbidden(format!(
        "{SPENT_REFUSAL} an earlier answer would have taken an individual past this user's \
         budget, so this user gets no new REGISTERED-tier answers about genotypes (repeats of answers about \
         rare variants still work); ask the data access committee for controlled access (POST /dac/requests)"
    ))
}

/// Charges a g_variants-style answer: `found` are the variants the query matched (each with its
/// counts per dataset), `skip`/`limit` the page of rows shown.
pub fn charge(
    app: &AppState,
    caller: &Caller,
    scope: &Scope,
    found: &[VariantCount],
    filter: &CohortFilter,
    skip: usize,
    limit: usize,
) -> Result<(), BeaconError> {
    let budget = &app.budget;
    let Some(user) = caller.user.as_deref() else { return Ok(()) };
    if !budget.enabled {
        return Ok(());
    }
    let registered: Vec<&crate::scope::ScopedDataset> =
        scope.datasets.iter().filter(|d| d.tier == Tier::Registered).collect();
    if registered.is_empty() {
        return Ok(());
    }
    let mut absence = false;
    let mut costly: Vec<(&str, &VariantCount, f64)> = Vec::new();
    for dataset in registered {
        let mut present =
            found.iter().filter_map(|v| v.datasets.iter().find(|(d, _)| d.as_ref() == dataset.id).map(|(_, c)| (v, c)));
        let mut hits = 0;
        for (i, (variant, counts)) in present.by_ref().enumerate() {
            let shown = i >= skip && i < skip.saturating_add(limit);
            if counts.allele_count == 0 {
                // A row saying nobody carries it: a "no" answer.
                absence |= shown;
                continue;
            }
            hits += 1;
            let c = cost(counts.allele_frequency(), counts.allele_number.div_ceil(2));
            if c >= NEGLIGIBLE {
                costly.push((dataset.id.as_str(), variant, c));
            }
        }
        absence |= hits == 0;
    }
    if costly.is_empty() {
        // Nothing to charge, but a locked user gets no new answer about genotypes.
        return if budget.is_locked(&app.node, user)? { Err(locked()) } else { Ok(()) };
    }
    let items = items(app, user, filter, &costly)?;
    if !absence && budget.known_outcomes(user, &items).is_some_and(|known| known.iter().all(|&charged| charged)) {
        return Ok(());
    }
    let charge = BudgetCharge {
        user: user.to_string(),
        limit: budget.limit,
        items,
        discloses_absence: absence,
        time: oresund_node::clock::now_rfc3339(),
    };
    match crate::blocking::waiting_on_disk(|| app.node.charge_budget(&charge)).map_err(BeaconError::from)? {
        BudgetOutcome::Charged | BudgetOutcome::Repeat => {
            budget.remember(user, &charge.items);
            Ok(())
        }
        BudgetOutcome::Refused { .. } => {
            budget.set_locked(user, true);
            let datasets: Vec<&str> = costly.iter().map(|(d, _, _)| *d).collect();
            let hint = if datasets.windows(2).all(|w| w[0] == w[1]) {
                format!(" of dataset {}", datasets.first().copied().unwrap_or_default())
            } else {
                String::new()
            };
            Err(refused(&hint, budget.limit))
        }
        BudgetOutcome::Locked => {
            budget.set_locked(user, true);
            Err(locked())
        }
    }
}

/// The charge items of the costly variants: their carriers among the filtered individuals.
fn items(
    app: &AppState,
    user: &str,
    filter: &CohortFilter,
    costly: &[(&str, &VariantCount, f64)],
) -> Result<Vec<ChargeItem>, BeaconError> {
    let prepared = app.node.prepare_filter(filter).map_err(BeaconError::from)?;
    Ok(charge_items(app, user, &prepared, costly)?.into_iter().flatten().collect())
}

/// What disclosing each `(dataset, variant, cost)` to `user` costs its carriers (each `cost`);
/// `None` for a variant no longer in the index. The variants are read together
/// (`Node::stored_variants`): a 1 Mb region holds thousands of rare ones.
pub(crate) fn charge_items(
    app: &AppState,
    user: &str,
    prepared: &PreparedFilter,
    wanted: &[(&str, &VariantCount, f64)],
) -> Result<Vec<Option<ChargeItem>>, BeaconError> {
    let node = &app.node;
    let keys = wanted.iter().map(|(_, variant, _)| node.stored_key(&variant.variant)).collect::<Result<Vec<_>, _>>()?;
    let found = node.stored_variants(&keys).map_err(BeaconError::from)?;
    wanted
        .iter()
        .zip(found)
        .map(|(&(dataset, variant, cost), calls)| match calls {
            // Found by the key it was reported under, so it is the same variant: anything else
            // would charge the wrong carriers.
            Some(calls) if calls.vrs_id != variant.vrs_id => Err(BeaconError::internal(format!(
                "{} was reported as {} but is stored as {}",
                variant.variant, variant.vrs_id, calls.vrs_id
            ))),
            Some(calls) => charge_item(app, user, prepared, dataset, variant, cost, &calls).map(Some),
            None => Ok(None),
        })
        .collect()
}

/// What disclosing `variant` (stored as `calls`) in `dataset` to `user` costs its carriers.
fn charge_item(
    app: &AppState,
    user: &str,
    prepared: &PreparedFilter,
    dataset: &str,
    variant: &VariantCount,
    cost: f64,
    calls: &VariantCalls,
) -> Result<ChargeItem, BeaconError> {
    let mut carriers: Vec<IndividualNumber> = app
        .node
        .carriers(calls, prepared)
        .map_err(BeaconError::from)?
        .into_iter()
        .filter(|carrier| carrier.dataset.as_ref() == dataset)
        .map(|carrier| carrier.individual)
        .collect();
    carriers.sort_unstable();
    carriers.dedup();
    let counts = variant.datasets.iter().find(|(d, _)| d.as_ref() == dataset).map(|(_, c)| *c).unwrap_or_default();
    // The same people shown the same counts of the same variant: nothing new is disclosed.
    let mut hasher = Sha256::new();
    hasher
        .update(format!("{user}\0{dataset}\0{}\0{}\0{}\0", variant.vrs_id, counts.allele_count, counts.allele_number));
    for carrier in &carriers {
        hasher.update(carrier.get().to_le_bytes());
    }
    let fingerprint = oresund_core::hex::encode(&hasher.finalize());
    Ok(ChargeItem { fingerprint, charges: carriers.iter().map(|&i| (i, cost)).collect() })
}
