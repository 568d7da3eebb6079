//! The re-identification budget (after Raisaro et al., "Addressing Beacon re-identification
//! attacks", JAMIA 2017). Shringarpure & Bustamante (AJHG 2015) showed that yes/no answers about
//! a person's rare alleles reveal whether the person is in a beacon. Each answer that reports a
//! carried allele therefore costs its carriers `-ln(1 - D)` with `D = (1 - f)^(2N)`: the surprise
//! of that allele being present in N people at frequency f — large for rare alleles, near zero for
//! common ones. Once answering would take any carrier past the budget, the answer is refused.

/// Cost to each carrier of reporting an allele of frequency `f` among `n` individuals.
pub fn cost(frequency: f64, n: u64) -> f64 {
    if n == 0 || frequency <= 0.0 {
        return 0.0;
    }
    let absent = (1.0 - frequency.min(1.0)).powf(2.0 * n as f64);
    -(1.0 - absent).max(f64::MIN_POSITIVE).ln()
}

/// Default budget per (user, individual), in nats: four answers on a person's singletons (each
/// costs `-ln(1 - e^-1)` ≈ 0.46 whatever the cohort size), a likelihood ratio of at most e² ≈ 7.4
/// for that person being in the cohort. With three nats or more, the attack in
/// `crates/oresund/tests/e2e/external/reidentification.rs` keeps up to a fifth of its power on some orderings
/// of its targets; with ten, most of it (BENCHMARKS.md).
pub const DEFAULT_BUDGET: f64 = 2.0;

/// Default budget per individual of the public tier, shared by every caller short of REGISTERED
/// access: half a nat, a likelihood ratio of at most e^0.5 ≈ 1.6 for that person being in the
/// cohort. Nobody is locked there, so the budget and the carrier threshold below are all that
/// bound the membership attack of `reidentification.rs` through anonymous answers; the budget
/// alone left it about a quarter of its power (BENCHMARKS.md).
pub const DEFAULT_PUBLIC_BUDGET: f64 = 0.5;

/// The fewest carriers, each able to pay, a public-tier "yes" is about. The membership attack
/// reads the answers where one person's presence decides between "yes" and "no"; for the rare
/// alleles it asks about, that happens when the other carriers number one short of this, which
/// grows unlikely fast as it rises (BENCHMARKS.md measures the attack's power at several values).
pub const DEFAULT_PUBLIC_MIN_CARRIERS: usize = 8;

/// How a refusal that locks the user starts ("… answering would take an individual past …").
/// The refusal's text is recorded in the audit log; metrics and reports recognise it by this.
pub const LOCKING_REFUSAL: &str = "re-identification budget: answering would";
/// How the refusal of an already locked user starts.
pub const SPENT_REFUSAL: &str = "re-identification budget spent:";

/// Whether an audit entry's detail is a budget refusal (either kind).
pub fn is_refusal(detail: &str) -> bool {
    detail.contains(LOCKING_REFUSAL) || detail.contains(SPENT_REFUSAL)
}

/// Charges below this are not recorded: a million of them still add up to a millionth of a nat,
/// so common variants (whose cost underflows towards zero) cost nothing to answer.
pub const NEGLIGIBLE: f64 = 1e-12;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_alleles_cost_more_than_common_ones() {
        let n = 500;
        let singleton = cost(1.0 / (2.0 * n as f64), n);
        let common = cost(0.3, n);
        assert!((singleton - 0.4587).abs() < 1e-3, "{singleton}");
        assert!(common < 1e-12);
        assert!(cost(0.001, n) > cost(0.01, n));
        assert_eq!(cost(0.0, n), 0.0);
        // A singleton costs the same in any cohort size: (1 - 1/2N)^2N tends to 1/e.
        assert!((cost(1.0 / 120_000.0, 60_000) - singleton).abs() < 1e-3);
        assert!(cost(0.05, n) < NEGLIGIBLE);
    }
}
