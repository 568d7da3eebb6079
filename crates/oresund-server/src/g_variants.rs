//! `/g_variants`: which variants exist in which dataset, with what frequency, under the caller's
//! granularity, the node's small-count rule and, at the REGISTERED tier, the re-identification
//! budget ([`crate::budget`]).

use oresund_access::{Caller, Granularity};
use oresund_core::region::Region;
use oresund_core::variant::Variant;
use oresund_node::CohortFilter;
use oresund_node::query::VariantCount;
use serde_json::{Value, json};

use crate::entities::GENOMIC_VARIANT;
use crate::error::BeaconError;
use crate::filters::resolve;
use crate::genomic::{VariantQuery, parse_variant_query};
use crate::request::BeaconRequest;
use crate::response::{Shown, query_response, response_meta, result_set, shown, warnings_info};
use crate::scope::{Scope, scope};
use crate::state::AppState;

/// Runs a g_variants request. `dataset` comes from `/datasets/{id}/g_variants`, `variant` from
/// `/g_variants/{id}`.
pub fn search(
    app: &AppState,
    caller: &Caller,
    request: &BeaconRequest,
    dataset: Option<&str>,
    variant: Option<&str>,
) -> Result<Value, BeaconError> {
    let scope = scope(app, caller, request, dataset)?;
    let filters = resolve(&request.filters, app.node.hpo()?);
    let query = match variant {
        Some(_) => None,
        None => Some(parse_variant_query(request, &app.beacon.assembly, |chrom| {
            app.node.reference().contig(chrom).map(|(_, c)| c.length)
        })?),
    };
    let cohort_filter = scope.cohort_filter(filters.cohort.clone());
    let asked = !scope.datasets.is_empty() && !filters.matches_nobody();
    let mut found = if asked {
        match (&query, variant) {
            (_, Some(id)) => lookup(app, id, &cohort_filter)?,
            (Some(query), None) => run(app, query, &cohort_filter)?,
            (None, None) => Vec::new(),
        }
    } else {
        Vec::new()
    };
    if asked {
        crate::public_budget::withhold(app, &scope, &mut found, &cohort_filter)?;
        crate::budget::charge(app, caller, &scope, &found, &cohort_filter, request.skip, request.limit)?;
    }
    Ok(respond(app, request, &scope, &found, &[&filters.warnings[..], &caller.notes[..]].concat()))
}

fn lookup(app: &AppState, id: &str, filter: &CohortFilter) -> Result<Vec<VariantCount>, BeaconError> {
    let node = &app.node;
    let Some(calls) = node.find_variant(id).map_err(BeaconError::from)? else { return Ok(Vec::new()) };
    let prepared = node.prepare_filter(filter).map_err(BeaconError::from)?;
    Ok(node.count_calls(&calls, &prepared).map_err(BeaconError::from)?.into_iter().collect())
}

fn run(app: &AppState, query: &VariantQuery, filter: &CohortFilter) -> Result<Vec<VariantCount>, BeaconError> {
    let node = &app.node;
    let region = |chrom: &str, start: u64, end: u64| Region::new(chrom, start.max(1), end.max(start.max(1)));
    Ok(match query {
        VariantQuery::Sequence { chrom, pos, reference, alternate } => {
            let variant = Variant::new(chrom.clone(), *pos, reference, alternate)
                .map_err(|e| BeaconError::bad_request(e.to_string()))?;
            node.count_variant(&variant, filter).map_err(BeaconError::from)?.into_iter().collect()
        }
        VariantQuery::Range { chrom, start, end, constraints } => {
            let region = region(chrom, *start, *end).map_err(|e| BeaconError::bad_request(e.to_string()))?;
            let mut counts = node.count_region(&region, filter).map_err(BeaconError::from)?;
            counts.retain(|c| constraints.accept(c.variant.reference(), c.variant.alternate()));
            counts
        }
        VariantQuery::Bracket { chrom, start, end } => {
            let region =
                region(chrom, start.0, start.1.max(end.1)).map_err(|e| BeaconError::bad_request(e.to_string()))?;
            let mut counts = node.count_region(&region, filter).map_err(BeaconError::from)?;
            counts.retain(|c| {
                let end_pos = c.variant.end();
                (start.0..=start.1).contains(&c.variant.pos()) && (end.0..=end.1).contains(&end_pos)
            });
            counts
        }
        VariantQuery::All => {
            let mut all = Vec::new();
            for contig in node.reference().contigs() {
                let whole = Region::new(&contig.name, 1, contig.length).map_err(BeaconError::internal)?;
                all.extend(node.count_region(&whole, filter).map_err(BeaconError::from)?);
            }
            all
        }
    })
}

fn variant_type(reference: &str, alternate: &str) -> &'static str {
    match (reference.len(), alternate.len()) {
        (1, 1) => "SNP",
        (r, a) if r == a => "MNP",
        (r, a) if r > a && alternate.len() == 1 => "DEL",
        (r, a) if a > r && reference.len() == 1 => "INS",
        _ => "INDEL",
    }
}

/// A genomicVariation record (default model genomicVariations/defaultSchema.json): the legacy
/// variation form with a VRS 1.3 SequenceLocation on the contig's refget id, the VRS 2.0 id as an
/// alternative id, and one frequency per dataset.
fn record(app: &AppState, variant: &VariantCount, scope: &Scope) -> Value {
    let v = &variant.variant;
    let refget = app.node.reference().contig(v.chrom()).map(|(_, c)| c.refget.clone()).unwrap_or_default();
    let start = v.pos() - 1;
    let frequencies: Vec<Value> = variant
        .datasets
        .iter()
        .filter(|(d, _)| scope.dataset(d).is_some())
        .map(|(dataset, c)| {
            json!({
                "population": dataset.as_ref(),
                "alleleFrequency": c.allele_frequency(),
                "alleleCount": c.allele_count,
                "alleleNumber": c.allele_number,
                "alleleCountHomozygous": c.homozygous_alt,
                "alleleCountHeterozygous": c.heterozygous,
                "alleleCountHemizygous": c.hemizygous,
            })
        })
        .collect();
    json!({
        "id": v.to_string(),
        "variantInternalId": v.to_string(),
        "variation": {
            "variantType": variant_type(v.reference(), v.alternate()),
            "referenceBases": v.reference(),
            "alternateBases": v.alternate(),
            "location": {
                "type": "SequenceLocation",
                "sequence_id": format!("ga4gh:{refget}"),
                "interval": {
                    "type": "SequenceInterval",
                    "start": {"type": "Number", "value": start},
                    "end": {"type": "Number", "value": start + v.reference().len() as u64},
                },
            },
        },
        "identifiers": {
            "variantAlternativeIds": [{
                "id": variant.vrs_id,
                "reference": "https://w3id.org/ga4gh/schema/vrs/2.0",
                "notes": "GA4GH VRS 2.0 computed identifier",
            }],
        },
        "frequencyInPopulations": [{
            "source": app.beacon.name,
            "sourceReference": app.beacon.base_url,
            "frequencies": frequencies,
        }],
    })
}

/// Per-variant frequencies for count answers, every count as the caller may see it. Below
/// CONTROLLED the genotype counts are left out: with AC shown, heterozygous and hemizygous counts
/// would give the number of homozygous people away even when each count alone passes the
/// threshold (AC = het + 2·hom + hemi). The allele number counts people twice (diploid), so it is
/// held to twice the threshold.
fn frequency_row(app: &AppState, variant: &VariantCount, dataset: &str, exact: bool) -> Value {
    let c = variant.datasets.iter().find(|(d, _)| d.as_ref() == dataset).map(|(_, c)| *c).unwrap_or_default();
    let ac = shown(&app.beacon, c.allele_count, exact);
    let an = shown_allele_number(app, c.allele_number, exact);
    // The frequency is computed from what is shown, so it cannot give a hidden count away.
    let frequency = if an.value == 0 { 0.0 } else { ac.value as f64 / an.value as f64 };
    let mut row = json!({
        "variantInternalId": variant.variant.to_string(),
        "vrsId": variant.vrs_id,
        "alleleCount": ac.value,
        "alleleNumber": an.value,
        "alleleFrequency": frequency,
        "countPrecision": if ac.exact && an.exact { "exact" } else { "imprecise" },
    });
    if exact {
        row["heterozygous"] = json!(c.heterozygous);
        row["homozygousAlt"] = json!(c.homozygous_alt);
        row["hemizygous"] = json!(c.hemizygous);
    }
    row
}

/// An allele number as disclosed: exact from twice the threshold (or at CONTROLLED), else raised
/// to twice the threshold and marked imprecise.
fn shown_allele_number(app: &AppState, allele_number: u64, exact: bool) -> Shown {
    let floor = 2 * app.beacon.threshold.0;
    if exact || allele_number == 0 || allele_number >= floor {
        Shown { value: allele_number, exact: true }
    } else {
        Shown { value: floor, exact: false }
    }
}

/// A variant is a hit in a dataset when a filtered individual there carries it. Count answers also
/// list the dataset's variants with no carrier among the filtered individuals (AC 0): their allele
/// number still counts when frequencies are pooled across nodes.
fn respond(
    app: &AppState,
    request: &BeaconRequest,
    scope: &Scope,
    found: &[VariantCount],
    warnings: &[String],
) -> Value {
    let granularity = scope.granularity;
    let meta = response_meta(&app.beacon, GENOMIC_VARIANT, granularity, request);
    let hits: Vec<&VariantCount> =
        found.iter().filter(|v| v.datasets.iter().any(|(_, c)| c.allele_count > 0)).collect();
    let mut result_sets = Vec::new();
    for dataset in &scope.datasets {
        let in_dataset: Vec<&VariantCount> = hits
            .iter()
            .copied()
            .filter(|v| v.datasets.iter().any(|(d, c)| d.as_ref() == dataset.id && c.allele_count > 0))
            .collect();
        let exists = !in_dataset.is_empty();
        if !request.resultsets.includes(exists) {
            continue;
        }
        let page = in_dataset.iter().skip(request.skip).take(request.limit);
        let exact = dataset.exact_counts();
        // Counts of variants are not counts of people: the small-count rule applies to the
        // allele and genotype counts in each row, not to how many variants matched.
        let count = shown(&app.beacon, in_dataset.len() as u64, true);
        let set = match granularity {
            Granularity::Record => {
                result_set(&dataset.id, exists, Some(count), page.map(|v| record(app, v, scope)).collect(), None)
            }
            _ => {
                let present = found.iter().filter(|v| v.datasets.iter().any(|(d, _)| d.as_ref() == dataset.id));
                let rows: Vec<Value> = present
                    .skip(request.skip)
                    .take(request.limit)
                    .map(|v| frequency_row(app, v, &dataset.id, exact))
                    .collect();
                result_set(&dataset.id, exists, Some(count), Vec::new(), Some(json!({"variants": rows})))
            }
        };
        result_sets.push(set);
    }
    let total: Shown = shown(&app.beacon, hits.len() as u64, true);
    query_response(meta, granularity, !hits.is_empty(), total, result_sets, warnings_info(warnings))
}
