//! Failover: the time from a primary's crash to the first request the new primary
//! serves, with the default timing (heartbeat 10 ms, failover timeout 50 ms) and with a
//! 1 ms heartbeat (timeout 5 ms). 10 processes, 100 pages, 2,000 mixed requests, the
//! primary killed when request 500 is issued.

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use ivy_benches::{Run, System};
use ivy_cli::runtime::FaultAction;
use ivy_core::OperationMix;
use ivy_ft::FtOptions;
use std::time::Duration;

fn failover(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("failover");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(3));
    for (name, heartbeat_ticks, failover_timeout_ticks) in [
        ("heartbeat 10 ms, timeout 50 ms", 10, 50),
        ("heartbeat 1 ms, timeout 5 ms", 1, 5),
    ] {
        let mut run = Run::new(10, 100, 2_000, OperationMix::Mixed);
        run.ft = FtOptions::with_timing(heartbeat_ticks, failover_timeout_ticks);
        run.faults.insert(500, vec![FaultAction::KillPrimary]);
        group.bench_function(name, |bencher| {
            bencher.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        let (_, failovers) = run.execute(System::Ft);
                        failovers[0].expect("the new primary served a request")
                    })
                    .sum()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, failover);
criterion_main!(benches);
