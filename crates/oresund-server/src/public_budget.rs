//! The public tier's shared re-identification budget (issue #17). The Shringarpure–Bustamante
//! attack needs nothing but yes/no answers, and anonymous callers are many and nameless, so they
//! cannot each have a budget as registered users do (`budget`): every public-tier answer — from
//! anyone without REGISTERED access to the dataset — is charged to one budget per individual.
//!
//! Nobody is refused or locked: one caller's questions must not shut everyone else out, and a
//! refusal would itself say "a carrier is here". Instead, a carrier whose shared budget cannot pay
//! for a new disclosure is left out of it, and a variant left with no carrier reads as absent. A
//! person's rare alleles thus disclose at most `public_nats` to the public in all, whoever asks;
//! common variants cost nothing (below `NEGLIGIBLE`) and need no store access, and a disclosure
//! made before is made again, free.

use oresund_access::Tier;
use oresund_access::budget::NEGLIGIBLE;
use oresund_core::carriers::AlleleCounts;
use oresund_node::CohortFilter;
use oresund_node::query::VariantCount;
use oresund_store::BudgetCharge;

use crate::budget::charge_items;
use crate::error::BeaconError;
use crate::scope::Scope;
use crate::state::AppState;

/// What a "yes" costs each carrier: the surprise of the answer had they not been in the cohort,
/// `-ln P(at least min_carriers others carry it)`, the others' carriers taken as Poisson with the
/// mean seen (`carriers - 1`). Raisaro's `cost(f, N)` is this for one carrier needed; with more,
/// an allele just at the threshold is as telling as a singleton would be without the rule, and
/// must cost as much — nobody is locked here, so each answer is charged its full worth.
fn public_cost(counts: &AlleleCounts, min_carriers: usize) -> f64 {
    let carriers = counts.heterozygous + counts.homozygous_alt + counts.hemizygous;
    let m = carriers.saturating_sub(1) as f64;
    // P(Poisson(m) >= k) = 1 - sum_{j<k} e^-m m^j / j!
    let mut term = (-m).exp();
    let mut below = 0.0;
    for j in 0..min_carriers {
        below += term;
        term *= m / (j + 1) as f64;
    }
    let disclosed_without = 1.0 - below;
    if disclosed_without <= 0.0 { f64::INFINITY } else { -disclosed_without.ln() }
}

/// The budget's user id: not a user name any credential can carry (they have no spaces).
pub const PUBLIC_TIER: &str = "(public tier)";

/// Charges the public-tier part of an answer to the shared budget and zeroes, in `found`, the
/// counts the budget cannot pay for. Returns how many (dataset, variant) counts were withheld.
pub fn withhold(
    app: &AppState,
    scope: &Scope,
    found: &mut [VariantCount],
    filter: &CohortFilter,
) -> Result<usize, BeaconError> {
    let Some(limit) = app.budget.public else { return Ok(0) };
    let min_carriers = app.budget.public_min_carriers;
    // (index in `found`, dataset, cost to each carrier)
    let mut costly: Vec<(usize, String, f64)> = Vec::new();
    for dataset in scope.datasets.iter().filter(|d| d.tier == Tier::Public) {
        for (i, variant) in found.iter().enumerate() {
            let Some((_, counts)) = variant.datasets.iter().find(|(d, _)| d.as_ref() == dataset.id) else { continue };
            if counts.allele_count == 0 {
                continue;
            }
            let c = public_cost(counts, min_carriers);
            if c >= NEGLIGIBLE {
                costly.push((i, dataset.id.clone(), c));
            }
        }
    }
    if costly.is_empty() {
        return Ok(0);
    }
    let prepared = app.node.prepare_filter(filter).map_err(BeaconError::from)?;
    let wanted: Vec<(&str, &VariantCount, f64)> =
        costly.iter().map(|(i, dataset, c)| (dataset.as_str(), &found[*i], *c)).collect();
    let mut charged = Vec::with_capacity(costly.len());
    let mut items = Vec::with_capacity(costly.len());
    for ((i, dataset, _), item) in costly.iter().zip(charge_items(app, PUBLIC_TIER, &prepared, &wanted)?) {
        if let Some(item) = item {
            charged.push((*i, dataset.clone()));
            items.push(item);
        }
    }
    // Each outcome known in this process: a repeat (withheld ones stay withheld) needs no store.
    let disclosed = match app.budget.known_outcomes(PUBLIC_TIER, &items) {
        Some(known) => known,
        None => {
            let time = oresund_node::clock::now_rfc3339();
            let charge = BudgetCharge { user: PUBLIC_TIER.to_string(), limit, items, discloses_absence: false, time };
            let disclosed = crate::blocking::waiting_on_disk(|| app.node.charge_shared_budget(&charge, min_carriers))
                .map_err(BeaconError::from)?;
            let (mut shown, mut hidden) = (Vec::new(), Vec::new());
            for (item, &disclosed) in charge.items.into_iter().zip(&disclosed) {
                if disclosed { shown.push(item) } else { hidden.push(item) }
            }
            app.budget.remember(PUBLIC_TIER, &shown);
            app.budget.remember_withheld(PUBLIC_TIER, &hidden);
            disclosed
        }
    };
    let mut withheld = 0;
    for ((i, dataset), shown) in charged.iter().zip(disclosed) {
        if shown {
            continue;
        }
        withheld += 1;
        if let Some((_, counts)) = found[*i].datasets.iter_mut().find(|(d, _)| d.as_ref() == dataset) {
            // Read as absent: nobody called carries it (the allele number stays).
            *counts = AlleleCounts { allele_number: counts.allele_number, ..AlleleCounts::default() };
        }
    }
    Ok(withheld)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn carriers(n: u64) -> AlleleCounts {
        AlleleCounts { heterozygous: n, allele_count: n, allele_number: 1000, ..AlleleCounts::default() }
    }

    #[test]
    fn a_yes_costs_the_surprise_of_the_others_reaching_the_threshold() {
        // Two needed: 1 - e^-m (1 + m), m = carriers - 1.
        let m = 4.0_f64;
        let two = -(1.0 - (-m).exp() * (1.0 + m)).ln();
        assert!((public_cost(&carriers(5), 2) - two).abs() < 1e-12);
        assert_eq!(public_cost(&carriers(1), 2), f64::INFINITY, "nobody else: never worth it");
        // Ten needed: an allele with five carriers is costly, one with two hundred is free.
        assert!(public_cost(&carriers(5), 10) > 3.0, "{}", public_cost(&carriers(5), 10));
        assert!(public_cost(&carriers(200), 10) < NEGLIGIBLE);
        assert!(public_cost(&carriers(12), 10) < public_cost(&carriers(10), 10));
    }
}
