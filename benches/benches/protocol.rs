//! Protocol cost without threads: one fault driven through the sans-IO state machines
//! by a FIFO loop, so the figure is the handlers' own work (the floor any runtime adds
//! its wake-ups to). The full suite of the benchmark issue builds on this.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use ivy_basic::CentralManager;
use ivy_core::{Node, NodeId, Operation, Outbox, PageId, Process, ProcessOptions, SystemConfig};
use std::collections::VecDeque;
use std::hint::black_box;

struct System {
    processes: Vec<Process>,
    manager: CentralManager,
    queue: VecDeque<ivy_core::Envelope>,
    outbox: Outbox,
}

impl System {
    fn new(processes: u32, pages: u32) -> System {
        let config = SystemConfig::new(processes, pages, 4096).unwrap();
        let options = ProcessOptions::single_manager(&config);
        System {
            processes: Process::all(&config, &options),
            manager: CentralManager::new(&config),
            queue: VecDeque::new(),
            outbox: Outbox::new(),
        }
    }

    /// Performs `operation` at `process` and delivers messages until quiet.
    fn perform(&mut self, process: u32, operation: Operation) {
        self.processes[process as usize]
            .start(operation, 0, &mut self.outbox)
            .unwrap();
        self.settle();
    }

    fn settle(&mut self) {
        loop {
            self.queue.extend(self.outbox.messages.drain(..));
            self.outbox.completions.clear();
            let Some(envelope) = self.queue.pop_front() else {
                break;
            };
            let to = envelope.to;
            if to == self.manager.id() {
                self.manager.handle_message(envelope, 0, &mut self.outbox);
            } else {
                self.processes[to.index()].handle_message(envelope, 0, &mut self.outbox);
            }
        }
    }
}

fn read_fault(criterion: &mut Criterion) {
    criterion.bench_function("read fault (4 messages)", |bencher| {
        bencher.iter_batched_ref(
            || System::new(2, 1),
            |system| system.perform(1, Operation::Read { page: PageId(0) }),
            BatchSize::SmallInput,
        )
    });
}

fn write_fault_with_copies(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("write fault");
    for copies in [1u32, 4, 16] {
        group.bench_function(format!("{copies} copies to invalidate"), |bencher| {
            bencher.iter_batched_ref(
                || {
                    let mut system = System::new(copies + 2, 1);
                    for reader in 1..=copies {
                        system.perform(reader, Operation::Read { page: PageId(0) });
                    }
                    system
                },
                |system| {
                    let writer = copies + 1;
                    system.perform(
                        writer,
                        Operation::Write {
                            page: PageId(0),
                            value: 7,
                        },
                    );
                    black_box(system.processes[writer as usize].page(PageId(0)));
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
    black_box(NodeId(0));
}

/// The cost of one handler call: a process serving a forward, and the manager
/// admitting a request (beginning its transaction) and completing one.
fn handler_cost(criterion: &mut Criterion) {
    use ivy_core::{Envelope, Message, PageVersion, RequestId, View, Viewstamp};
    let mut group = criterion.benchmark_group("handler");
    let system = System::new(2, 1);
    let request = RequestId {
        process: NodeId(1),
        sequence: 1,
    };
    let envelope = |from: u32, to: u32, message: Message| Envelope {
        from: NodeId(from),
        to: NodeId(to),
        view: View(0),
        message,
    };
    let forward = envelope(
        2,
        0,
        Message::ReadForward {
            page: PageId(0),
            request,
            version: PageVersion(1),
            stamp: Viewstamp::ZERO,
        },
    );
    group.bench_function("process: ReadForward at the owner", |bencher| {
        bencher.iter_batched_ref(
            || (system.processes[0].clone(), forward.clone(), Outbox::new()),
            |(process, forward, out)| process.handle_message(forward.clone(), 0, out),
            BatchSize::SmallInput,
        )
    });
    let read_request = envelope(
        1,
        2,
        Message::ReadRequest {
            page: PageId(0),
            request,
        },
    );
    group.bench_function("manager: ReadRequest on a free page", |bencher| {
        bencher.iter_batched_ref(
            || (system.manager.clone(), Outbox::new()),
            |(manager, out)| manager.handle_message(read_request.clone(), 0, out),
            BatchSize::SmallInput,
        )
    });
    let mut serving = system.manager.clone();
    serving.handle_message(read_request.clone(), 0, &mut Outbox::new());
    let confirmation = envelope(
        1,
        2,
        Message::ReadConfirmation {
            page: PageId(0),
            request,
            version: PageVersion(1),
        },
    );
    group.bench_function("manager: ReadConfirmation", |bencher| {
        bencher.iter_batched_ref(
            || (serving.clone(), Outbox::new()),
            |(manager, out)| manager.handle_message(confirmation.clone(), 0, out),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, read_fault, write_fault_with_copies, handler_cost);
criterion_main!(benches);
