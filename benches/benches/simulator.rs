//! Messages per second of the deterministic simulator (one core): the basic system on
//! 10 processes and 100 pages, and the fault-tolerant one with a lossy network and
//! crashes, as the seed sweeps run them.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ivy_basic::CentralManager;
use ivy_core::sim::{FaultOptions, Simulation, SimulationOptions};
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

fn ft_run(config: &SystemConfig, seed: u64) -> u64 {
    let workload = Workload::generate(config, 2_000, OperationMix::Mixed, seed);
    let options = SimulationOptions {
        retry_timeout_ticks: Some(60),
        faults: FaultOptions {
            tick_per_mille: 50,
            drop_per_mille: 10,
            duplicate_per_mille: 10,
            crash_per_mille: 1,
            pause_per_mille: 1,
            partition_per_mille: 0,
            transition_crash_per_mille: 0,
            outage_steps: 2_000,
            until_step: 50_000,
        },
        ..SimulationOptions::seeded(seed)
    };
    let managers = vec![
        FtManager::new(config, config.manager(), FtOptions::default()),
        FtManager::new(config, config.backup_manager(), FtOptions::default()),
    ];
    Simulation::new(config, managers, workload, options)
        .run()
        .expect("coherent")
        .messages
}

fn simulator(criterion: &mut Criterion) {
    let config = SystemConfig::new(10, 100, 4096).expect("a valid size");
    let mut group = criterion.benchmark_group("simulator");
    group.sample_size(20);
    group.throughput(Throughput::Elements(basic_run(&config, 1)));
    group.bench_function("basic, messages", |bencher| {
        bencher.iter(|| basic_run(&config, 1))
    });
    group.throughput(Throughput::Elements(ft_run(&config, 1)));
    group.bench_function("ft with faults, messages", |bencher| {
        bencher.iter(|| ft_run(&config, 1))
    });
    group.finish();
}

criterion_group!(benches, simulator);
criterion_main!(benches);
