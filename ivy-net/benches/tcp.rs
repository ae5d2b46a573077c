//! One uncontended read fault over loopback TCP, against a bare three-hop TCP chain
//! measured in the same run.
//!
//! The read fault: three nodes (two processes and the central manager), each on its
//! own thread with its own tokio runtime, as separate OS processes would be, talking
//! through `ivy-net`'s transport; process 1 reads, one after another, pages process 0
//! owns and has written (so each copy carries its 4,096 bytes). Its critical path is
//! three messages (request to the manager, forward to the owner, the page to the
//! requester); the confirmation travels off it.
//!
//! The chain: the same three threads and runtimes passing frames of the same sizes
//! (the postcard frames of those three messages, the last carrying the 4,096-byte
//! page) around a ring of TCP connections with the same framing, and nothing else: no
//! protocol, no handshake, no acknowledgements.
//!
//! Each is measured twice: with the threads free to run on any core, and with all of
//! them on one core. On a virtual machine, waking a thread on another, idle core costs
//! tens of microseconds (the hypervisor must wake that virtual CPU), more than the
//! work of a hop, so the first pair measures mostly where the scheduler puts threads;
//! the second compares the software alone.

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use futures::{SinkExt, StreamExt};
use ivy_basic::CentralManager;
use ivy_core::driver::Client;
use ivy_core::{
    Envelope, Message, NodeId, Operation, PageBuffer, PageId, PageVersion, Process, ProcessOptions,
    RequestId, SystemConfig, View, Viewstamp, Workload,
};
use ivy_net::{
    ClusterKey, Frame, Identity, NetOptions, Report, Role, Runner, TcpDialer, Transport,
};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

const PAGE_BYTES: usize = 4096;
/// Faults (or rounds) timed per sample, after the warm-up.
const MEASURED: u64 = 1_000;
/// Faults (or rounds) first, untimed: the connections open and the caches warm.
const WARM_UP: u64 = 20;

fn read_fault_over_tcp(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("tcp read fault");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(MEASURED));
    for (suffix, one_core) in [("", false), (", one core", true)] {
        group.bench_function(format!("uncontended, basic{suffix}"), |bencher| {
            bencher.iter_custom(|iters| (0..iters).map(|_| ivy_read_faults(one_core)).sum())
        });
        group.bench_function(format!("bare 3-hop chain{suffix}"), |bencher| {
            bencher.iter_custom(|iters| (0..iters).map(|_| bare_chain(one_core)).sum())
        });
    }
    group.finish();
}

/// Keeps the calling thread on the first core.
fn pin_to_one_core() {
    let mut cores = nix::sched::CpuSet::new();
    cores.set(0).expect("core 0 exists");
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &cores).expect("pinned");
}

/// A single-threaded tokio runtime, as an `ivy node` process would have.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// `count` listeners on free loopback ports.
fn listeners(count: usize) -> Vec<std::net::TcpListener> {
    (0..count)
        .map(|_| {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            listener.set_nonblocking(true).expect("non-blocking");
            listener
        })
        .collect()
}

/// Runs `WARM_UP + MEASURED` read faults one at a time; the time of the last
/// `MEASURED`, from the completion of the last warm-up fault to the last completion.
fn ivy_read_faults(one_core: bool) -> Duration {
    let faults = WARM_UP + MEASURED;
    let config = SystemConfig::new(2, 2 * faults as u32, PAGE_BYTES).expect("a valid size");
    let reads = (0..faults)
        .map(|index| Operation::Read {
            page: PageId(2 * index as u32),
        })
        .collect();
    let writes = (0..faults)
        .map(|index| Operation::Write {
            page: PageId(2 * index as u32),
            value: index,
        })
        .collect();
    let workload = Workload::from_lists(vec![writes, reads]);
    let mut operations = workload.into_numbered_lists().into_iter();
    let listeners = listeners(3);
    let addresses: BTreeMap<NodeId, String> = listeners
        .iter()
        .enumerate()
        .map(|(id, listener)| {
            (
                NodeId(id as u32),
                listener.local_addr().unwrap().to_string(),
            )
        })
        .collect();
    let base = Instant::now();
    let (stop, stopped) = watch::channel(false);
    let (completions, completed) = std::sync::mpsc::channel();
    let nodes: Vec<_> = listeners
        .into_iter()
        .enumerate()
        .map(|(index, listener)| {
            let id = NodeId(index as u32);
            let role = match config.is_process(id) {
                true => {
                    let process =
                        Process::new(id, &config, ProcessOptions::single_manager(&config));
                    let ops = operations.next().expect("a list per process");
                    Role::Process(Box::new(Client::new(process, ops)))
                }
                false => Role::Manager(CentralManager::new(&config)),
            };
            let identity = Identity {
                cluster: "bench".to_string(),
                node: id,
                key: ClusterKey::new(vec![7; 32]).expect("a long enough key"),
                members: addresses.keys().copied().collect(),
            };
            let (addresses, completions) = (addresses.clone(), completions.clone());
            let mut stopped = stopped.clone();
            std::thread::spawn(move || {
                if one_core {
                    pin_to_one_core();
                }
                runtime().block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    let options = NetOptions::new(config, 1);
                    let (transport, inbox) =
                        Transport::start(identity, addresses, options, TcpDialer, listener);
                    let (reports, mut reported) = mpsc::unbounded_channel();
                    let clock = std::sync::Arc::new(move || base.elapsed().as_nanos() as u64);
                    let runner = Runner::new(role, transport, inbox, clock, reports);
                    // Completion times stay on the node's thread until it is done,
                    // so that no report wakes another thread during the run.
                    let forward = async move {
                        let mut times = Vec::new();
                        while let Some(report) = reported.recv().await {
                            match report {
                                Report::Completed(entry) => times.push(entry.completed_at),
                                Report::Done => {
                                    let _ = completions.send((id, std::mem::take(&mut times)));
                                }
                                _ => {}
                            }
                        }
                    };
                    let stop = async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    };
                    // As in `ivy node`: the runner is a task of its own.
                    let (run, ()) = tokio::join!(tokio::spawn(runner.run(stop)), forward);
                    run.expect("the runner ends cleanly");
                });
            })
        })
        .collect();
    drop(completions);
    // Process 1 does the reading (process 0 is done at once: it has nothing to do).
    let mut times = loop {
        match completed.recv().expect("process 1 finishes") {
            (NodeId(1), times) => break times,
            _ => continue,
        }
    };
    stop.send(true).expect("the nodes listen");
    for node in nodes {
        node.join().expect("a node ends cleanly");
    }
    assert_eq!(times.len() as u64, faults, "every read completed");
    times.sort_unstable();
    Duration::from_nanos(times[faults as usize - 1] - times[WARM_UP as usize - 1])
}

/// The three frames of a read fault's critical path, as the transport sends them.
fn read_fault_frames() -> [tokio_util::bytes::Bytes; 3] {
    let (page, version) = (PageId(1_000), PageVersion(1));
    let request = RequestId {
        process: NodeId(1),
        sequence: 500,
    };
    let envelope = |from, to, message| {
        Frame::Message(Envelope {
            from: NodeId(from),
            to: NodeId(to),
            view: View(0),
            message,
        })
        .to_bytes()
    };
    [
        envelope(1, 2, Message::ReadRequest { page, request }),
        envelope(
            2,
            0,
            Message::ReadForward {
                page,
                request,
                version,
                stamp: Viewstamp::default(),
            },
        ),
        envelope(
            0,
            1,
            Message::ReadPage {
                page,
                request,
                version,
                data: PageBuffer::zeroed(PAGE_BYTES),
            },
        ),
    ]
}

/// Passes the three frames around a ring of three threads over TCP, one round at a
/// time; the time of the last `MEASURED` rounds.
fn bare_chain(one_core: bool) -> Duration {
    let frames = read_fault_frames();
    let listeners = listeners(3);
    let addresses: Vec<_> = listeners.iter().map(|l| l.local_addr().unwrap()).collect();
    let (timed, time) = std::sync::mpsc::channel();
    let hops: Vec<_> = listeners
        .into_iter()
        .enumerate()
        .map(|(hop, listener)| {
            // Hop `hop` sends frame `hop` to the next: hop 0 the request (to hop 1),
            // hop 1 the forward (to hop 2), hop 2 the page (back to hop 0).
            let next = addresses[(hop + 1) % 3];
            let frame = frames[hop].clone();
            let (first, timed) = (frames[0].clone(), timed.clone());
            std::thread::spawn(move || {
                if one_core {
                    pin_to_one_core();
                }
                runtime().block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    let (accepted, connected) =
                        tokio::join!(listener.accept(), tokio::net::TcpStream::connect(next));
                    let (inbound, outbound) = (accepted.unwrap().0, connected.unwrap());
                    inbound.set_nodelay(true).unwrap();
                    outbound.set_nodelay(true).unwrap();
                    let codec = || ivy_net::wire::codec(2 * PAGE_BYTES);
                    let mut inbound = tokio_util::codec::Framed::new(inbound, codec());
                    let mut outbound = tokio_util::codec::Framed::new(outbound, codec());
                    if hop != 0 {
                        while let Some(Ok(_)) = inbound.next().await {
                            outbound.send(frame.clone()).await.unwrap();
                        }
                        return;
                    }
                    // Hop 0 starts each round with the request and ends it when the
                    // page comes back.
                    let mut started = Instant::now();
                    for round in 0..WARM_UP + MEASURED {
                        if round == WARM_UP {
                            started = Instant::now();
                        }
                        outbound.send(first.clone()).await.unwrap();
                        inbound.next().await.unwrap().unwrap();
                    }
                    timed.send(started.elapsed()).unwrap();
                });
            })
        })
        .collect();
    let elapsed = time.recv().expect("the chain ran");
    for hop in hops {
        hop.join().expect("a hop ends cleanly");
    }
    elapsed
}

criterion_group!(benches, read_fault_over_tcp);
criterion_main!(benches);
