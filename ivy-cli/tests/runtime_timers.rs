//! The runtime wakes a node only for a message or a deadline it set: a basic run,
//! where nothing waits for time, has no timer firing and no timed wake-up at all, in
//! either runtime mode; a fault-tolerant run's timers do fire (heartbeats).

use ivy_basic::CentralManager;
use ivy_cli::runtime::{self, RuntimeOptions};
use ivy_core::{OperationMix, Process, ProcessOptions, SystemConfig, Workload};
use ivy_ft::{FtManager, FtOptions};
use std::collections::BTreeMap;
use std::time::Duration;

fn options(threads: Option<usize>) -> RuntimeOptions {
    RuntimeOptions {
        record_trace: false,
        record_heartbeats: false,
        record_history: true,
        deadline: Duration::from_secs(60),
        faults: BTreeMap::new(),
        settle_timeout: Duration::from_secs(10),
        threads,
        progress: None,
        inputs_per_turn: runtime::DEFAULT_INPUTS_PER_TURN,
    }
}

#[test]
fn a_basic_run_is_never_woken_by_time() {
    let config = SystemConfig::new(4, 8, 64).unwrap();
    for threads in [None, Some(1), Some(2)] {
        let processes = Process::all(&config, &ProcessOptions::single_manager(&config));
        let workload = Workload::generate(&config, 2_000, OperationMix::Mixed, 5);
        let manager = CentralManager::new(&config);
        let outcome = runtime::run(processes, vec![manager], workload, options(threads)).unwrap();
        assert_eq!(outcome.history.len(), 2_000);
        assert_eq!(outcome.counts.timer_firings, 0, "threads {threads:?}");
        assert_eq!(outcome.counts.timed_wakeups, 0, "threads {threads:?}");
    }
}

#[test]
fn a_fault_tolerant_run_wakes_for_its_timers() {
    let config = SystemConfig::new(3, 4, 64).unwrap();
    let ft = FtOptions::with_timing(1, 5);
    // The heartbeat timer fires in every run. What it sends depends on timing: a
    // Heartbeat when the backup has acknowledged everything, else a resend of the
    // replication it has not (an ordinary message); on a loaded machine the backup
    // can be behind at every firing of a run (3 runs in 12 here). Some run of a few
    // tries sends Heartbeats.
    let mut heartbeats = 0;
    for _ in 0..50 {
        let retry = ProcessOptions::replicated(&config, ft.process_retry_ticks());
        let processes = Process::all(&config, &retry);
        let managers = vec![
            FtManager::new(&config, config.manager(), ft),
            FtManager::new(&config, config.backup_manager(), ft),
        ];
        // Enough work to outlast a few heartbeats of 1 ms.
        let workload = Workload::generate(&config, 20_000, OperationMix::Mixed, 5);
        let outcome = runtime::run(processes, managers, workload, options(Some(2))).unwrap();
        assert!(
            outcome.elapsed > Duration::from_millis(3),
            "{:?}",
            outcome.elapsed
        );
        assert!(outcome.counts.timer_firings > 0);
        heartbeats = outcome.counts.heartbeats;
        if heartbeats > 0 {
            break;
        }
    }
    assert!(heartbeats > 0, "no run of 50 sent a Heartbeat");
}
