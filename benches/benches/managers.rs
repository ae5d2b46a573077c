//! Li & Hudak's manager algorithms side by side, for 4 to 64 processes on a uniform
//! and a hot-page workload (90% of the operations on 4 of 256 pages):
//! - messages and forwardings per fault, counted in the simulator (every step
//!   checked), written to `target/criterion/managers.json` for `bench-report`;
//! - throughput on the actor runtime (a worker per core), where the central
//!   manager's bottleneck shows as processes grow.

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use ivy_benches::managers::{count, time_on_runtime, Manager, Shape};
use ivy_core::SystemConfig;
use serde_json::{json, Map, Value};
use std::time::Duration;

const PAGES: u32 = 256;
const COUNTED_REQUESTS: u64 = 5_000;
const TIMED_REQUESTS: u64 = 20_000;

fn config(processes: u32) -> SystemConfig {
    SystemConfig::new(processes, PAGES, 4096).expect("a valid size")
}

/// Counts every algorithm's messages and forwardings per fault and writes them
/// where `bench-report` reads them.
fn write_counts() {
    let mut shapes = Map::new();
    for shape in [Shape::Uniform, Shape::Hot] {
        let mut managers = Map::new();
        for manager in Manager::ALL {
            let mut by_processes = Map::new();
            for processes in [4u32, 8, 16, 32, 64] {
                let config = config(processes);
                let counts = count(manager, &config, shape.workload(&config, COUNTED_REQUESTS));
                by_processes.insert(
                    processes.to_string(),
                    json!({
                        "faults": counts.faults,
                        "messages_per_fault": counts.messages_per_fault(),
                        "forwardings_per_fault": counts.forwardings_per_fault(),
                    }),
                );
            }
            managers.insert(manager.name().to_string(), Value::Object(by_processes));
        }
        shapes.insert(shape.name().to_string(), Value::Object(managers));
    }
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion");
    std::fs::create_dir_all(&directory).expect("target/criterion can be made");
    let text = serde_json::to_string_pretty(&Value::Object(shapes)).expect("JSON");
    std::fs::write(directory.join("managers.json"), text).expect("managers.json can be written");
}

fn managers(criterion: &mut Criterion) {
    write_counts();
    for shape in [Shape::Uniform, Shape::Hot] {
        let mut group = criterion.benchmark_group(format!("managers {}", shape.name()));
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(3));
        group.throughput(Throughput::Elements(TIMED_REQUESTS));
        for processes in [4u32, 16, 64] {
            let config = config(processes);
            for manager in Manager::ALL {
                let id = BenchmarkId::new(manager.name(), processes);
                group.bench_function(id, |bencher| {
                    bencher.iter_custom(|iters| {
                        let runs = (0..iters).map(|_| {
                            time_on_runtime(
                                manager,
                                &config,
                                shape.workload(&config, TIMED_REQUESTS),
                            )
                        });
                        runs.sum()
                    })
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, managers);
criterion_main!(benches);
