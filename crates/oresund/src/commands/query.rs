//! `oresund query`.

use std::io::Write;
use std::path::PathBuf;

use clap::{ArgGroup, Args, ValueEnum};
use oresund_core::carriers::AlleleCounts;
use oresund_core::individual::Sex;
use oresund_core::region::Region;
use oresund_core::variant::Variant;
use oresund_node::query::VariantCount;
use oresund_node::{CohortFilter, Node, TermFilter};
use serde_json::{Value, json};

/// Allele counts for a variant or a region, optionally restricted to a cohort.
///
/// Counts are exactly those of `bcftools +fill-tags -- -t AC,AN,AC_Het,AC_Hom,AC_Hemi` on the
/// normalised data: allele_count = AC, allele_number = AN, heterozygous = AC_Het,
/// homozygous_alt = AC_Hom / 2, hemizygous = AC_Hemi.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").required(true).args(["variant", "region"])))]
#[command(after_help = "Examples:\n  oresund query dk-node --variant 22-17000017-C-A --phenotype HP:0001250\n  \
oresund query dk-node --region 22:16000000-16100000 --sex female --format tsv")]
pub struct QueryArgs {
    /// Node directory.
    pub node_dir: PathBuf,
    /// CHROM-POS-REF-ALT with the 1-based VCF position; normalised like ingested data.
    #[arg(long)]
    pub variant: Option<Variant>,
    /// CHROM:START-END, 1-based inclusive; every variant overlapping it.
    #[arg(long)]
    pub region: Option<Region>,
    /// Only individuals with this phenotype or a descendant term (HPO id; ICD-10 codes also work). Repeat to require several.
    #[arg(long = "phenotype", value_name = "TERM")]
    pub phenotypes: Vec<String>,
    /// Only individuals of this sex.
    #[arg(long, value_enum)]
    pub sex: Option<SexArg>,
    /// Only this dataset (repeat for several).
    #[arg(long = "dataset", value_name = "ID")]
    pub datasets: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SexArg {
    Female,
    Male,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Json,
    Tsv,
}

fn to_json(variant: &str, vrs_id: &str, c: &AlleleCounts) -> Value {
    json!({
        "variant": variant,
        "vrs_id": vrs_id,
        "allele_count": c.allele_count,
        "allele_number": c.allele_number,
        "allele_frequency": c.allele_frequency(),
        "heterozygous": c.heterozygous,
        "homozygous_alt": c.homozygous_alt,
        "hemizygous": c.hemizygous,
    })
}

const TSV_HEADER: &str =
    "variant\tvrs_id\tallele_count\tallele_number\tallele_frequency\theterozygous\thomozygous_alt\themizygous";

fn to_tsv(variant: &str, vrs_id: &str, c: &AlleleCounts) -> String {
    format!(
        "{variant}\t{vrs_id}\t{}\t{}\t{}\t{}\t{}\t{}",
        c.allele_count,
        c.allele_number,
        c.allele_frequency(),
        c.heterozygous,
        c.homozygous_alt,
        c.hemizygous
    )
}

pub fn run(args: QueryArgs) -> anyhow::Result<()> {
    let node = Node::open(&args.node_dir)?;
    let filter = CohortFilter {
        terms: args.phenotypes.iter().map(|id| TermFilter { id: id.clone(), include_descendants: true }).collect(),
        sex: args.sex.map(|s| match s {
            SexArg::Female => Sex::Female,
            SexArg::Male => Sex::Male,
        }),
        datasets: args.datasets.clone(),
        // The operator on their own node: everyone, as ingested (grants bound what researchers see).
        consent: Vec::new(),
    };
    let rows: Vec<(String, String, AlleleCounts)> = match (&args.variant, &args.region) {
        (Some(variant), _) => match node.count_variant(variant, &filter)? {
            Some(VariantCount { variant, vrs_id, counts, .. }) => vec![(variant.to_string(), vrs_id, counts)],
            None => {
                // Not observed: report zeros under the normalised notation and its VRS id.
                let key = node.normalise(variant)?;
                let normalised = Variant::new(variant.chrom(), key.pos, &key.reference, &key.alternate)?;
                eprintln!("note: {normalised} is not observed in this node");
                vec![(normalised.to_string(), node.vrs_id(&key)?, AlleleCounts::default())]
            }
        },
        (None, Some(region)) => node
            .count_region(region, &filter)?
            .into_iter()
            .map(|c| (c.variant.to_string(), c.vrs_id, c.counts))
            .collect(),
        (None, None) => unreachable!("clap requires --variant or --region"),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Json if args.variant.is_some() => {
            let (variant, vrs_id, counts) = &rows[0];
            writeln!(out, "{}", serde_json::to_string_pretty(&to_json(variant, vrs_id, counts))?)?;
        }
        Format::Json => {
            let array: Vec<Value> = rows.iter().map(|(v, id, c)| to_json(v, id, c)).collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&array)?)?;
        }
        Format::Tsv => {
            writeln!(out, "{TSV_HEADER}")?;
            for (v, id, c) in &rows {
                writeln!(out, "{}", to_tsv(v, id, c))?;
            }
        }
    }
    out.flush()?;
    node.close_leaving_caches();
    Ok(())
}
