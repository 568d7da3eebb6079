//! Case/control allelic association stratified by country: each national node contributes one 2×2 table of
//! allele counts (cases/controls × ALT/REF) and the network pools them. Pure arithmetic, no I/O.
//!
//! Computed, as PLINK 1.9 (`--assoc`, `--mh --bd --within`) and statsmodels `StratifiedTable` compute them:
//!
//! - the Cochran–Mantel–Haenszel χ² (1 df) *without* continuity correction (PLINK; statsmodels
//!   `test_null_odds(correction=False)`), and the Mantel–Haenszel common odds ratio (Mantel & Haenszel 1959,
//!   "Statistical aspects of the analysis of data from retrospective studies of disease", J Natl Cancer Inst
//!   22:719–748);
//! - its 95 % confidence interval from the variance of the log Mantel–Haenszel odds ratio of Robins, Breslow &
//!   Greenland 1986 ("Estimators of the Mantel–Haenszel variance consistent in both sparse data and large-strata
//!   limiting models", Biometrics 42:311–323);
//! - the Breslow–Day test of homogeneity of the odds ratios across strata (Breslow & Day 1980, *Statistical
//!   Methods in Cancer Research I*, IARC, §4.4), K − 1 df, *without* Tarone's adjustment (PLINK; statsmodels
//!   `test_equal_odds(adjust=False)`);
//! - the unstratified allelic Pearson χ² (1 df, no continuity correction) of one table or of the summed table;
//! - [`chi2_upper_tail`], the χ² upper tail probability, accurate in relative terms down to the smallest p.
//!
//! Every statistic is an `Option`: `None` wherever PLINK prints `NA`. Strata with no alleles at all are left out
//! (they carry no information, and neither PLINK nor the statsmodels oracle script counts them as strata).
//!
//! P-values here are upper tails computed directly; statsmodels computes `1 - cdf`, which loses all relative
//! precision below ~1e-15 and is off by ~1e-3 relative already at p ≈ 3e-14.

use serde::{Deserialize, Serialize};

/// The 0.975 quantile of the standard normal distribution (scipy `-norm.ppf(0.025)`).
const Z_95: f64 = 1.959963984540054;

/// PLINK 1.9 takes a Mantel–Haenszel odds ratio within this of 1 as exactly 1 and prints `NA` for Breslow–Day.
const ODDS_RATIO_ONE: f64 = 1e-14;

/// PLINK 1.9 takes a CMH χ² below this as 0 (floating point noise of an exact 0).
const CHI2_ZERO: f64 = 1e-28;

/// One stratum's 2×2 allele table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlleleTable {
    /// ALT alleles among cases (a).
    pub case_alt: u64,
    /// REF alleles among cases (b).
    pub case_ref: u64,
    /// ALT alleles among controls (c).
    pub control_alt: u64,
    /// REF alleles among controls (d).
    pub control_ref: u64,
}

impl AlleleTable {
    /// a·d / b·c; Some(0.0) when a·d = 0 < b·c; None when b·c = 0 (PLINK prints NA).
    pub fn odds_ratio(&self) -> Option<f64> {
        let t = Wide::from(*self);
        let (ad, bc) = (t.a * t.d, t.b * t.c);
        (bc != 0).then(|| ad as f64 / bc as f64)
    }

    /// Pearson χ² (1 df) without continuity correction: n(ad−bc)²/(row1·row2·col1·col2); None when a margin is 0
    /// (PLINK --assoc NA).
    pub fn allelic_chi2(&self) -> Option<f64> {
        Wide::from(*self).allelic_chi2()
    }

    /// Each cell, `[case_alt, case_ref, control_alt, control_ref]`; for privacy checks.
    pub fn cells(&self) -> [u64; 4] {
        [self.case_alt, self.case_ref, self.control_alt, self.control_ref]
    }
}

/// Statistics over strata (one per country). Every field None where PLINK prints NA.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Stratified {
    /// Cochran–Mantel–Haenszel χ², 1 df, no continuity correction; None when Σ variance = 0.
    pub chi2: Option<f64>,
    /// Upper tail of χ²(1) at [`Self::chi2`].
    pub p: Option<f64>,
    /// Mantel–Haenszel: Σ(a d / n) / Σ(b c / n); None when the denominator is 0; Some(0) when the numerator is 0.
    pub odds_ratio: Option<f64>,
    /// exp(ln OR ± z·se), se² by Robins–Breslow–Greenland, z = 1.959963984540054; None when the OR is None or 0.
    pub ci95: Option<(f64, f64)>,
    /// Breslow–Day χ², K − 1 df; None when fewer than 2 strata, when the OR is None, 0 or 1 (to within 1e-14, as
    /// PLINK), or when any stratum has a zero row or column margin.
    pub breslow_day_chi2: Option<f64>,
    /// Upper tail of χ²(K − 1) at [`Self::breslow_day_chi2`].
    pub breslow_day_p: Option<f64>,
    /// The unstratified allelic χ² of the summed table ([`AlleleTable::allelic_chi2`] of the sum).
    pub allelic_chi2: Option<f64>,
}

/// CMH, Mantel–Haenszel OR with its RBG confidence interval, Breslow–Day and the pooled allelic χ² over `strata`
/// (one table per country). Strata without any allele are ignored; any input gives an answer, never a panic.
pub fn stratified(strata: &[AlleleTable]) -> Stratified {
    let present: Vec<Stratum> =
        strata.iter().map(|&t| Wide::from(t)).filter(|t| t.n() > 0).map(Stratum::from).collect();
    let pooled = strata.iter().fold(Wide::default(), |sum, &t| sum.plus(Wide::from(t)));

    // CMH: Σ(a − E a) = Σ (ad − bc)/n exactly, over Σ (a+b)(c+d)(a+c)(b+d) / (n²(n−1)).
    let mut deviation = 0.0;
    let mut variance = 0.0;
    // Mantel–Haenszel and Robins–Breslow–Greenland sums.
    let (mut r_sum, mut s_sum, mut pr_sum, mut ps_qr_sum, mut qs_sum) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for s in &present {
        if s.n > 1.0 {
            deviation += s.ad_minus_bc / s.n;
            variance += s.n1 * s.n2 * s.m1 * s.m2 / (s.n * s.n * (s.n - 1.0));
        }
        // R = ad/n, S = bc/n, P = (a + d)/n, Q = (b + c)/n
        let (r, s_, p, q) = (s.a * s.d / s.n, s.b * s.c / s.n, (s.a + s.d) / s.n, (s.b + s.c) / s.n);
        r_sum += r;
        s_sum += s_;
        pr_sum += p * r;
        ps_qr_sum += p * s_ + q * r;
        qs_sum += q * s_;
    }

    let chi2 = (variance > 0.0)
        .then(|| {
            let chi2 = deviation * deviation / variance;
            if chi2 < CHI2_ZERO { 0.0 } else { chi2 }
        })
        .filter(|x| x.is_finite());
    let odds_ratio = (s_sum > 0.0).then(|| r_sum / s_sum).filter(|x| x.is_finite());
    let ci95 = odds_ratio.filter(|&or| or > 0.0).and_then(|or| {
        let var_ln =
            pr_sum / (2.0 * r_sum * r_sum) + ps_qr_sum / (2.0 * r_sum * s_sum) + qs_sum / (2.0 * s_sum * s_sum);
        let half = Z_95 * var_ln.sqrt();
        let (low, high) = ((or.ln() - half).exp(), (or.ln() + half).exp());
        (low.is_finite() && high.is_finite()).then_some((low, high))
    });
    let breslow_day_chi2 = odds_ratio.and_then(|or| breslow_day(&present, or));
    let df = u32::try_from(present.len().saturating_sub(1)).ok();

    Stratified {
        chi2,
        p: chi2.map(|x| chi2_upper_tail(x, 1)),
        odds_ratio,
        ci95,
        breslow_day_chi2,
        breslow_day_p: breslow_day_chi2.zip(df).map(|(x, df)| chi2_upper_tail(x, df)),
        allelic_chi2: pooled.allelic_chi2(),
    }
}

/// Breslow–Day χ² (without Tarone's adjustment) of `strata` against the common odds ratio `psi`.
fn breslow_day(strata: &[Stratum], psi: f64) -> Option<f64> {
    if strata.len() < 2 || psi <= 0.0 || (1.0 - psi).abs() < ODDS_RATIO_ONE {
        return None;
    }
    let mut statistic = 0.0;
    for s in strata {
        // No REF allele in the stratum: its table is forced (a = n1 = the expected count), so it
        // adds nothing; statsmodels and PLINK print ~1e-28 from rounding there, not NA.
        if s.m2 <= 0.0 && s.n1 > 0.0 && s.n2 > 0.0 {
            continue;
        }
        // No case, no control or no ALT allele: undefined (statsmodels: nan, PLINK: NA).
        if s.n1 <= 0.0 || s.n2 <= 0.0 || s.m1 <= 0.0 {
            return None;
        }
        let expected = expected_case_alt(s, psi);
        let d_minus_a = s.d - s.a;
        let cells = [expected, s.n1 - expected, s.m1 - expected, d_minus_a + expected];
        if !cells.iter().all(|&x| x > 0.0) {
            return None;
        }
        let inverse_variance: f64 = cells.iter().map(|x| 1.0 / x).sum();
        statistic += (s.a - expected) * (s.a - expected) * inverse_variance;
    }
    statistic.is_finite().then_some(statistic)
}

/// The expected case ALT count of a stratum with the observed margins and odds ratio `psi` > 0:
/// A (n − n1 − m1 + A) = psi (n1 − A)(m1 − A), i.e. (1 − psi) A² + (psi (n1 + m1) + d − a) A − psi n1 m1 = 0, the
/// root in [max(0, n1 + m1 − n), min(n1, m1)].
fn expected_case_alt(s: &Stratum, psi: f64) -> f64 {
    let d_minus_a = s.d - s.a;
    let qa = 1.0 - psi;
    let qb = psi * (s.n1 + s.m1) + d_minus_a;
    let qc = -psi * s.n1 * s.m1;
    let root = (qb * qb - 4.0 * qa * qc).max(0.0).sqrt();
    // That root is statsmodels' (−qb + root) / (2 qa), written without cancellation: with qc < 0, qb ≥ 0 gives
    // qb + root > 0; and qb < 0 needs psi < 1 (else qb ≥ n), so qa > 0.
    let expected = if qb >= 0.0 { -2.0 * qc / (qb + root) } else { (root - qb) / (2.0 * qa) };
    expected.max((-d_minus_a).max(0.0)).min(s.n1.min(s.m1))
}

/// A table's cells widened so that products and sums of any `u64` counts are exact.
#[derive(Debug, Clone, Copy, Default)]
struct Wide {
    a: u128,
    b: u128,
    c: u128,
    d: u128,
}

impl From<AlleleTable> for Wide {
    fn from(t: AlleleTable) -> Self {
        Wide {
            a: u128::from(t.case_alt),
            b: u128::from(t.case_ref),
            c: u128::from(t.control_alt),
            d: u128::from(t.control_ref),
        }
    }
}

impl Wide {
    /// Cell-wise sum; exact for fewer than 2⁶⁴ tables.
    fn plus(self, o: Wide) -> Wide {
        Wide {
            a: self.a.saturating_add(o.a),
            b: self.b.saturating_add(o.b),
            c: self.c.saturating_add(o.c),
            d: self.d.saturating_add(o.d),
        }
    }

    fn n(&self) -> u128 {
        self.a + self.b + self.c + self.d
    }

    /// ad − bc, computed exactly and rounded once.
    fn ad_minus_bc(&self) -> f64 {
        // Products of cells below 2⁶⁴ fit in u128; cells of a summed table are far below 2⁶⁴ in practice and
        // saturate rather than overflow beyond it.
        let (ad, bc) = (self.a.saturating_mul(self.d), self.b.saturating_mul(self.c));
        if ad >= bc { (ad - bc) as f64 } else { -((bc - ad) as f64) }
    }

    fn allelic_chi2(&self) -> Option<f64> {
        let margins = [self.a + self.b, self.c + self.d, self.a + self.c, self.b + self.d];
        if margins.contains(&0) {
            return None;
        }
        let [r1, r2, c1, c2] = margins.map(|m| m as f64);
        let diff = self.ad_minus_bc();
        let chi2 = self.n() as f64 * (diff / (r1 * c1)) * (diff / (r2 * c2));
        chi2.is_finite().then_some(chi2)
    }
}

/// A present stratum's cells and margins as floating point numbers.
struct Stratum {
    a: f64,
    b: f64,
    c: f64,
    d: f64,
    n: f64,
    /// Cases (a + b) and controls (c + d).
    n1: f64,
    n2: f64,
    /// ALT (a + c) and REF (b + d) alleles.
    m1: f64,
    m2: f64,
    ad_minus_bc: f64,
}

impl From<Wide> for Stratum {
    fn from(t: Wide) -> Self {
        Stratum {
            a: t.a as f64,
            b: t.b as f64,
            c: t.c as f64,
            d: t.d as f64,
            n: t.n() as f64,
            n1: (t.a + t.b) as f64,
            n2: (t.c + t.d) as f64,
            m1: (t.a + t.c) as f64,
            m2: (t.b + t.d) as f64,
            ad_minus_bc: t.ad_minus_bc(),
        }
    }
}

/// Upper tail probability of the χ² distribution with `df` degrees of freedom (df ≥ 1): Q(df/2, x/2), the
/// regularized upper incomplete gamma function, accurate in relative terms for tiny p (Numerical Recipes' series
/// for x/2 ≤ df/2 + 1, Lentz's continued fraction beyond). 1 for x ≤ 0, 0 for x = ∞, NaN for NaN; df = 0 is the
/// point mass at 0.
pub fn chi2_upper_tail(x: f64, df: u32) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if df == 0 || x == f64::INFINITY {
        return 0.0;
    }
    if df == 2 {
        return (-0.5 * x).exp();
    }
    let a = f64::from(df) / 2.0;
    let y = x / 2.0;
    let ln_gamma_a = ln_gamma_half(df);
    // e^(−y) y^a / Γ(a)
    let prefactor = (a * y.ln() - y - ln_gamma_a).exp();
    if y > a + 1.0 {
        prefactor * upper_gamma_continued_fraction(a, y)
    } else {
        1.0 - prefactor * lower_gamma_series(a, y)
    }
}

/// Relative tolerance of the series and continued fraction.
const GAMMA_EPS: f64 = 1e-15;
/// Iteration cap; convergence takes O(√a) steps, a few dozen for small df.
const GAMMA_MAX_ITERATIONS: u32 = 1_000_000;
/// √π, Γ(1/2).
const SQRT_PI: f64 = 1.772453850905516;
/// ln √(2π).
const LN_SQRT_2PI: f64 = 0.9189385332046728;

/// Σₙ yⁿ / (a (a+1) ⋯ (a+n)), so that P(a, y) = e^(−y) y^a / Γ(a) × this.
fn lower_gamma_series(a: f64, y: f64) -> f64 {
    let mut denominator = a;
    let mut term = 1.0 / a;
    let mut sum = term;
    for _ in 0..GAMMA_MAX_ITERATIONS {
        denominator += 1.0;
        term *= y / denominator;
        sum += term;
        if term.abs() < sum.abs() * GAMMA_EPS {
            break;
        }
    }
    sum
}

/// The continued fraction 1/(y + 1 − a − 1·(1 − a)/(y + 3 − a − 2·(2 − a)/(y + 5 − a − ⋯))) by the modified Lentz
/// method, so that Q(a, y) = e^(−y) y^a / Γ(a) × this.
fn upper_gamma_continued_fraction(a: f64, y: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut b = y + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..GAMMA_MAX_ITERATIONS {
        let i = f64::from(i);
        let an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() < GAMMA_EPS {
            break;
        }
    }
    h
}

/// ln Γ(df/2): by the recurrence from Γ(1) = 1 or Γ(1/2) = √π while Γ stays finite (df ≤ 340), by Stirling's
/// series beyond.
fn ln_gamma_half(df: u32) -> f64 {
    let a = f64::from(df) / 2.0;
    if df <= 340 {
        let (mut gamma, mut z) = if df.is_multiple_of(2) { (1.0, 1.0) } else { (SQRT_PI, 0.5) };
        while z < a {
            gamma *= z;
            z += 1.0;
        }
        gamma.ln()
    } else {
        let a2 = a * a;
        (a - 0.5) * a.ln() - a + LN_SQRT_2PI + (1.0 / 12.0 - (1.0 / 360.0 - 1.0 / (1260.0 * a2)) / a2) / a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(cells: [u64; 4]) -> AlleleTable {
        let [case_alt, case_ref, control_alt, control_ref] = cells;
        AlleleTable { case_alt, case_ref, control_alt, control_ref }
    }

    #[track_caller]
    fn close(actual: f64, expected: f64, rel: f64) {
        let err = ((actual - expected) / expected).abs();
        assert!(err <= rel, "{actual:e} vs {expected:e}: relative error {err:e} > {rel:e}");
    }

    #[track_caller]
    fn close_some(actual: Option<f64>, expected: f64) {
        close(actual.expect("a value"), expected, 1e-9);
    }

    #[track_caller]
    fn close_ci(actual: Option<(f64, f64)>, low: f64, high: f64) {
        let (l, h) = actual.expect("an interval");
        close(l, low, 1e-9);
        close(h, high, 1e-9);
    }

    #[test]
    fn reference_1_protective_both_polymorphic() {
        let s = stratified(&[table([0, 96, 10, 894]), table([7, 89, 91, 809])]);
        close_some(s.chi2, 1.354546432316866);
        close_some(s.p, 0.2444848732373429);
        close_some(s.odds_ratio, 0.6253892808078487);
        close_ci(s.ci95, 0.28261619724649745, 1.3838971593274647);
        close_some(s.breslow_day_chi2, 0.7462031195033901);
        close_some(s.breslow_day_p, 0.3876810145555738);
        close_some(s.allelic_chi2, 1.293016978027194);
    }

    #[test]
    fn reference_2_strong_association() {
        let dk = table([2, 94, 0, 904]);
        let se = table([6, 90, 2, 902]);
        let s = stratified(&[dk, se]);
        close_some(s.chi2, 57.44264538686074);
        // statsmodels prints 3.47499806707674e-14 from 1 − cdf, which cancels; the upper tail itself (mpmath,
        // 40 digits) is 3.479799551788012e-14.
        close_some(s.p, 3.479799551788012e-14);
        close(s.p.unwrap(), 3.47499806707674e-14, 2e-3);
        close_some(s.odds_ratio, 40.111111111111114);
        close_ci(s.ci95, 8.38003962983762, 191.99207946932782);
        close_some(s.breslow_day_chi2, 0.6022917401515137);
        close_some(s.breslow_day_p, 0.43770495693919687);
        close_some(s.allelic_chi2, 57.39612516861594);
        assert_eq!(dk.odds_ratio(), None);
        assert_eq!(se.odds_ratio(), Some(6.0 * 902.0 / (90.0 * 2.0)));
    }

    #[test]
    fn reference_3_no_alt_among_cases() {
        let s = stratified(&[table([0, 92, 12, 892]), table([0, 96, 20, 884])]);
        close_some(s.chi2, 3.399846956311831);
        close_some(s.p, 0.06520246840309574);
        assert_eq!(s.odds_ratio, Some(0.0));
        assert_eq!(s.ci95, None);
        assert_eq!((s.breslow_day_chi2, s.breslow_day_p), (None, None));
        close_some(s.allelic_chi2, 3.381648432853307);
        assert_eq!(table([0, 92, 12, 892]).odds_ratio(), Some(0.0));
    }

    #[test]
    fn reference_4_one_monomorphic_stratum() {
        let s = stratified(&[table([2, 94, 18, 882]), table([0, 96, 0, 904])]);
        close_some(s.chi2, 0.003058401639344263);
        close_some(s.p, 0.9558972174485161);
        close_some(s.odds_ratio, 1.0425531914893618);
        close_ci(s.ci95, 0.23821186411591877, 4.562817058329797);
        assert_eq!((s.breslow_day_chi2, s.breslow_day_p), (None, None));
        close_some(s.allelic_chi2, 0.0033689379725965313);
    }

    #[test]
    fn reference_5_monomorphic_everywhere() {
        let strata = [table([0, 96, 0, 902]), table([0, 96, 0, 904])];
        assert_eq!(stratified(&strata), Stratified::default());
        assert_eq!(strata[0].allelic_chi2(), None);
    }

    #[test]
    fn reference_6_no_control_carrier() {
        let s = stratified(&[table([0, 96, 0, 900]), table([1, 95, 0, 904])]);
        // 0.904² / (96·904·999 / (1000²·999)) = 113/12
        close_some(s.chi2, 113.0 / 12.0);
        close_some(s.p, 0.002150220353804907);
        assert_eq!((s.odds_ratio, s.ci95, s.breslow_day_chi2, s.breslow_day_p), (None, None, None, None));
    }

    #[test]
    fn one_stratum_is_the_allelic_test_scaled_by_n_minus_1_over_n() {
        for cells in [[7, 89, 91, 809], [2, 94, 18, 882], [6, 90, 2, 902], [13, 1, 4, 9]] {
            let t = table(cells);
            let n = cells.iter().sum::<u64>() as f64;
            let s = stratified(&[t]);
            close(s.chi2.unwrap(), t.allelic_chi2().unwrap() * (n - 1.0) / n, 1e-12);
            close(s.odds_ratio.unwrap(), t.odds_ratio().unwrap(), 1e-15);
            assert_eq!(s.allelic_chi2, t.allelic_chi2());
            assert_eq!((s.breslow_day_chi2, s.breslow_day_p), (None, None));
        }
    }

    #[test]
    fn empty_strata_are_ignored_and_nothing_is_all_none() {
        assert_eq!(stratified(&[]), Stratified::default());
        assert_eq!(stratified(&[AlleleTable::default(); 3]), Stratified::default());
        let strata = [table([0, 96, 10, 894]), table([7, 89, 91, 809])];
        let with_empty = [strata[0], AlleleTable::default(), strata[1]];
        assert_eq!(stratified(&with_empty), stratified(&strata));
    }

    #[test]
    fn strata_of_one_allele_add_nothing_to_cmh() {
        let strata = [table([0, 96, 10, 894]), table([7, 89, 91, 809])];
        let s = stratified(&strata);
        let with_one = stratified(&[strata[0], strata[1], table([1, 0, 0, 0])]);
        assert_eq!(with_one.chi2, s.chi2);
        assert_eq!(with_one.odds_ratio, s.odds_ratio);
        assert_eq!(with_one.ci95, s.ci95);
        // Its zero margins leave Breslow–Day undefined, as in statsmodels.
        assert_eq!(with_one.breslow_day_chi2, None);
    }

    #[test]
    fn breslow_day_needs_two_strata_and_an_odds_ratio_other_than_one() {
        // Every stratum (and so the MH OR) exactly 1: statsmodels divides by 1 − OR = 0 and PLINK prints NA.
        let s = stratified(&[table([1, 1, 1, 1]), table([2, 3, 4, 6])]);
        assert_eq!(s.odds_ratio, Some(1.0));
        assert_eq!(s.chi2, Some(0.0));
        assert_eq!(s.p, Some(1.0));
        assert_eq!((s.breslow_day_chi2, s.breslow_day_p), (None, None));
        // A country with cases only (zero control row): statsmodels gives nan.
        let s = stratified(&[table([0, 96, 10, 894]), table([7, 89, 91, 809]), table([3, 5, 0, 0])]);
        assert!(s.chi2.is_some() && s.odds_ratio.is_some());
        assert_eq!(s.breslow_day_chi2, None);
    }

    #[test]
    fn a_stratum_without_ref_alleles_adds_nothing_to_breslow_day() {
        // 22-16094884-T-G in the demo cohorts: Denmark is all ALT. PLINK prints CHISQ_BD
        // 1.957e-28 and P_BD 1 (rounding of a 0/0); the exact value is 0.
        let s = stratified(&[table([96, 0, 900, 0]), table([90, 6, 875, 27])]);
        assert_eq!(s.breslow_day_chi2, Some(0.0));
        close_some(s.breslow_day_p, 1.0);
        close_some(s.odds_ratio, 0.4628571428571429);
    }

    #[test]
    fn breslow_day_is_zero_for_equal_odds_ratios() {
        // Both strata have OR 2 (1·8 / (2·2) and 2·8 / (2·4)), so the expected cells are the observed ones.
        let s = stratified(&[table([1, 2, 2, 8]), table([2, 2, 4, 8])]);
        close_some(s.odds_ratio, 2.0);
        assert!(s.breslow_day_chi2.unwrap() < 1e-20, "{:?}", s.breslow_day_chi2);
        close_some(s.breslow_day_p, 1.0);
    }

    #[test]
    fn breslow_day_expected_cell_solves_the_quadratic_for_odds_ratios_on_both_sides_of_one() {
        // The expected table keeps the observed margins and has odds ratio psi.
        for cells in [[30, 10, 5, 40], [3, 50, 2, 70], [5, 40, 30, 10], [2, 70, 3, 50], [1, 0, 1000, 3], [90, 9, 1, 2]]
        {
            let s = Stratum::from(Wide::from(table(cells)));
            for psi in [1e-6, 0.01, 0.3, 0.999, 1.001, 2.5, 40.0, 1e6] {
                let e = expected_case_alt(&s, psi);
                assert!(e > 0.0 && e < s.n1.min(s.m1) && e > s.a - s.d, "{cells:?} {psi}: {e}");
                // Ill-conditioned near the bounds (n1 − e is ~1e-6 for psi = 1e6), hence the loose tolerance: this
                // checks that the right root is taken.
                close(e * (s.d - s.a + e) / ((s.n1 - e) * (s.m1 - e)), psi, 1e-7);
            }
        }
    }

    #[test]
    fn allele_table_basics() {
        let t = table([1, 2, 3, 4]);
        assert_eq!(t.cells(), [1, 2, 3, 4]);
        assert_eq!(t.odds_ratio(), Some(4.0 / 6.0));
        // 10 · (4 − 6)² / (3 · 7 · 4 · 6)
        close(t.allelic_chi2().unwrap(), 40.0 / 504.0, 1e-15);
        assert_eq!(table([0, 0, 0, 0]).odds_ratio(), None);
        assert_eq!(table([5, 0, 3, 0]).allelic_chi2(), None);
        let json = serde_json::to_string(&table([1, 2, 3, 4])).unwrap();
        assert_eq!(json, r#"{"caseAlt":1,"caseRef":2,"controlAlt":3,"controlRef":4}"#);
        assert_eq!(serde_json::from_str::<AlleleTable>(&json).unwrap(), table([1, 2, 3, 4]));
    }

    #[test]
    fn huge_counts_do_not_panic() {
        let max = table([u64::MAX; 4]);
        assert_eq!(max.odds_ratio(), Some(1.0));
        assert_eq!(max.allelic_chi2(), Some(0.0));
        for strata in [
            vec![max, max],
            vec![max, table([u64::MAX, 0, 0, u64::MAX]), table([0, u64::MAX, 1, 0])],
            vec![table([u64::MAX, 1, 1, u64::MAX]), table([1, u64::MAX, u64::MAX, 1])],
        ] {
            let s = stratified(&strata);
            for x in
                [s.chi2, s.p, s.odds_ratio, s.breslow_day_chi2, s.breslow_day_p, s.allelic_chi2].into_iter().flatten()
            {
                assert!(x.is_finite() && x >= 0.0, "{s:?}");
            }
        }
    }

    #[test]
    fn chi2_upper_tail_known_values() {
        close(chi2_upper_tail(3.841458820694124, 1), 0.05, 1e-12);
        close(chi2_upper_tail(5.991464547107979, 2), 0.05, 1e-12);
        close(chi2_upper_tail(100.0, 1), 1.5239706048321e-23, 1e-9);
        for x in [0.001, 0.5, 1.0, 3.0, 17.25, 100.0, 1000.0] {
            assert_eq!(chi2_upper_tail(x, 2), (-x / 2.0).exp());
        }
        assert_eq!(chi2_upper_tail(0.0, 1), 1.0);
        assert_eq!(chi2_upper_tail(0.0, 7), 1.0);
        assert_eq!(chi2_upper_tail(-1.0, 3), 1.0);
        assert_eq!(chi2_upper_tail(f64::INFINITY, 3), 0.0);
        assert!(chi2_upper_tail(f64::NAN, 3).is_nan());
        // mpmath gammainc(df/2, x/2, inf, regularized=True) at 40 digits; both branches, both parities of df, and
        // Stirling's ln Γ (df > 340).
        for (x, df, q) in [
            (1.0, 1, 0.3173105078629141),
            (0.001, 1, 0.9747728793699604),
            (40.0, 1, 2.539628589470865e-10),
            (700.0, 1, 2.9902269751246203e-154),
            (57.44264538686074, 1, 3.479799551788015e-14),
            (1.0, 3, 0.8012519569012008),
            (0.01, 4, 0.9999875415886457),
            (10.0, 5, 0.07523524614651218),
            (0.5, 7, 0.999446481390425),
            (350.0, 340, 0.3426310277053688),
            (330.0, 341, 0.6555054296192952),
            (450.0, 400, 0.04249935069792306),
        ] {
            close(chi2_upper_tail(x, df), q, 1e-12);
        }
        // 1.8121332982823e-433 is below the smallest f64.
        assert_eq!(chi2_upper_tail(2000.0, 3), 0.0);
    }
}
