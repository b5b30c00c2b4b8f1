//! `kmh`: see `lib.rs` for the map of the crate. This file only parses the
//! command line and hands it to the library.

use clap::Parser;

// The LRS allocates many small, short-lived JSON nodes per statement;
// mimalloc handles that pattern far better than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    kmh::cli::run(kmh::cli::Cli::parse())
}
