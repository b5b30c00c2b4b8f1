//! Packaging benchmark (plain std timing, no harness): builds a whole
//! course, every language and every target (SCORM 1.2, SCORM 2004, cmi5),
//! several times in-process, and prints the median. Run with
//!
//!     cargo bench --bench package            # packages/reintegration-me
//!     cargo bench --bench package -- <course-folder> [runs]
//!
//! Results go in BENCHMARKS.md, section "Packaging". Target: the whole
//! 8-module course in both languages in under 2 s.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kmh::package::build::{BuildOptions, Target, build};

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let course = args.next().map(PathBuf::from).unwrap_or_else(|| {
        let real = repo.join("packages/reintegration-me");
        if real.join("course.toml").is_file() {
            real
        } else {
            repo.join("tests/fixtures/package/demo-course")
        }
    });
    let runs: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(9);

    let out = tempfile::tempdir().expect("temporary folder");
    let opts = BuildOptions {
        targets: Target::ALL.to_vec(),
        out_dir: out.path().to_path_buf(),
        lrs: None,
        lrs_credential: None,
        languages: None,
        per_module: false,
        context: Default::default(),
    };
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    let mut summary = String::new();
    for i in 0..=runs {
        let start = Instant::now();
        let outcome = build(&course, &opts, &|_| {})
            .unwrap_or_else(|e| panic!("packaging {} failed:\n{e}", course.display()));
        let elapsed = start.elapsed();
        // Run 0 warms the file cache and is not counted.
        if i == 0 {
            let bytes: u64 = outcome.built.iter().map(|b| b.size).sum();
            // SCOs of the SCORM zips, AUs (links included) of the cmi5 ones.
            let modules: usize = outcome
                .built
                .iter()
                .map(|b| match b.target {
                    Target::Cmi5 => b.scos + b.links,
                    _ => b.scos,
                })
                .sum();
            summary = format!(
                "{} zips, {} SCOs/AUs in total, {:.1} KiB",
                outcome.built.len(),
                modules,
                bytes as f64 / 1024.0
            );
        } else {
            times.push(elapsed);
        }
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("course: {}", course.display());
    println!("output: {summary}");
    println!(
        "package, all languages × scorm12 + scorm2004 + cmi5, {runs} runs: median {:.1} ms (min {:.1} ms, max {:.1} ms)",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1])
    );
}
