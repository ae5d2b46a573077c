//! Messages per second of the deterministic simulator (one core): the basic system on
//! 10 processes and 100 pages, and the fault-tolerant one with a lossy network,
//! crashes and pauses in its first 5,000 steps (the first seed whose crashes keep the
//! state, so that the whole workload runs).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ivy_basic::CentralManager;
use ivy_core::sim::{FaultOptions, Simulation, SimulationFailure, SimulationOptions};
use ivy_core::{OperationMix, SystemConfig, Workload};
use ivy_ft::{FtManager, FtOptions};

fn basic_run(config: &SystemConfig, seed: u64) -> u64 {
    let workload = Workload::generate(config, 10_000, OperationMix::Mixed, seed);
    let manager = CentralManager::new(config);
    let simulation = Simulation::new(
        config,
        vec![manager],
        workload,
        SimulationOptions::seeded(seed),
    );
    simulation.run().expect("coherent").messages
}

/// Messages delivered by a fault-tolerant run of `seed`, or `None` when its crashes
/// lost the state for good (the run then ends early and measures nothing useful).
fn ft_run(config: &SystemConfig, seed: u64) -> Option<u64> {
    let workload = Workload::generate(config, 2_000, OperationMix::Mixed, seed);
    let options = SimulationOptions {
        retry_timeout_ticks: Some(FtOptions::default().process_retry_ticks()),
        faults: FaultOptions {
            tick_per_mille: 50,
            drop_per_mille: 10,
            duplicate_per_mille: 10,
            crash_per_mille: 1,
            pause_per_mille: 1,
            partition_per_mille: 0,
            transition_crash_per_mille: 0,
            outage_steps: 300,
            until_step: 5_000,
        },
        ..SimulationOptions::seeded(seed)
    };
    let managers = vec![
        FtManager::new(config, config.manager(), FtOptions::default()),
        FtManager::new(config, config.backup_manager(), FtOptions::default()),
    ];
    match Simulation::new(config, managers, workload, options).run() {
        Ok(report) => Some(report.messages),
        Err(error) if matches!(*error.failure, SimulationFailure::StateLost { .. }) => None,
        Err(error) => panic!("{error}"),
    }
}

fn simulator(criterion: &mut Criterion) {
    let config = SystemConfig::new(10, 100, 4096).expect("a valid size");
    let mut group = criterion.benchmark_group("simulator");
    group.sample_size(20);
    group.throughput(Throughput::Elements(basic_run(&config, 1)));
    group.bench_function("basic, messages", |bencher| {
        bencher.iter(|| basic_run(&config, 1))
    });
    // The first seed whose crashes leave the state held: a whole run to measure.
    let (seed, messages) = (1..)
        .find_map(|seed| Some((seed, ft_run(&config, seed)?)))
        .expect("a seed that keeps the state");
    group.throughput(Throughput::Elements(messages));
    group.bench_function("ft with faults, messages", |bencher| {
        bencher.iter(|| ft_run(&config, seed))
    });
    group.finish();
}

criterion_group!(benches, simulator);
criterion_main!(benches);
