//! Many variants found at once (`Node::stored_variants`, what the re-identification budget reads)
//! as each is found alone.

use oresund_core::region::Region;
use oresund_node::{CohortFilter, Node};
use oresund_store::VariantKey;

use crate::common::{TestNode, dk_se_template};

#[test]
fn variants_read_together_are_those_found_one_by_one() {
    let node = TestNode::copy_of(dk_se_template());
    read_together_as_one_by_one(&node);
}

/// On a node holding the DK and SE cohorts (the same sites): keys read together, alone, absent,
/// repeated and out of order give what single lookups give. Also on PostgreSQL (`external`).
pub fn read_together_as_one_by_one(node: &TestNode) {
    let node = Node::open(std::path::Path::new(node.path())).expect("open the node");
    let everyone = CohortFilter::default();
    let on_22 = node.count_region(&Region::new("22", 1, 17_999_999).unwrap(), &everyone).unwrap();
    let on_x = node.count_region(&Region::new("X", 1, 3_200_000).unwrap(), &everyone).unwrap();
    assert!(on_22.len() > 5_000 && !on_x.is_empty(), "{} variants on 22, {} on X", on_22.len(), on_x.len());
    // Read together: a stretch of about a thousand neighbours (several blocks of each file). Alone:
    // every 3,000th variant, far from the others. Besides: X's first, one asked twice, one absent.
    let middle = on_22.len() / 2;
    let mut asked: Vec<_> = on_22[middle..middle + 1_000].iter().chain(on_22.iter().step_by(3_000)).collect();
    asked.extend([&on_x[0], &on_22[middle + 10]]);
    let mut keys: Vec<VariantKey> = asked.iter().map(|v| node.stored_key(&v.variant).unwrap()).collect();
    let mut expected: Vec<_> = asked.iter().map(|v| node.find_variant(&v.vrs_id).unwrap()).collect();
    keys.push(VariantKey { alternate: "ACGTACGT".into(), ..keys[0].clone() });
    expected.push(None);
    // Out of order, as a caller may ask.
    keys.reverse();
    expected.reverse();
    let in_both = expected.iter().flatten().filter(|found| found.calls.len() == 2).count();
    assert!(in_both > 100, "{in_both} of the variants asked are in both files");
    let found = node.stored_variants(&keys).unwrap();
    assert_eq!(found.len(), expected.len());
    for ((key, got), want) in keys.iter().zip(&found).zip(&expected) {
        assert_eq!(got, want, "{key:?}");
    }
}
