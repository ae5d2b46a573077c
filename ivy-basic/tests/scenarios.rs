//! Hand-driven scenarios of the whole basic system, on the simulator driven by hand:
//! operations are started by the test, messages are delivered in an order the test
//! chooses (FIFO or newest first), and the coherence invariant is checked after every
//! single delivery. Each scenario ends with
//! the exact state it must reach.

use ivy_basic::CentralManager;
use ivy_core::sim::{Simulation, SimulationOptions};
use ivy_core::{
    Access, DirectoryView, Envelope, Message, MessageKind, NodeId, Operation, PageId, Process,
    SystemConfig, Workload,
};

/// Which in-flight message is delivered next.
#[derive(Clone, Copy)]
enum Order {
    Fifo,
    NewestFirst,
}

/// The simulator driven by hand (`ivy_core::sim::hand`): it checks coherence after
/// every delivery; the test starts each operation.
struct Network {
    sim: Simulation<CentralManager>,
}

impl Network {
    fn new(processes: u32, pages: u32) -> Network {
        let config = SystemConfig::new(processes, pages, 16).expect("a valid configuration");
        let nothing_planned = Workload::from_lists(vec![Vec::new(); processes as usize]);
        let options = SimulationOptions {
            record_trace: true,
            ..SimulationOptions::seeded(0)
        };
        let managers = vec![CentralManager::new(&config)];
        let sim = Simulation::new(&config, managers, nothing_planned, options).by_hand();
        Network {
            sim: sim.expect("a fresh system is coherent"),
        }
    }

    fn start(&mut self, process: u32, operation: Operation) {
        let started = self.sim.start(NodeId(process), operation);
        started.unwrap_or_else(|error| panic!("{error}: {:?}", error.steps_before));
    }

    /// Delivers every message, checking coherence after each delivery.
    fn settle(&mut self, order: Order) {
        loop {
            let delivered = match order {
                Order::Fifo => self.sim.deliver_first(|_| true),
                Order::NewestFirst => self.sim.deliver_newest(),
            };
            match delivered {
                Ok(true) => {}
                Ok(false) => break,
                Err(error) => panic!("{error}: {:?}", error.steps_before),
            }
        }
        let processes = self.sim.processes();
        assert!(processes.iter().all(Process::is_idle), "a fault was lost");
    }

    /// Delivers the oldest message in flight.
    fn settle_one(&mut self) {
        let delivered = self.sim.deliver_first(|_| true);
        assert!(delivered.expect("coherent"), "a message in flight");
    }

    /// The kinds of the messages delivered so far, in order.
    fn delivered(&self) -> Vec<MessageKind> {
        let trace = &self.sim.report().trace;
        trace.iter().map(|record| record.kind).collect()
    }

    fn in_flight(&self) -> &[Envelope] {
        self.sim.in_flight()
    }

    /// (access, is_owner, value) of `page` at `process`.
    fn at(&self, process: u32, page: u32) -> (Access, bool, Option<u64>) {
        let entry = self.sim.processes()[process as usize]
            .page(PageId(page))
            .expect("the page exists");
        (entry.access(), entry.is_owner(), entry.value())
    }

    fn owner_and_copies(&self, page: u32) -> (NodeId, Vec<NodeId>) {
        let record = self.sim.managers()[0].directory().record(PageId(page));
        (record.owner, record.copy_set.iter().collect())
    }

    fn values_of(&self, process: u32) -> Vec<u64> {
        let history = self.sim.report().history.iter();
        let of_process = history.filter(|entry| entry.process == NodeId(process));
        of_process.map(|entry| entry.value).collect()
    }
}

use MessageKind::*;

#[test]
fn a_read_fault_takes_four_messages_and_leaves_the_owner_with_read() {
    let mut network = Network::new(2, 1);
    network.start(0, Operation::write(0, 5));
    network.start(1, Operation::read(0));
    network.settle(Order::Fifo);
    assert_eq!(
        network.delivered(),
        vec![ReadRequest, ReadForward, ReadPage, ReadConfirmation]
    );
    assert_eq!(network.values_of(1), vec![5]);
    assert_eq!(network.at(0, 0), (Access::Read, true, Some(5)));
    assert_eq!(network.at(1, 0), (Access::Read, false, Some(5)));
    assert_eq!(network.owner_and_copies(0), (NodeId(0), vec![NodeId(1)]));
}

#[test]
fn a_write_fault_invalidates_copies_then_moves_ownership() {
    let mut network = Network::new(3, 1);
    network.start(1, Operation::read(0));
    network.settle(Order::Fifo);
    network.start(2, Operation::write(0, 9));
    network.settle(Order::Fifo);
    assert_eq!(
        network.delivered()[4..],
        [
            WriteRequest,
            Invalidate,
            InvalidateConfirmation,
            WriteForward,
            WritePage,
            WriteConfirmation
        ]
    );
    assert_eq!(network.at(0, 0), (Access::Nil, false, None));
    assert_eq!(network.at(1, 0), (Access::Nil, false, None));
    assert_eq!(network.at(2, 0), (Access::ReadWrite, true, Some(9)));
    assert_eq!(network.owner_and_copies(0), (NodeId(2), vec![]));
}

#[test]
fn the_owner_upgrades_from_read_without_a_page_transfer() {
    let mut network = Network::new(2, 1);
    network.start(1, Operation::read(0));
    network.settle(Order::Fifo);
    network.start(0, Operation::write(0, 3));
    network.settle(Order::Fifo);
    assert!(!network.delivered()[4..].contains(&WritePage));
    assert_eq!(network.at(0, 0), (Access::ReadWrite, true, Some(3)));
    assert_eq!(network.at(1, 0), (Access::Nil, false, None));
    assert_eq!(network.owner_and_copies(0), (NodeId(0), vec![]));
}

#[test]
fn a_writer_holding_a_read_copy_is_not_invalidated_and_takes_the_page() {
    let mut network = Network::new(2, 1);
    network.start(1, Operation::read(0));
    network.settle(Order::Fifo);
    network.start(1, Operation::write(0, 4));
    network.settle(Order::Fifo);
    assert!(!network.delivered()[4..].contains(&Invalidate));
    assert_eq!(network.at(1, 0), (Access::ReadWrite, true, Some(4)));
    assert_eq!(network.at(0, 0), (Access::Nil, false, None));
}

#[test]
fn racing_writes_on_one_page_are_serialised_in_either_delivery_order() {
    for order in [Order::Fifo, Order::NewestFirst] {
        let mut network = Network::new(4, 1);
        for process in 1..4 {
            network.start(process, Operation::write(0, u64::from(process) * 10));
        }
        network.settle(order);
        let (owner, copies) = network.owner_and_copies(0);
        assert!(copies.is_empty());
        let last_value = u64::from(owner.0) * 10;
        assert_eq!(
            network.at(owner.0, 0),
            (Access::ReadWrite, true, Some(last_value))
        );
        let owners = (0..4).filter(|&p| network.at(p, 0).1).count();
        assert_eq!(owners, 1);
    }
}

#[test]
fn racing_reads_and_a_write_on_one_page_stay_coherent_in_either_order() {
    for order in [Order::Fifo, Order::NewestFirst] {
        let mut network = Network::new(4, 2);
        network.start(1, Operation::read(0));
        network.start(2, Operation::write(0, 7));
        network.start(3, Operation::read(0));
        network.start(0, Operation::read(1));
        network.settle(order);
        for reader in [1, 3] {
            let seen = network.values_of(reader)[0];
            assert!(seen == 0 || seen == 7, "read returned {seen}");
        }
    }
}

#[test]
fn a_forward_reaches_an_owner_whose_own_fault_on_the_page_is_pending() {
    // Process 0 owns page 0 with Read (after process 1's read) and faults to write it;
    // process 2's write on page 0 is ordered first, so process 0 must hand the page
    // over while its own upgrade waits, and then get it back with a page transfer.
    let mut network = Network::new(3, 1);
    network.start(1, Operation::read(0));
    network.settle(Order::Fifo);
    network.start(2, Operation::write(0, 20));
    network.settle_one(); // process 2's request reaches the manager first
    network.start(0, Operation::write(0, 30));
    network.settle(Order::Fifo);
    assert_eq!(network.at(0, 0), (Access::ReadWrite, true, Some(30)));
    assert_eq!(network.at(2, 0), (Access::Nil, false, None));
    assert_eq!(network.owner_and_copies(0), (NodeId(0), vec![]));
    assert_eq!(
        network
            .delivered()
            .iter()
            .filter(|&&k| k == WritePage)
            .count(),
        2
    );
}

#[test]
fn faults_on_different_pages_proceed_in_parallel() {
    let mut network = Network::new(3, 3);
    network.start(0, Operation::write(1, 1));
    network.start(1, Operation::write(2, 2));
    network.start(2, Operation::write(0, 3));
    // Deliver the three requests: all three forwards must be out at once.
    for _ in 0..3 {
        network.settle_one();
    }
    let forwards = network
        .in_flight()
        .iter()
        .filter(|envelope| matches!(envelope.message, Message::WriteForward { .. }))
        .count();
    assert_eq!(forwards, 3);
    network.settle(Order::NewestFirst);
    for (process, page, value) in [(0, 1, 1), (1, 2, 2), (2, 0, 3)] {
        assert_eq!(
            network.at(process, page),
            (Access::ReadWrite, true, Some(value))
        );
    }
}
