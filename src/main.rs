//! `muni`: check, run and trace Mu IR bundles; run the conformance suite.

use clap::{Parser, Subcommand};
mod cli;

use std::process::ExitCode;

/// A difftest check allocates and frees small blocks at a high rate (Cranelift's
/// per-function data, the model's values and frames): with glibc's malloc that was
/// a sixth of a run's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Executable semantics of the Mu micro-VM's native interface.
#[derive(Parser, Debug)]
#[command(name = "muni", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse and verify a bundle (one or more files, in order).
    Check {
        /// The bundle's files.
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Run a function and print its outcome line.
    Run(cli::run::RunArgs),
    /// Run a function, printing one line per step: the rule applied and the instruction.
    Trace(cli::run::RunArgs),
    /// Print the native layout of a type (size, alignment, field offsets, SysV
    /// classification), or the SysV lowering of a call with a signature.
    Layout {
        /// The bundle's files.
        #[arg(required = true)]
        files: Vec<String>,
        /// The type (e.g. `@Point`).
        #[arg(long = "type", value_name = "@T", required_unless_present = "sig")]
        ty: Option<String>,
        /// A signature: where each argument and the result go.
        #[arg(long, value_name = "@S")]
        sig: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The x86-64 SysV ABI as Z3 constraints, against muni's layout,
    /// classification and call lowering.
    #[command(subcommand)]
    Abi(AbiCommand),
    /// Run conformance scripts (default: corpus/) and judge every assertion; prints
    /// `N passed, N failed` last.
    Conform(cli::conform::ConformArgs),
    /// List each spec rule with the corpus tests that fire it; fails if a rule has
    /// none.
    Coverage {
        /// Scripts or folders (default: corpus/).
        paths: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Also run this many generated programs (difftest's generator, seed 1) on
        /// the model and show how often each rule fires in them.
        #[arg(long, value_name = "N")]
        generated: Option<u64>,
    },
    /// Generate programs, run each on the model and the fast VM, and compare
    /// outcomes, final globals and native traces; exit 1 on any divergence.
    Difftest(cli::difftest::Settings),
    /// Shrink a program on which the engines disagree, keeping the disagreement.
    Reduce {
        /// The program (a reproducer difftest wrote, or any bundle).
        case: String,
        /// The function to call (default: the reproducer's assertion).
        #[arg(long = "fn")]
        func: Option<String>,
        /// Its arguments.
        #[arg(allow_negative_numbers = true)]
        args: Vec<String>,
        /// Also compare with GC stress.
        #[arg(long)]
        gc_stress: bool,
        /// The seed of the campaign the case came from (its random C library).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Answer one request of the conformance protocol (spec/07-corpus.md) with a
    /// muni engine: what `muni conform --impl` expects of an implementation.
    Impl {
        /// The engine that answers.
        #[arg(long, default_value = "spec", value_parser = ["spec", "fast"])]
        engine: String,
        /// The bundle.
        bundle: String,
        /// The function to call (none: only load the bundle).
        func: Option<String>,
        /// Its arguments, as Mu literals (everything after FUNC, `-0.0d` included).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
enum AbiCommand {
    /// Check every native-safe type and every CCALL or exposed signature of a
    /// bundle: the rules admit the model's answer and no other.
    Check {
        /// The bundle's files.
        #[arg(required = true)]
        files: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Prove, for every struct shape up to N fields, that the model's layout,
    /// classes and locations equal the rules'; prints a table of what was proved
    /// and how long it took.
    Prove {
        /// Fields in all (a nested struct's fields count).
        #[arg(long, default_value_t = 3)]
        max_fields: usize,
        /// Threads (z3 contexts) to prove on.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check random struct types and calls (up to 16 arguments) and the
    /// pitfall cases against the rules, and capture calls from the machine: gcc,
    /// the model and the fast VM calling an assembly stub, and a stub calling gcc's
    /// and each engine's exposed function, all agreeing byte for byte with the rules.
    Random {
        /// Random struct types.
        #[arg(long, default_value_t = 10_000)]
        types: usize,
        /// Random calls (the pitfall cases come on top).
        #[arg(long, default_value_t = 2_000)]
        sigs: usize,
        /// How many of the random calls to capture (the pitfalls come on top).
        #[arg(long, default_value_t = 500)]
        capture: usize,
        /// The generator's seed.
        #[arg(long, default_value_t = 0x05EE_DAB1_2026)]
        seed: u64,
        /// Threads (z3 contexts) to check on.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    fast_vm::crash::die_on_broken_pipe();
    // Best effort: where the kernel refuses, muni only runs slower.
    let _ = fast_vm::jitmem::no_transparent_huge_pages();
    let cli = Cli::parse();
    match cli.command {
        Command::Check { files } => cli::check::check(&files),
        Command::Run(a) => cli::run::run(&a, false),
        Command::Trace(a) => cli::run::run(&a, true),
        Command::Conform(a) => cli::conform::conform(&a),
        Command::Abi(AbiCommand::Check { files, json }) => cli::abi::check(&files, json),
        Command::Abi(AbiCommand::Prove {
            max_fields,
            threads,
            json,
        }) => cli::abi::prove(max_fields, threads, json),
        Command::Abi(AbiCommand::Random {
            types,
            sigs,
            capture,
            seed,
            threads,
            json,
        }) => cli::abi::random(
            &muni::abi::random::Options {
                types,
                sigs,
                capture,
                seed,
                threads,
            },
            json,
        ),
        Command::Coverage {
            paths,
            json,
            generated,
        } => cli::coverage::coverage(&paths, json, generated),
        Command::Difftest(settings) => cli::difftest::run(&settings),
        Command::Reduce {
            case,
            func,
            args,
            gc_stress,
            seed,
        } => cli::reduce::reduce(&case, func.as_deref(), &args, gc_stress, seed),
        Command::Impl {
            engine,
            bundle,
            func,
            args,
        } => cli::implementation::implementation(&engine, &bundle, func.as_deref(), &args),
        Command::Layout {
            files,
            ty,
            sig,
            json,
        } => cli::layout::layout(&files, ty.as_deref(), sig.as_deref(), json),
    }
}
