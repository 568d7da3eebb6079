//! Every variant row of one node's answer, page after page, for pooling ([`super::merge`]).
//!
//! The network total (distinct variants carried anywhere) and the pooled figures of any page of
//! the union need all of each node's rows: a node pages its own rows only, and one variant sits
//! on different pages at different nodes. A k-way merge of each node's first `skip + limit` rows
//! would give the page but never the total, which depends on the overlap of the whole lists. So
//! each node is asked for all its rows, in pages of the most it answers at once
//! ([`MAX_LIMIT`]); each page is one query there (audited, the region counted again).

use std::future::Future;

use serde_json::Value;

use super::merge::Page;
use crate::request::MAX_LIMIT;

/// The most variant rows pooled from one node for one question: a 1 Mb region of the demo
/// cohorts holds about 4,000 per node (issue #17 saw 5,500), and 20,000 rows are ~5 MB of JSON.
/// Past it, the node's part is refused (a narrower region is needed) rather than pooled from
/// some of its rows.
pub const MAX_NODE_ROWS: usize = 20_000;

/// The node's answer with the rows of all its pages in its result sets (`info.variants`):
/// pages are asked for until one has no full result set. `too_many` when the node holds more
/// than [`MAX_NODE_ROWS`].
// `ask` is a closure returning a future rather than an async closure: the peers' legs run on a
// spawned task, and rustc cannot yet tell that an async closure's future is `Send`.
pub async fn every_row<E, F: Future<Output = Result<Value, E>>>(
    mut ask: impl FnMut(Page) -> F,
    too_many: impl FnOnce() -> E,
) -> Result<Value, E> {
    let mut page = Page { skip: 0, limit: MAX_LIMIT };
    let mut answer = ask(page).await?;
    let mut more = is_full(&answer, page.limit);
    while more {
        if rows(&answer) >= MAX_NODE_ROWS {
            return Err(too_many());
        }
        page.skip += page.limit;
        let next = ask(page).await?;
        more = is_full(&next, page.limit);
        append_rows(&mut answer, next);
    }
    Ok(answer)
}

fn result_sets(answer: &Value) -> impl Iterator<Item = &Value> {
    answer["response"]["resultSets"].as_array().into_iter().flatten()
}

fn row_count(set: &Value) -> usize {
    set["info"]["variants"].as_array().map_or(0, Vec::len)
}

/// A page with a full result set may have more rows after it.
fn is_full(answer: &Value, limit: usize) -> bool {
    result_sets(answer).any(|set| row_count(set) >= limit)
}

fn rows(answer: &Value) -> usize {
    result_sets(answer).map(row_count).sum()
}

/// Adds a later page's rows to the result sets of the same id (a set new in it is added whole).
fn append_rows(answer: &mut Value, page: Value) {
    let Some(sets) = answer["response"]["resultSets"].as_array_mut() else { return };
    for set in result_sets(&page) {
        let rows = set["info"]["variants"].as_array().cloned().unwrap_or_default();
        match sets.iter_mut().find(|s| s["id"] == set["id"]) {
            Some(same) => match same["info"]["variants"].as_array_mut() {
                Some(earlier) => earlier.extend(rows),
                None => same["info"]["variants"] = Value::Array(rows),
            },
            None => sets.push(set.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use serde_json::json;

    use super::*;

    /// A node answering its `total` rows (dataset D1) and `total / 2` (D2) in pages, as
    /// `g_variants` does.
    fn node_page(total: usize, page: Page) -> Value {
        let rows = |n: usize, set: &str| -> Vec<Value> {
            (0..n)
                .skip(page.skip)
                .take(page.limit)
                .map(|i| json!({"variantInternalId": format!("22-{}-A-C", i + 1), "set": set}))
                .collect()
        };
        json!({"meta": {"returnedGranularity": "count"}, "response": {"resultSets": [
            {"id": "D1", "info": {"variants": rows(total, "D1")}},
            {"id": "D2", "info": {"variants": rows(total / 2, "D2")}},
        ]}})
    }

    #[tokio::test]
    async fn every_page_of_a_node_is_taken_once() {
        for total in [0, 1, MAX_LIMIT - 1, MAX_LIMIT, MAX_LIMIT + 1, 2 * MAX_LIMIT + 500] {
            let asked = RefCell::new(Vec::new());
            let ask = |page: Page| {
                asked.borrow_mut().push(page.skip);
                std::future::ready(Ok::<_, ()>(node_page(total, page)))
            };
            let answer = every_row(ask, || ()).await.unwrap();
            let sets = answer["response"]["resultSets"].as_array().unwrap();
            assert_eq!(row_count(&sets[0]), total, "{total}");
            assert_eq!(row_count(&sets[1]), total / 2, "{total}");
            let last = sets[0]["info"]["variants"].as_array().unwrap().last().cloned();
            assert_eq!(
                last.map(|r| r["variantInternalId"].clone()),
                (total > 0).then(|| json!(format!("22-{total}-A-C")))
            );
            // Pages until one is not full: a last full page costs one empty page more.
            assert_eq!(asked.into_inner().len(), total / MAX_LIMIT + 1, "{total}");
        }
    }

    #[tokio::test]
    async fn a_node_with_too_many_rows_is_refused() {
        let ask = |page| std::future::ready(Ok(node_page(MAX_NODE_ROWS, page)));
        assert_eq!(every_row(ask, || "too many").await, Err("too many"));
        let fewer = |page| std::future::ready(Ok(node_page(MAX_NODE_ROWS / 2, page)));
        assert!(every_row(fewer, || "too many").await.is_ok());
    }
}
