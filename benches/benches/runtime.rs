//! Throughput of the threaded runtime in its default mode (actors, a worker per
//! core): random reads, writes and mixed operations on 4, 10 and 64 processes (100
//! pages), the basic and the fault-tolerant system side by side; the latency of one
//! uncontended read fault (a thread per node); the floor every runtime pays, the cost
//! of waking a parked thread through a channel (one hop, and a ring of three hops,
//! the length of a read fault's critical path); one and two workers against a thread
//! per node; the reference program's workload, on a quiet machine and on one loaded
//! by a spinning thread per core; and a system of 64 processes and a million pages.

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use crossbeam_channel::{unbounded, Receiver, Sender};
use ivy_benches::{Run, System};
use ivy_core::OperationMix;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const REQUESTS: u64 = 20_000;

fn throughput(criterion: &mut Criterion) {
    for (name, mix) in [
        ("read", OperationMix::Read),
        ("write", OperationMix::Write),
        ("mixed", OperationMix::Mixed),
    ] {
        let mut group = criterion.benchmark_group(format!("runtime {name}"));
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(4));
        group.throughput(Throughput::Elements(REQUESTS));
        for processes in [4u32, 10, 64] {
            for system in [System::Basic, System::Ft] {
                let run = Run::new(processes, 100, REQUESTS, mix);
                let id = BenchmarkId::new(system.name(), processes);
                group.bench_with_input(id, &run, |bencher, run| {
                    bencher.iter_custom(|iters| (0..iters).map(|_| run.execute(system).0).sum())
                });
            }
        }
        group.finish();
    }
}

/// One read fault at a time: process 1 reads each page process 0 owns, once.
fn read_fault_latency(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("read fault latency");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    let faults: u64 = 2_000;
    group.throughput(Throughput::Elements(faults));
    group.bench_function("uncontended, basic", |bencher| {
        bencher.iter_custom(|iters| (0..iters).map(|_| one_at_a_time(faults)).sum())
    });
    group.finish();
}

/// Runs `faults` uncontended read faults one after another and returns their time.
fn one_at_a_time(faults: u64) -> Duration {
    use ivy_basic::CentralManager;
    use ivy_cli::runtime;
    use ivy_core::{Operation, PageId, Process, ProcessOptions, SystemConfig, Workload};
    let config = SystemConfig::new(2, 2 * faults as u32, 4096).expect("a valid size");
    let reads = (0..faults)
        .map(|index| Operation::Read {
            page: PageId(2 * index as u32),
        })
        .collect();
    let workload = Workload::from_lists(vec![Vec::new(), reads]);
    let processes = Process::all(&config, &ProcessOptions::single_manager(&config));
    let options = ivy_benches::unrecorded_options();
    let manager = CentralManager::new(&config);
    let outcome = runtime::run(processes, vec![manager], workload, options).expect("completes");
    outcome.elapsed
}

/// Passes a token around a ring of `hops` threads (the bench thread included)
/// `rounds` times; returns the time per hop times `rounds * hops`.
fn ring(hops: usize, rounds: u64) -> Duration {
    let (senders, receivers): (Vec<Sender<u64>>, Vec<Receiver<u64>>) =
        (0..hops).map(|_| unbounded()).unzip();
    let threads: Vec<_> = (1..hops)
        .map(|index| {
            let inbox = receivers[index].clone();
            let next = senders[(index + 1) % hops].clone();
            std::thread::spawn(move || {
                while let Ok(token) = inbox.recv() {
                    if token == u64::MAX {
                        let _ = next.send(token);
                        break;
                    }
                    let _ = next.send(token + 1);
                }
            })
        })
        .collect();
    let start = Instant::now();
    for round in 0..rounds {
        senders[1 % hops].send(round).expect("the ring is up");
        receivers[0].recv().expect("the token comes back");
    }
    let elapsed = start.elapsed();
    senders[1 % hops].send(u64::MAX).expect("the ring is up");
    let _ = receivers[0].recv();
    for thread in threads {
        thread.join().expect("a ring thread");
    }
    elapsed
}

fn channel_hops(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("channel hops");
    for hops in [1usize, 3] {
        // A ring of `hops + 1` threads would add a hop back; instead a ring of `hops`
        // threads where the bench thread is one of them: `hops` sends per round.
        let ring_size = hops.max(2);
        let name = format!("{hops} hop{}", if hops == 1 { "" } else { "s" });
        group.bench_function(name, |bencher| {
            bencher.iter_custom(|iters| {
                let elapsed = ring(ring_size, iters);
                elapsed * hops as u32 / ring_size as u32
            })
        });
    }
    group.finish();
}

/// Thread per node against the actor runtime on one and two workers (this machine has
/// two cores): 20,000 writes, and 20,000 reads, on 10 processes and 100 pages.
fn actor_runtime(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("runtime threads");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(REQUESTS));
    let workloads = [("", OperationMix::Write), (" reads", OperationMix::Read)];
    for ((suffix, mix), system) in workloads
        .into_iter()
        .flat_map(|workload| [System::Basic, System::Ft].map(|system| (workload, system)))
    {
        for (label, threads) in [
            ("per node", None),
            ("1 worker", Some(1)),
            ("2 workers", Some(2)),
        ] {
            let mut run = Run::new(10, 100, REQUESTS, mix);
            run.threads = threads;
            let id = BenchmarkId::new(format!("{}{suffix}", system.name()), label);
            group.bench_with_input(id, &run, |bencher, run| {
                bencher.iter_custom(|iters| (0..iters).map(|_| run.execute(system).0).sum())
            });
        }
    }
    group.finish();
}

/// The reference program's own workload: 100,000 random reads or writes by 10
/// processes on 100 pages (its authors report 10 to 18 µs per operation); and the
/// writes again on a machine loaded by a spinning thread per core, which the benchmark
/// starts before and stops after.
fn reference_workload(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("reference workload");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    let requests = 100_000;
    group.throughput(Throughput::Elements(requests));
    for (name, mix) in [
        ("reads", OperationMix::Read),
        ("writes", OperationMix::Write),
    ] {
        for system in [System::Basic, System::Ft] {
            let run = Run::new(10, 100, requests, mix);
            let id = BenchmarkId::new(system.name(), name);
            group.bench_with_input(id, &run, |bencher, run| {
                bencher.iter_custom(|iters| (0..iters).map(|_| run.execute(system).0).sum())
            });
        }
    }
    let load = Load::start();
    let run = Run::new(10, 100, requests, OperationMix::Write);
    let id = BenchmarkId::new("basic", "writes, loaded");
    group.bench_with_input(id, &run, |bencher, run| {
        bencher.iter_custom(|iters| (0..iters).map(|_| run.execute(System::Basic).0).sum())
    });
    drop(load);
    group.finish();
}

/// A CPU-bound thread per core, spinning until dropped.
struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start() -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
        let threads = (0..cores)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut spins: u64 = 0;
                    while !stop.load(Ordering::Relaxed) {
                        spins = std::hint::black_box(spins.wrapping_add(1));
                    }
                })
            })
            .collect();
        Load { stop, threads }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Scale: 64 processes and a million pages, 20,000 mixed operations (the time of the
/// run, not of building the page tables).
fn scale(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("scale");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    let requests = 20_000;
    group.throughput(Throughput::Elements(requests));
    for system in [System::Basic, System::Ft] {
        let run = Run::new(64, 1_000_000, requests, OperationMix::Mixed);
        let id = BenchmarkId::new(system.name(), "64 processes, 1,000,000 pages");
        group.bench_with_input(id, &run, |bencher, run| {
            bencher.iter_custom(|iters| (0..iters).map(|_| run.execute(system).0).sum())
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    throughput,
    read_fault_latency,
    channel_hops,
    actor_runtime,
    reference_workload,
    scale
);
criterion_main!(benches);
