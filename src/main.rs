//! `kmh`: see `lib.rs` for the map of the crate. This file only parses the
//! command line and hands it to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    kmh::cli::exit_code(kmh::cli::run(kmh::cli::Cli::parse()))
}
