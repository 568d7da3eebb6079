//! Ranks synthetic cases against synthetic queries and prints p50/p99 per query, in process:
//! `cargo run --release -p oresund-match --example rank_cases -- [CASES] [QUERIES] [SEED] [DUMP_DIR]`.
//! With DUMP_DIR it also writes the cases and queries as MME patients (`cases.json`,
//! `queries.json`: JSON arrays; genes by HGNC symbol) for other matchers and for `oresund mme add`.
//!
//! Cases draw 3–12 features from the HPO annotations of one gene (the gene itself with
//! probability 1/2, a second random gene otherwise), from the HPO and gene table shipped in the
//! repository; queries have 10 features and 2 genes. Used by `bench/matchmaking.sh`.

use std::io::Read;
use std::time::Instant;

use oresund_core::ontology::{Ontology, TermIndex};
use oresund_match::{Case, CaseIndex, GeneKey, GeneTable, PhenotypeModel, Weights};

fn gunzip(path: &str) -> String {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).expect(path)).read_to_string(&mut text).expect(path);
    text
}

/// splitmix64: a seeded generator, enough for drawing cases.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cases: usize = args.get(1).map_or(100_000, |a| a.parse().expect("CASES"));
    let queries: usize = args.get(2).map_or(200, |a| a.parse().expect("QUERIES"));
    let seed: u64 = args.get(3).map_or(7, |a| a.parse().expect("SEED"));
    let dump = args.get(4).map(std::path::PathBuf::from);
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let started = Instant::now();
    let ontology = Ontology::from_obo(gunzip(&format!("{root}/demo-data/hp.obo.gz")).as_bytes()).expect("hp.obo");
    let genes =
        GeneTable::parse(&gunzip(&format!("{root}/crates/oresund-match/data/hpo-genes.tsv.gz"))).expect("genes");
    let annotations: Vec<(TermIndex, u32)> =
        genes.annotations().iter().filter_map(|(t, g)| Some((ontology.resolve(t)?, *g))).collect();
    let model = PhenotypeModel::new(&ontology, annotations.iter().copied());
    eprintln!(
        "model: {} terms, {} genes, {:.0} ms",
        ontology.len(),
        model.genes(),
        started.elapsed().as_secs_f64() * 1e3
    );
    let mut by_gene: std::collections::BTreeMap<u32, Vec<TermIndex>> = Default::default();
    for &(t, g) in &annotations {
        by_gene.entry(g).or_default().push(t);
    }
    let by_gene: Vec<(u32, Vec<TermIndex>)> = by_gene.into_iter().collect();
    let mut rng = Rng(seed);
    let mut draw = |n_terms: usize, n_genes: usize, key: String| {
        let (gene, terms) = &by_gene[rng.below(by_gene.len())];
        let mut picked: Vec<TermIndex> = (0..n_terms).map(|_| terms[rng.below(terms.len())]).collect();
        picked.sort_unstable();
        picked.dedup();
        let mut genes = vec![GeneKey::Ncbi(*gene)];
        while genes.len() < n_genes {
            genes.push(GeneKey::Ncbi(by_gene[rng.below(by_gene.len())].0));
        }
        Case { key, terms: picked, genes, variants: Vec::new() }
    };
    let all: Vec<Case> = (0..cases).map(|i| draw(3 + i % 10, 1 + i % 2, format!("case-{i:06}"))).collect();
    let queries: Vec<Case> = (0..queries).map(|q| draw(10, 2, format!("query-{q}"))).collect();
    if let Some(dir) = dump {
        std::fs::create_dir_all(&dir).expect("dump dir");
        let mme = |c: &Case| {
            serde_json::json!({
                "id": c.key,
                "contact": {"name": "Synthetic clinician", "href": "mailto:synthetic@example.org"},
                "features": c.terms.iter().map(|&t| serde_json::json!({"id": ontology.id(t)})).collect::<Vec<_>>(),
                "genomicFeatures": c.genes.iter().map(|g| serde_json::json!({"gene": {"id": genes.symbol(g).unwrap_or("-")}})).collect::<Vec<_>>(),
            })
        };
        for (name, set) in [("cases.json", &all), ("queries.json", &queries)] {
            let list: Vec<serde_json::Value> = set.iter().map(mme).collect();
            std::fs::write(dir.join(name), serde_json::to_string(&list).unwrap()).expect("write dump");
        }
    }
    let index = CaseIndex::new(all);
    let mut times = Vec::with_capacity(queries.len());
    let mut found = 0;
    for query in &queries {
        let t = Instant::now();
        let ranked = index.best(&model, query, Weights::default(), 0.5, 5, |_| true);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        found += ranked.len();
    }
    times.sort_by(f64::total_cmp);
    let at = |p: f64| times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1];
    println!(
        "cases={cases} queries={} results={found} p50_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        queries.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
}
