//! CPU time by part of the process, so that a benchmark can say what a
//! statement costs in CPU as well as how many go through per second. On a
//! shared two-core machine the rate moves with whatever else runs; the CPU
//! a statement takes in each part moves much less, and it says where to cut.
//!
//! Linux only: per-thread run time from `/proc/self/task/*/schedstat`
//! (nanoseconds), grouped by thread name. Elsewhere every figure is zero and
//! the bench says so.

use std::ops::Sub;

use crate::lrs::CHECK_THREADS;

/// Thread name of the bench's client runtime (the load generator).
pub const CLIENT_THREADS: &str = "kmh-bench";
/// Thread name of the server's runtime (HTTP, validation, preparation).
pub const SERVER_THREADS: &str = "kmh-serve";

/// Nanoseconds of CPU, by part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cpu {
    /// Request threads (and those that check parts of large batches):
    /// HTTP, parsing, validation, preparing rows.
    pub requests: u64,
    /// The writer thread: conflict checks, staging, read models.
    pub writer: u64,
    /// The commit thread: journal, memtables, fsync, answers.
    pub commit: u64,
    /// The engine's flushes and compactions.
    pub engine: u64,
    /// The load generator.
    pub client: u64,
    /// Any other thread still alive.
    pub other: u64,
}

impl Cpu {
    /// What the live threads of this process have used so far.
    pub fn now() -> Cpu {
        let mut cpu = Cpu::default();
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return cpu;
        };
        for task in tasks.flatten() {
            let dir = task.path();
            let (Ok(name), Ok(stat)) = (
                std::fs::read_to_string(dir.join("comm")),
                std::fs::read_to_string(dir.join("schedstat")),
            ) else {
                // The thread ended between listing and reading.
                continue;
            };
            let Some(ns) = stat
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
            else {
                continue;
            };
            *cpu.part_mut(name.trim_end()) += ns;
        }
        cpu
    }

    fn part_mut(&mut self, thread: &str) -> &mut u64 {
        // `comm` is cut at 15 bytes, so match on prefixes.
        if thread.starts_with(SERVER_THREADS) || thread.starts_with(CHECK_THREADS) {
            &mut self.requests
        } else if thread.starts_with("kmh-writer") {
            &mut self.writer
        } else if thread.starts_with("kmh-commit") {
            &mut self.commit
        } else if thread.starts_with("fjall") {
            &mut self.engine
        } else if thread.starts_with(CLIENT_THREADS) {
            &mut self.client
        } else {
            &mut self.other
        }
    }

    pub fn server(&self) -> u64 {
        self.requests + self.writer + self.commit + self.engine
    }

    pub fn total(&self) -> u64 {
        self.server() + self.client + self.other
    }

    /// One table cell: microseconds per statement, server parts first.
    pub fn per_statement(&self, statements: usize) -> String {
        if self.total() == 0 {
            return "not measured on this system".into();
        }
        let us = |ns: u64| ns as f64 / 1000.0 / statements.max(1) as f64;
        format!(
            "server {:.0} µs (requests {:.0}, writer {:.0}, commit {:.0}, engine {:.0}); generator {:.0} µs",
            us(self.server()),
            us(self.requests),
            us(self.writer),
            us(self.commit),
            us(self.engine),
            us(self.client),
        )
    }
}

/// The whole machine's CPU time, idle and in all, in clock ticks (Linux:
/// the `cpu` line of `/proc/stat`). A run that leaves the machine idle is
/// held back by waiting, not by CPU: no cheaper statement would speed it
/// up, a better overlap of the pipeline's stages would.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Machine {
    pub idle: u64,
    pub total: u64,
}

impl Machine {
    pub fn now() -> Machine {
        std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|stat| Machine::parse(&stat))
            .unwrap_or_default()
    }

    fn parse(stat: &str) -> Option<Machine> {
        let line = stat.lines().find(|l| l.starts_with("cpu "))?;
        let ticks: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .map(|v| v.parse().ok())
            .collect::<Option<_>>()?;
        // user nice system idle iowait irq softirq steal …: time waiting
        // for I/O is idle time too.
        let idle = ticks.get(3)? + ticks.get(4).copied().unwrap_or(0);
        Some(Machine {
            idle,
            total: ticks.iter().take(8).sum(),
        })
    }

    /// The idle share between two readings, in percent.
    pub fn idle_percent(&self, earlier: Machine) -> Option<f64> {
        let total = self.total.checked_sub(earlier.total)?;
        let idle = self.idle.checked_sub(earlier.idle)?;
        (total > 0).then(|| 100.0 * idle as f64 / total as f64)
    }
}

impl Sub for Cpu {
    type Output = Cpu;

    /// The CPU used between two readings. A thread that ended in between
    /// takes its time with it, so each part saturates at zero.
    fn sub(self, earlier: Cpu) -> Cpu {
        Cpu {
            requests: self.requests.saturating_sub(earlier.requests),
            writer: self.writer.saturating_sub(earlier.writer),
            commit: self.commit.saturating_sub(earlier.commit),
            engine: self.engine.saturating_sub(earlier.engine),
            client: self.client.saturating_sub(earlier.client),
            other: self.other.saturating_sub(earlier.other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Machine;

    #[test]
    fn machine_time_counts_iowait_as_idle_and_stops_at_steal() {
        let stat = "cpu  100 5 50 800 40 3 2 10 7 1\ncpu0 50 2 25 400 20 1 1 5 3 0\n";
        let m = Machine::parse(stat).unwrap();
        assert_eq!(
            m,
            Machine {
                idle: 840,
                total: 1010
            }
        );
        let later = Machine {
            idle: 890,
            total: 1210,
        };
        assert_eq!(later.idle_percent(m), Some(25.0));
        assert_eq!(m.idle_percent(later), None);
        assert_eq!(Machine::parse("intr 1 2 3"), None);
    }

    use super::*;

    #[test]
    fn threads_are_counted_by_name() {
        // A fixed amount of work, not a fixed time: on a loaded machine a
        // thread gets less CPU per second, not less CPU per work.
        let (done, finished) = std::sync::mpsc::channel();
        let spin = |name: &str| {
            let done = done.clone();
            std::thread::Builder::new()
                .name(name.into())
                .spawn(move || {
                    let mut x = 0u64;
                    for i in 0..20_000_000u64 {
                        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
                    }
                    done.send(x).unwrap();
                    // Stay alive until read: an ended thread takes its time.
                    std::thread::park();
                })
                .unwrap()
        };
        let before = Cpu::now();
        let writer = spin("kmh-writer");
        let client = spin("kmh-bench-3");
        let checker = spin(&format!("{CHECK_THREADS}-1"));
        for _ in 0..3 {
            finished.recv().unwrap();
        }
        let used = Cpu::now() - before;
        writer.thread().unpark();
        client.thread().unpark();
        checker.thread().unpark();
        if cfg!(target_os = "linux") {
            // 20 M dependent multiply-adds take well over 1 ms anywhere.
            assert!(used.writer >= 1_000_000, "{used:?}");
            assert!(used.client >= 1_000_000, "{used:?}");
            // Checking a batch's parts is request work.
            assert!(used.requests >= 1_000_000, "{used:?}");
            assert_eq!(
                used.server(),
                used.requests + used.writer + used.commit + used.engine
            );
        }
    }

    #[test]
    fn per_statement_divides_by_the_statements() {
        let cpu = Cpu {
            requests: 40_000_000,
            writer: 20_000_000,
            commit: 10_000_000,
            engine: 30_000_000,
            client: 5_000_000,
            other: 0,
        };
        assert_eq!(
            cpu.per_statement(1000),
            "server 100 µs (requests 40, writer 20, commit 10, engine 30); generator 5 µs"
        );
    }
}
