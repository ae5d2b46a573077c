//! A worker handles its queued inputs a bounded number at a time, so that timers and
//! operations get their turn; whatever the bound, no input is lost at the end of a
//! turn (a turn once took one input more than its bound and dropped it, which stalled
//! a run whose inboxes held more inputs than the bound).

use ivy_basic::CentralManager;
use ivy_cli::runtime::{self, RuntimeOptions, DEFAULT_INPUTS_PER_TURN};
use ivy_core::{OperationMix, Process, ProcessOptions, SystemConfig, Workload};
use std::collections::BTreeMap;
use std::time::Duration;

fn options(inputs_per_turn: usize) -> RuntimeOptions {
    RuntimeOptions {
        record_trace: false,
        record_heartbeats: false,
        record_history: true,
        deadline: Duration::from_secs(10),
        faults: BTreeMap::new(),
        settle_timeout: Duration::from_secs(10),
        threads: Some(2),
        progress: None,
        inputs_per_turn,
    }
}

#[test]
fn every_input_is_handled_whatever_the_turn_bound() {
    let config = SystemConfig::new(10, 100, 64).unwrap();
    for inputs_per_turn in [1, 2, DEFAULT_INPUTS_PER_TURN] {
        let processes = Process::all(&config, &ProcessOptions::single_manager(&config));
        let workload = Workload::generate(&config, 20_000, OperationMix::Write, 3);
        let manager = CentralManager::new(&config);
        let outcome = runtime::run(processes, vec![manager], workload, options(inputs_per_turn))
            .unwrap_or_else(|error| panic!("{inputs_per_turn} inputs per turn: {error}"));
        assert_eq!(
            outcome.history.len(),
            20_000,
            "{inputs_per_turn} inputs per turn"
        );
    }
}
