//! Seeded random workloads: which process performs which operation, in what order.

use crate::protocol::config::SystemConfig;
use crate::protocol::ids::{NodeId, PageId};
use crate::protocol::operation::{Operation, OperationKind};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::str::FromStr;

/// Which operations a workload draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationMix {
    /// Reads only.
    Read,
    /// Writes only.
    Write,
    /// Reads and writes, half each.
    Mixed,
}

impl FromStr for OperationMix {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "read" => Ok(OperationMix::Read),
            "write" => Ok(OperationMix::Write),
            "mixed" => Ok(OperationMix::Mixed),
            other => Err(format!(
                "unknown operation mix '{other}' (expected read, write or mixed)"
            )),
        }
    }
}

/// The operations of a run, split by process. Requests are numbered from 1 in the
/// order they were drawn; a write stores its request number, so every written value
/// is unique and a read's value names the write it saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    per_process: Vec<Vec<Operation>>,
    /// The request number of each operation, in the same layout.
    numbers: Vec<Vec<u64>>,
}

impl Workload {
    /// `requests` operations on random pages by random processes, drawn from `seed`.
    pub fn generate(
        config: &SystemConfig,
        requests: u64,
        mix: OperationMix,
        seed: u64,
    ) -> Workload {
        let pages = config.pages;
        Workload::generate_with(config, requests, mix, seed, |rng| {
            PageId(rng.random_range(0..pages))
        })
    }

    /// Like [`Workload::generate`], but `hot_per_mille` of the operations touch one
    /// of the first `hot_pages` pages (the rest any page): most faults meet on few
    /// pages, as on a shared counter or lock.
    pub fn generate_hot(
        config: &SystemConfig,
        requests: u64,
        mix: OperationMix,
        seed: u64,
        hot_pages: u32,
        hot_per_mille: u32,
    ) -> Workload {
        let (pages, hot_pages) = (config.pages, hot_pages.clamp(1, config.pages));
        Workload::generate_with(config, requests, mix, seed, |rng| {
            match rng.random_ratio(hot_per_mille.min(1000), 1000) {
                true => PageId(rng.random_range(0..hot_pages)),
                false => PageId(rng.random_range(0..pages)),
            }
        })
    }

    fn generate_with(
        config: &SystemConfig,
        requests: u64,
        mix: OperationMix,
        seed: u64,
        mut page_of: impl FnMut(&mut ChaCha8Rng) -> PageId,
    ) -> Workload {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut per_process = vec![Vec::new(); config.processes as usize];
        let mut numbers = vec![Vec::new(); config.processes as usize];
        for request_number in 1..=requests {
            let process = rng.random_range(0..config.processes) as usize;
            let page = page_of(&mut rng);
            let is_write = match mix {
                OperationMix::Read => false,
                OperationMix::Write => true,
                OperationMix::Mixed => rng.random_bool(0.5),
            };
            let operation = if is_write {
                Operation::Write {
                    page,
                    value: request_number,
                }
            } else {
                Operation::Read { page }
            };
            per_process[process].push(operation);
            numbers[process].push(request_number);
        }
        Workload {
            per_process,
            numbers,
        }
    }

    /// A workload from explicit per-process operation lists (for tests).
    /// Requests are numbered process by process.
    pub fn from_lists(per_process: Vec<Vec<Operation>>) -> Workload {
        let mut next = 0;
        let numbers = per_process
            .iter()
            .map(|list| {
                list.iter()
                    .map(|_| {
                        next += 1;
                        next
                    })
                    .collect()
            })
            .collect();
        Workload {
            per_process,
            numbers,
        }
    }

    /// The operations of `process`, in the order it performs them.
    pub fn operations(&self, process: NodeId) -> &[Operation] {
        &self.per_process[process.index()]
    }

    /// How many processes the workload is for.
    pub fn process_count(&self) -> usize {
        self.per_process.len()
    }

    /// The total number of operations.
    pub fn len(&self) -> usize {
        self.per_process.iter().map(Vec::len).sum()
    }

    /// Whether there are no operations.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many operations are of `kind`.
    pub fn count(&self, kind: OperationKind) -> usize {
        self.per_process
            .iter()
            .flatten()
            .filter(|operation| operation.kind() == kind)
            .count()
    }

    /// Consumes the workload, giving each process's list.
    pub fn into_lists(self) -> Vec<Vec<Operation>> {
        self.per_process
    }

    /// Consumes the workload, giving each process's list with request numbers.
    pub fn into_numbered_lists(self) -> Vec<Vec<(u64, Operation)>> {
        self.numbers
            .into_iter()
            .zip(self.per_process)
            .map(|(numbers, operations)| numbers.into_iter().zip(operations).collect())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_workload() {
        let config = SystemConfig::new(4, 10, 64).unwrap();
        let first = Workload::generate(&config, 100, OperationMix::Mixed, 7);
        assert_eq!(
            first,
            Workload::generate(&config, 100, OperationMix::Mixed, 7)
        );
        assert_ne!(
            first,
            Workload::generate(&config, 100, OperationMix::Mixed, 8)
        );
        assert_eq!(first.len(), 100);
        assert_eq!(
            first.count(OperationKind::Read) + first.count(OperationKind::Write),
            100
        );
    }

    #[test]
    fn writes_store_their_unique_request_number() {
        let config = SystemConfig::new(3, 5, 64).unwrap();
        let workload = Workload::generate(&config, 50, OperationMix::Write, 1);
        let mut values: Vec<u64> = workload
            .per_process
            .iter()
            .flatten()
            .map(|operation| match operation {
                Operation::Write { value, .. } => *value,
                Operation::Read { .. } => panic!("a read in a write-only workload"),
            })
            .collect();
        values.sort_unstable();
        assert_eq!(values, (1..=50).collect::<Vec<u64>>());
    }

    #[test]
    fn parses_operation_mixes() {
        assert_eq!("read".parse(), Ok(OperationMix::Read));
        assert!("reads".parse::<OperationMix>().is_err());
    }
}
