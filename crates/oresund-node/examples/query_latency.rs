//! In-process query latency on an existing node: single-variant counts with a phenotype filter and
//! 1 Mb region counts, as p50/p99 over many calls (the numbers in BENCHMARKS.md).
//!
//! ```sh
//! [REGION_THREADS=N] cargo run --release -p oresund-node --example query_latency -- NODE_DIR [PHENOTYPE] [CALLS]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use oresund_core::region::Region;
use oresund_core::variant::Variant;
use oresund_node::{CohortFilter, Node, TermFilter};

// The same allocator as the `oresund` binary, so the numbers are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(label: &str, mut micros: Vec<f64>) {
    micros.sort_by(f64::total_cmp);
    println!(
        "{label}: n={} p50={:.1} µs p90={:.1} µs p99={:.1} µs max={:.1} µs",
        micros.len(),
        percentile(&micros, 0.5),
        percentile(&micros, 0.9),
        percentile(&micros, 0.99),
        micros[micros.len() - 1]
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: query_latency NODE_DIR [PHENOTYPE] [CALLS]")?);
    let phenotype = args.next().unwrap_or_else(|| "HP:0000707".into());
    let calls: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(20_000);
    let mut node = Node::open(&dir)?;
    // REGION_THREADS=1 counts a region on the calling thread (default: one thread per core).
    if let Some(threads) = std::env::var_os("REGION_THREADS") {
        node.set_region_threads(threads.to_str().ok_or("REGION_THREADS: a number")?.parse()?);
    }
    let contig = node.reference().contigs()[0].clone();
    // Every variant of the first contig, to pick queries from.
    let all = node.count_region(&Region::new(&contig.name, 1, contig.length)?, &CohortFilter::default())?;
    let variants: Vec<Variant> = all.into_iter().map(|c| c.variant).collect();
    println!("node {} : {} variants on {}", dir.display(), variants.len(), contig.name);
    let filter = CohortFilter {
        terms: vec![TermFilter { id: phenotype.clone(), include_descendants: true }],
        ..CohortFilter::default()
    };
    // A fixed pseudo-random walk over the variants (no rand dependency).
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    // Warm: every variant once, so that every cache (SQLite's pages, PostgreSQL's block cache
    // within its budget) holds what it would hold in a long-running server.
    // CALLS 0: regions only, without the warm-up (for profiling the region count).
    // Its answers summed, so that two nodes of the same data (embedded, PostgreSQL) can be seen
    // to answer alike: variants found, AC, AN, het and hom-ALT sums, and a hash of the VRS ids.
    let (mut found, mut sums, mut ids) = (0u64, [0u64; 4], 0xcbf2_9ce4_8422_2325u64);
    for variant in variants.iter().filter(|_| calls > 0) {
        if let Some(count) = node.count_variant(variant, &filter)? {
            let c = count.counts;
            found += 1;
            for (sum, n) in sums.iter_mut().zip([c.allele_count, c.allele_number, c.heterozygous, c.homozygous_alt]) {
                *sum += n;
            }
            for byte in count.vrs_id.bytes() {
                ids = (ids ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
            }
        }
    }
    if calls > 0 {
        let [ac, an, het, hom] = sums;
        println!(
            "every variant once, --phenotype {phenotype}: found={found} AC={ac} AN={an} het={het} hom={hom} ids={ids:016x}"
        );
    }
    let mut single = Vec::with_capacity(calls);
    for _ in 0..calls {
        let variant = &variants[next(variants.len())];
        let start = Instant::now();
        let count = node.count_variant(variant, &filter)?;
        single.push(start.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(count);
    }
    if calls > 0 {
        report(&format!("single variant, --phenotype {phenotype}"), single);
    }
    let first = variants[0].pos();
    let last = variants[variants.len() - 1].pos();
    let mut region = Vec::new();
    let mut sizes = 0;
    let mut region_ac = 0u64;
    for _ in 0..200 {
        let start = first + next((last - first).saturating_sub(1_000_000).max(1) as usize) as u64;
        let window = Region::new(&contig.name, start, start + 999_999)?;
        let t = Instant::now();
        let counts = node.count_region(&window, &filter)?;
        region.push(t.elapsed().as_secs_f64() * 1e6);
        sizes += counts.len();
        region_ac += counts.iter().map(|c| c.counts.allele_count).sum::<u64>();
    }
    // The sum lets two nodes of one cohort (embedded, PostgreSQL) be checked for the same answers.
    println!("1 Mb regions hold {:.0} variants on average (AC summed over all: {region_ac})", sizes as f64 / 200.0);
    if std::env::var_os("ORESUND_BENCH_STORE").is_some() {
        let mut raw = Vec::new();
        for _ in 0..50 {
            let start = first + next((last - first).saturating_sub(1_000_000).max(1) as usize) as u64;
            let t = Instant::now();
            let mut entries = 0usize;
            node.store().scan_region(0, start, start + 999_999, &mut |_, entry| {
                entries += entry.carriers.as_stored().len();
                Ok(())
            })?;
            raw.push(t.elapsed().as_secs_f64() * 1e6);
            std::hint::black_box(entries);
        }
        report("store.scan_region alone", raw);
    }
    report(&format!("1 Mb region, --phenotype {phenotype}"), region);
    Ok(())
}
