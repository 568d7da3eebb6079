//! The Shringarpure–Bustamante membership attack (AJHG 2015) against a node, with and without the
//! re-identification budget (Raisaro et al., JAMIA 2017).
//!
//! The node serves half of the demo-data Danish cohort (even sample columns, 250 people). Victims are
//! people it serves; controls are people of the same population it does not serve; a disjoint
//! quarter of the cohort is the attacker's reference panel (their allele frequencies). For each
//! target the attacker — one registered user — asks the node about the target's rarest alleles,
//! one sequence query each, targets in random order, and scores the answers with the likelihood
//! ratio test of Shringarpure & Bustamante (sequencing error δ = 10⁻⁶). Detection power is the
//! share of victims scoring above the 95th percentile of controls (5% false positives).
//!
//! Without the budget the attack finds most victims; with it, power falls to about chance, while
//! other users' ordinary frequency lookups (common variants) and repeated questions keep working.
//!
//!     cargo test -p oresund --features external-tests --test e2e -- external::reidentification --nocapture

use std::collections::HashMap;
use std::io::BufRead;

use crate::common::*;

/// Queries per target: the target's rarest alleles.
const QUERIES: usize = 200;
/// Victims and controls.
const TARGETS: usize = 60;
/// Sequencing error rate of the test (Shringarpure & Bustamante).
const DELTA: f64 = 1e-6;

/// One ALT allele of the VCF and how many copies each sample carries.
struct Allele {
    chrom: String,
    pos: u64,
    reference: String,
    alternate: String,
    copies: Vec<u8>,
}

fn read_cohort() -> (Vec<String>, Vec<Allele>) {
    let reader =
        std::io::BufReader::new(flate2::read::MultiGzDecoder::new(std::fs::File::open(cohort("DK.vcf.gz")).unwrap()));
    let mut samples = Vec::new();
    let mut alleles = Vec::new();
    for line in reader.lines() {
        let line = line.unwrap();
        if line.starts_with("##") {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if line.starts_with('#') {
            samples = fields[9..].iter().map(|s| s.to_string()).collect();
            continue;
        }
        for (index, alternate) in fields[4].split(',').enumerate() {
            if !alternate.bytes().all(|b| b"ACGTN".contains(&b)) {
                continue;
            }
            let code = (index + 1).to_string();
            let copies = fields[9..]
                .iter()
                .map(|g| g.split(':').next().unwrap().split(['/', '|']).filter(|a| *a == code).count() as u8)
                .collect();
            alleles.push(Allele {
                chrom: fields[0].into(),
                pos: fields[1].parse().unwrap(),
                reference: fields[3].into(),
                alternate: alternate.into(),
                copies,
            });
        }
    }
    (samples, alleles)
}

/// A small deterministic generator (the test must not depend on chance between runs).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize % n
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// What the node said about one allele.
#[derive(Clone, Copy, PartialEq)]
enum Answer {
    Yes,
    No,
    Refused,
}

struct Attack<'a> {
    alleles: &'a [Allele],
    /// Reference-panel frequency of each allele.
    panel: Vec<f64>,
    served: usize,
    /// (is a victim, column) in attack order.
    targets: Vec<(bool, usize)>,
}

impl Attack<'_> {
    fn queries(&self, column: usize) -> Vec<usize> {
        let mut carried: Vec<usize> = (0..self.alleles.len()).filter(|&a| self.alleles[a].copies[column] > 0).collect();
        carried.sort_by(|&a, &b| self.panel[a].total_cmp(&self.panel[b]).then(a.cmp(&b)));
        carried.truncate(QUERIES);
        carried
    }

    /// Asks the node every target's queries; returns each target's answers.
    fn run(&self, server: &Server, token: Option<&str>) -> Vec<Vec<(usize, Answer)>> {
        let mut known: HashMap<usize, Answer> = HashMap::new();
        let mut out = Vec::new();
        for &(_, column) in &self.targets {
            let mut answers = Vec::new();
            for a in self.queries(column) {
                let answer = *known.entry(a).or_insert_with(|| {
                    let path = sequence_query(&self.alleles[a]);
                    match server.get(&path, token) {
                        (200, body) if body["responseSummary"]["exists"] == true => Answer::Yes,
                        (200, _) => Answer::No,
                        (403, body) => {
                            let message = body["error"]["errorMessage"].as_str().unwrap_or_default();
                            assert!(message.contains("re-identification budget"), "{message}");
                            Answer::Refused
                        }
                        (status, body) => panic!("{path}: HTTP {status}: {body}"),
                    }
                });
                answers.push((a, answer));
            }
            out.push(answers);
        }
        out
    }

    /// The likelihood-ratio score of membership: higher means more likely in the node. A refusal
    /// counts as `refused_as` (or is left out when `None`).
    fn score(&self, answers: &[(usize, Answer)], refused_as: Option<Answer>) -> f64 {
        let n = self.served as f64;
        answers
            .iter()
            .filter_map(|&(a, answer)| {
                let answer = if answer == Answer::Refused { refused_as? } else { answer };
                let d = (1.0 - self.panel[a]).powf(2.0 * n);
                Some(if answer == Answer::Yes { ((1.0 - DELTA * d) / (1.0 - d)).ln() } else { DELTA.ln() })
            })
            .sum()
    }

    /// Share of victims scoring above the 95th percentile of controls.
    fn power(&self, answers: &[Vec<(usize, Answer)>], refused_as: Option<Answer>) -> f64 {
        let (mut victims, mut controls) = (Vec::new(), Vec::new());
        for (&(victim, _), answers) in self.targets.iter().zip(answers) {
            let score = self.score(answers, refused_as);
            if victim { victims.push(score) } else { controls.push(score) }
        }
        controls.sort_by(f64::total_cmp);
        let threshold = controls[((0.95 * controls.len() as f64).ceil() as usize).saturating_sub(1)];
        victims.iter().filter(|&&s| s > threshold).count() as f64 / victims.len() as f64
    }
}

/// A sequence query for one allele, at count granularity (the node grants what the caller may have).
fn sequence_query(a: &Allele) -> String {
    format!(
        "/g_variants?referenceName={}&start={}&referenceBases={}&alternateBases={}&requestedGranularity=count",
        a.chrom,
        a.pos - 1,
        a.reference,
        a.alternate
    )
}

/// Turns the registered users' and the public tier's budgets on or off together.
fn set_budget(node: &TestNode, enabled: bool) {
    let config = node.dir.join("oresund.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = match text.find("\n[access.budget]") {
        Some(at) => text[..at].to_string(),
        None => text,
    };
    // ORESUND_ATTACK_BUDGET, ORESUND_PUBLIC_BUDGET and ORESUND_PUBLIC_MIN_CARRIERS try other budgets
    // (nats) and thresholds than the defaults.
    let set = |var: &str, key: &str| std::env::var(var).map(|n| format!("{key} = {n}\n")).unwrap_or_default();
    let registered = set("ORESUND_ATTACK_BUDGET", "nats");
    let public =
        set("ORESUND_PUBLIC_BUDGET", "public_nats") + &set("ORESUND_PUBLIC_MIN_CARRIERS", "public_min_carriers");
    let budget = format!("[access.budget]\nenabled = {enabled}\npublic = {enabled}\n{registered}{public}");
    std::fs::write(&config, format!("{text}\n{budget}")).unwrap();
}

/// The node serving half the cohort, the cohort's alleles, the attacker's panel and targets.
struct Scenario {
    node: TestNode,
    alleles: Vec<Allele>,
    panel: Vec<f64>,
    served: Vec<usize>,
    targets: Vec<(bool, usize)>,
}

impl Scenario {
    /// Twenty alleles more than a hundred served people carry, spread over the cohort.
    fn common_alleles(&self) -> Vec<&Allele> {
        let carried = |a: &Allele| self.served.iter().map(|&c| u32::from(a.copies[c])).sum::<u32>();
        let common: Vec<&Allele> = self.alleles.iter().filter(|a| carried(a) > 100).step_by(97).take(20).collect();
        assert!(common.len() >= 10);
        common
    }

    fn attack(&self) -> Attack<'_> {
        Attack {
            alleles: &self.alleles,
            panel: self.panel.clone(),
            served: self.served.len(),
            targets: self.targets.clone(),
        }
    }
}

fn scenario() -> Scenario {
    require("bcftools", "apt-get install bcftools");
    let (samples, alleles) = read_cohort();
    let columns = samples.len();
    let served: Vec<usize> = (0..columns).step_by(2).collect();
    let others: Vec<usize> = (1..columns).step_by(2).collect();
    let (control_pool, panel_columns): (Vec<usize>, Vec<usize>) =
        (others.iter().step_by(2).copied().collect(), others.iter().skip(1).step_by(2).copied().collect());
    let panel: Vec<f64> = alleles
        .iter()
        .map(|a| {
            let count: u32 = panel_columns.iter().map(|&c| u32::from(a.copies[c])).sum();
            (f64::from(count) + 0.5) / (2.0 * panel_columns.len() as f64 + 1.0)
        })
        .collect();

    // The node: the served half, as a dataset of its own.
    let node = TestNode::new("DK-NGC", "DK");
    let work = node.tmp.path();
    let names: Vec<&str> = served.iter().map(|&c| samples[c].as_str()).collect();
    let vcf = work.join("served.vcf.gz");
    sh(&format!("bcftools view -s {} -Oz -o {} {}", names.join(","), vcf.display(), cohort("DK.vcf.gz").display()));
    let people = std::fs::read_to_string(cohort("DK.individuals.tsv")).unwrap();
    let kept: Vec<&str> = people
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || names.contains(&l.split('\t').next().unwrap()))
        .map(|(_, l)| l)
        .collect();
    let tsv = work.join("served.tsv");
    std::fs::write(&tsv, kept.join("\n") + "\n").unwrap();
    ok(&["ingest", node.path(), "--dataset", "DK-HALF", "--individuals", tsv.to_str().unwrap(), vcf.to_str().unwrap()]);

    // ORESUND_ATTACK_SEED replays the attack with other victims, controls and order.
    let seed = std::env::var("ORESUND_ATTACK_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20_151_105);
    let mut random = Lcg(seed);
    let mut victims: Vec<usize> = served.clone();
    let mut controls: Vec<usize> = control_pool.clone();
    random.shuffle(&mut victims);
    random.shuffle(&mut controls);
    let mut targets: Vec<(bool, usize)> =
        victims[..TARGETS].iter().map(|&c| (true, c)).chain(controls[..TARGETS].iter().map(|&c| (false, c))).collect();
    random.shuffle(&mut targets);
    Scenario { node, alleles, panel, served, targets }
}

#[test]
fn the_budget_takes_the_membership_attack_down_to_chance() {
    let scenario = scenario();
    let (node, alleles, served, attack) = (&scenario.node, &scenario.alleles, &scenario.served, scenario.attack());
    let attacker = token(&node.dir, &["--user", "attacker@example.org", "--registered"]);
    let clinician = token(&node.dir, &["--user", "clinician@example.org", "--registered"]);
    set_budget(node, false);
    let server = Server::start(&node.dir, &[]);
    let without = attack.run(&server, Some(&attacker));
    assert!(server.stop().success());
    let power_without = attack.power(&without, None);

    set_budget(node, true);
    let server = Server::start(&node.dir, &[]);
    let with = attack.run(&server, Some(&attacker));
    let refused = with.iter().flatten().filter(|(_, a)| *a == Answer::Refused).count();
    let (ignored, as_yes) = (attack.power(&with, None), attack.power(&with, Some(Answer::Yes)));
    eprintln!(
        "membership attack, {TARGETS} victims / {TARGETS} controls, {QUERIES} rarest alleles each: power at 5% FPR \
         without budget {power_without:.3}; with budget {ignored:.3} (refusals ignored), {as_yes:.3} (refusals read as \
         \"carrier present\"); {refused} of {} answers refused",
        with.iter().map(Vec::len).sum::<usize>()
    );
    assert!(
        power_without >= 0.6,
        "the attack must work without the budget, or this test proves nothing: {power_without}"
    );
    assert!(
        ignored <= 0.15 && as_yes <= 0.15,
        "with the budget the attack must be near chance (0.05): {ignored}, {as_yes}"
    );

    // Ordinary use keeps working for everyone else: common variants, and rare ones asked again and
    // again (repeats are free). The attacker, locked since the first refusal, gets nothing new.
    let common = scenario.common_alleles();
    let path = sequence_query;
    for allele in &common {
        let (status, body) = server.get(&path(allele), Some(&clinician));
        assert_eq!(status, 200, "a common variant refused: {body}");
        assert!(body["response"]["resultSets"][0]["info"]["variants"][0]["alleleFrequency"].as_f64().unwrap() > 0.1);
        assert_eq!(server.get(&path(allele), None).0, 200);
        let (status, body) = server.get(&path(allele), Some(&attacker));
        assert_eq!(status, 403, "the attacker is locked out: {body}");
        assert!(body["error"]["errorMessage"].as_str().unwrap().contains("budget spent"), "{body}");
    }
    // A singleton costs its carrier ~0.46 nats: asked 20 times it would cost 9, but repeats are free.
    let rare = alleles.iter().find(|a| served.iter().map(|&c| u32::from(a.copies[c])).sum::<u32>() == 1).unwrap();
    for _ in 0..20 {
        assert_eq!(server.get(&path(rare), Some(&clinician)).0, 200);
    }
    assert!(server.stop().success());

    // The operator lifts the attacker's lock: common variants are answered again, the spent
    // budgets stay spent, and the unlock is in the audit log.
    ok(&["budget", "unlock", node.path(), "--user", "attacker@example.org", "--reason", "reviewed"]);
    let again = run(&["budget", "unlock", node.path(), "--user", "attacker@example.org", "--reason", "reviewed"]);
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("is not locked"));
    let server = Server::start(&node.dir, &[]);
    assert_eq!(server.get(&path(common[0]), Some(&attacker)).0, 200);
    assert!(server.stop().success());
    let log = ok(&["audit", "show", node.path(), "--user", "operator"]);
    assert!(log.contains("budget-unlock") && log.contains("reviewed"), "{log}");
}

/// The same attack through anonymous yes/no answers: the public tier's shared budget answers
/// "yes" only about alleles at least `public_min_carriers` (8) carriers can pay for, and leaves a
/// person out once their alleles have disclosed its nats. That takes the attack's power from 1 to
/// chance (BENCHMARKS.md measures it at several thresholds), while common variants keep their
/// "yes" for everyone.
#[test]
fn the_public_budget_cuts_the_anonymous_attack() {
    let scenario = scenario();
    let (node, alleles, attack) = (&scenario.node, &scenario.alleles, scenario.attack());
    // Tokens are read when a server starts.
    let researcher = token(&node.dir, &["--user", "researcher@example.org", "--registered"]);
    set_budget(node, false);
    let server = Server::start(&node.dir, &[]);
    let without = attack.run(&server, None);
    assert!(server.stop().success());
    let power_without = attack.power(&without, None);

    set_budget(node, true);
    let server = Server::start(&node.dir, &[]);
    let with = attack.run(&server, None);
    let yes = |answers: &[Vec<(usize, Answer)>]| answers.iter().flatten().filter(|(_, a)| *a == Answer::Yes).count();
    let power_with = attack.power(&with, None);
    // Mean "no" answers per victim and per control, without and with the budget.
    let noes = |answers: &[Vec<(usize, Answer)>], victim: bool| {
        let of: Vec<usize> = attack
            .targets
            .iter()
            .zip(answers)
            .filter(|((v, _), _)| *v == victim)
            .map(|(_, a)| a.iter().filter(|(_, a)| *a == Answer::No).count())
            .collect();
        of.iter().sum::<usize>() as f64 / of.len() as f64
    };
    eprintln!(
        "\"no\" answers per victim / control: without the budget {:.1} / {:.1}, with it {:.1} / {:.1}",
        noes(&without, true),
        noes(&without, false),
        noes(&with, true),
        noes(&with, false)
    );
    eprintln!(
        "anonymous membership attack, {TARGETS} victims / {TARGETS} controls, {QUERIES} rarest alleles each: power at \
         5% FPR without the public budget {power_without:.3}, with it {power_with:.3}; \"yes\" answers {} without, {} \
         with",
        yes(&without),
        yes(&with)
    );
    assert!(with.iter().flatten().all(|(_, a)| *a != Answer::Refused), "the public tier is never refused");
    assert!(
        power_without >= 0.6,
        "the attack must work without the budget, or this test proves nothing: {power_without}"
    );
    // Chance is 0.05; with 60 controls one run resolves it to about ±0.03 (one binomial standard
    // deviation), so 0.1 is chance and two deviations. Without the carrier threshold (2 carriers)
    // the same run measured 0.233.
    assert!(power_with <= 0.1, "the public budget must take the attack to chance: {power_with}");

    // Common variants: still "yes" for every anonymous caller, after all that.
    let common = scenario.common_alleles();
    for allele in common {
        let path = sequence_query(allele);
        let (status, body) = server.get(&path, None);
        assert_eq!((status, body["responseSummary"]["exists"].as_bool()), (200, Some(true)), "{path}: {body}");
    }
    // A registered user has a budget of their own: the singletons the public can no longer see
    // are still counted for them.
    let hidden: Vec<usize> = without
        .iter()
        .flatten()
        .zip(with.iter().flatten())
        .filter(|(a, b)| a.1 == Answer::Yes && b.1 == Answer::No)
        .map(|(a, _)| a.0)
        .take(3)
        .collect();
    assert!(!hidden.is_empty(), "the budget withheld some answers");
    for a in hidden {
        let path = sequence_query(&alleles[a]);
        // Asked again anonymously, it stays withheld (this time from what the server remembers).
        let (status, body) = server.get(&path, None);
        assert_eq!((status, body["responseSummary"]["exists"].as_bool()), (200, Some(false)), "{path} again: {body}");
        let (status, body) = server.get(&path, Some(&researcher));
        assert_eq!((status, body["responseSummary"]["exists"].as_bool()), (200, Some(true)), "{path}: {body}");
    }
    assert!(server.stop().success());
}
