//! Region counts over a node of several files: each variant once, summed over the files holding it.

use std::collections::BTreeMap;

use oresund_core::individual::Sex;
use oresund_core::region::Region;
use oresund_node::{CohortFilter, Node};

use crate::common::{TestNode, dk_se_template, dk_template, ok};

/// `query --region` rows of `node` by variant: (VRS id, AC, AN, het, hom-ALT, hemizygous). Fails on
/// a variant listed twice.
fn rows(node: &TestNode, extra: &[&str]) -> BTreeMap<String, (String, [u64; 5])> {
    let mut out = BTreeMap::new();
    for row in node.dump(extra) {
        let f: Vec<&str> = row.split('\t').collect();
        let n = |i: usize| f[i].parse::<u64>().unwrap_or_else(|_| panic!("bad count in {row}"));
        let counts = [n(2), n(3), n(5), n(6), n(7)];
        let earlier = out.insert(f[0].to_string(), (f[1].to_string(), counts));
        assert!(earlier.is_none(), "{} listed twice (with {extra:?})", f[0]);
    }
    out
}

#[test]
fn a_variant_in_two_files_is_listed_once_with_both_files_counts() {
    let node = TestNode::copy_of(dk_se_template());
    let all = rows(&node, &[]);
    let dk = rows(&node, &["--dataset", "DK-1"]);
    let se = rows(&node, &["--dataset", "SE-1"]);
    let shared = dk.keys().filter(|v| se.contains_key(*v)).count();
    assert!(shared > 5_000, "DK and SE share {shared} variants; the cohorts hold the same sites");
    let listed: Vec<&String> = all.keys().collect();
    let either: Vec<&String> =
        dk.keys().chain(se.keys()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    assert_eq!(listed, either, "the node lists every variant of either file, once");
    for (variant, (id, counts)) in &all {
        let mut expected = [0u64; 5];
        for (dataset_id, dataset_counts) in [dk.get(variant), se.get(variant)].into_iter().flatten() {
            assert_eq!(dataset_id, id, "{variant}: one VRS id");
            expected.iter_mut().zip(dataset_counts).for_each(|(e, c)| *e += c);
        }
        assert_eq!(*counts, expected, "{variant}: the node's counts are DK-1's plus SE-1's");
    }
    // A region holding one shared variant only: each file's scan yields the same variant, in order.
    let mut asked = 0;
    for (variant, (_, counts)) in all.iter().filter(|(v, _)| dk.contains_key(*v) && se.contains_key(*v)).step_by(500) {
        let pos = variant.split('-').nth(1).unwrap();
        let region = format!("{}:{pos}-{pos}", variant.split('-').next().unwrap());
        let answer = ok(&["query", node.path(), "--region", &region, "--format", "tsv"]);
        let here: Vec<&str> = answer.lines().skip(1).filter(|r| r.starts_with(&format!("{variant}\t"))).collect();
        assert_eq!(here.len(), 1, "{region}: {variant} once, got {answer}");
        let f: Vec<u64> = here[0].split('\t').skip(2).map(|x| x.parse().unwrap_or(u64::MAX)).collect();
        assert_eq!([f[0], f[1], f[3], f[4], f[5]], *counts, "{region}: the same counts as in the whole scan");
        asked += 1;
    }
    assert!(asked >= 10, "{asked} one-variant regions asked");
}

/// A region count on several threads (blocks counted by workers while the store reads on) gives
/// the calling thread's answer: over one file (blocks joined in order) and over two files of the
/// same sites (merged), for everyone and for a filter, for regions of one block and of many.
#[test]
fn a_region_counted_on_several_threads_is_counted_on_one() {
    for template in [dk_template(), dk_se_template()] {
        let node = TestNode::copy_of(template);
        let open = |threads| {
            let mut node = Node::open(std::path::Path::new(node.path())).expect("open the node");
            node.set_region_threads(threads);
            node
        };
        let (one, four) = (open(1), open(4));
        let filters = [CohortFilter::default(), CohortFilter { sex: Some(Sex::Female), ..Default::default() }];
        let whole = Region::new("22", 1, 17_999_999).unwrap();
        let all = one.count_region(&whole, &filters[0]).unwrap();
        // Past a few blocks of 256 variants, so that workers share them.
        assert!(all.len() > 2_000, "{} variants on 22", all.len());
        let (first, last) = (all[0].variant.pos(), all[all.len() - 1].variant.pos());
        let mut regions = vec![whole, Region::new("X", 1, 3_200_000).unwrap()];
        for (start, len) in
            [(first, 100_000), (first + 37_000, 250_000), ((first + last) / 2, 1_000_000), (last - 5, 200_000)]
        {
            regions.push(Region::new("22", start, start + len - 1).unwrap());
        }
        for region in &regions {
            for filter in &filters {
                let expected = one.count_region(region, filter).unwrap();
                assert!(!expected.is_empty(), "{region} holds variants");
                let got = four.count_region(region, filter).unwrap();
                // The first difference, not two answers of thousands of variants.
                if let Some((g, e)) = got.iter().zip(&expected).find(|(g, e)| g != e) {
                    assert_eq!(g, e, "{region} {filter:?}: four threads, one");
                }
                assert_eq!(got.len(), expected.len(), "{region} {filter:?}: variants with four threads, one");
            }
        }
    }
}
