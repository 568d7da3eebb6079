//! `oresund`: run a national genome node.

mod commands;
mod logging;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Øresund: a national genome node that ingests, standardises and counts genomic data, and shares
/// only privacy-checked aggregates across borders.
#[derive(Debug, Parser)]
#[command(name = "oresund", version, propagate_version = true)]
#[command(after_help = "Start with `oresund init --help`, then `oresund ingest --help` and `oresund query --help`.")]
struct Cli {
    /// No progress bars or summaries on stderr (errors and warnings are still printed).
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Log lines on stderr as text or as JSON objects (one per line). Servers log each request at
    /// `info`; other commands log warnings, errors and, with RUST_LOG=info, one line when done.
    #[arg(long, global = true, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Init(commands::init::InitArgs),
    Ingest(commands::ingest::IngestArgs),
    Query(commands::query::QueryArgs),
    Serve(commands::serve::ServeArgs),
    Portal(commands::portal::PortalArgs),
    Demo(commands::demo::DemoArgs),
    Token(commands::token::TokenArgs),
    Archive(commands::archive::ArchiveArgs),
    Keys(commands::keys::KeysArgs),
    Dac(commands::dac::DacArgs),
    Audit(commands::audit::AuditArgs),
    Report(commands::report::ReportArgs),
    Budget(commands::budget::BudgetArgs),
    Mme(commands::mme::MmeArgs),
    Migrate(commands::migrate::MigrateArgs),
    C4gh(commands::c4gh::C4ghArgs),
    Withdraw(commands::withdraw::WithdrawArgs),
    Dataset(commands::remove::DatasetArgs),
    File(commands::remove::FileArgs),
    SubjectReport(commands::subject_report::SubjectReportArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let server = matches!(cli.command, Command::Serve(_) | Command::Portal(_));
    logging::init(cli.quiet || !server, cli.log_format == "json");
    let name = cli.command.name();
    let started = std::time::Instant::now();
    let result = match cli.command {
        Command::Init(args) => commands::init::run(args, cli.quiet),
        Command::Ingest(args) => commands::ingest::run(args, cli.quiet),
        Command::Query(args) => commands::query::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Portal(args) => commands::portal::run(args),
        Command::Demo(args) => commands::demo::run(args, cli.quiet),
        Command::Token(args) => commands::token::run(args),
        Command::Archive(args) => commands::archive::run(args, cli.quiet),
        Command::Keys(args) => commands::keys::run(args, cli.quiet),
        Command::Dac(args) => commands::dac::run(args, cli.quiet),
        Command::Audit(args) => commands::audit::run(args, cli.quiet),
        Command::Report(args) => commands::report::run(args, cli.quiet),
        Command::Budget(args) => commands::budget::run(args, cli.quiet),
        Command::Mme(args) => commands::mme::run(args, cli.quiet),
        Command::Migrate(args) => commands::migrate::run(args),
        Command::C4gh(args) => commands::c4gh::run(args),
        Command::Withdraw(args) => commands::withdraw::run(args, cli.quiet),
        Command::Dataset(args) => commands::remove::run_dataset(args, cli.quiet),
        Command::File(args) => commands::remove::run_file(args, cli.quiet),
        Command::SubjectReport(args) => commands::subject_report::run(args),
    };
    let seconds = started.elapsed().as_secs_f64();
    match result {
        Ok(()) => {
            tracing::info!(command = name, seconds, "done");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::debug!(command = name, seconds, "failed");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

impl Command {
    /// The subcommand's name, for its log line.
    fn name(&self) -> &'static str {
        match self {
            Command::Init(_) => "init",
            Command::Ingest(_) => "ingest",
            Command::Query(_) => "query",
            Command::Serve(_) => "serve",
            Command::Portal(_) => "portal",
            Command::Demo(_) => "demo",
            Command::Token(_) => "token",
            Command::Archive(_) => "archive",
            Command::Keys(_) => "keys",
            Command::Dac(_) => "dac",
            Command::Audit(_) => "audit",
            Command::Report(_) => "report",
            Command::Budget(_) => "budget",
            Command::Mme(_) => "mme",
            Command::Migrate(_) => "migrate",
            Command::C4gh(_) => "c4gh",
            Command::Withdraw(_) => "withdraw",
            Command::Dataset(_) => "dataset",
            Command::File(_) => "file",
            Command::SubjectReport(_) => "subject-report",
        }
    }
}
