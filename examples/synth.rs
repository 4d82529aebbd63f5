//! Writes a synthetic documentation corpus:
//! `cargo run --release --example synth -- --tables N --seed S [--out DIR]`.
//! Then `gen lint --docs DIR`, `gen all --docs DIR --out OUT`, and so on.

use clap::Parser;
use schemagen::synth::{SynthOptions, generate};
use std::path::PathBuf;

#[derive(Parser)]
struct Args {
    /// How many tables to document.
    #[arg(long, default_value_t = 1000)]
    tables: usize,
    /// Seed: the same seed gives the same documents.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output directory (default: target/synth/<tables>-<seed>).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("target/synth/{}-{}", args.tables, args.seed)));
    std::fs::create_dir_all(&out)?;
    let corpus = generate(&SynthOptions {
        tables: args.tables,
        seed: args.seed,
    });
    for (name, text) in &corpus.files {
        std::fs::write(out.join(name), text)?;
    }
    println!("{}", out.display());
    Ok(())
}
