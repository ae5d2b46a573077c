//! The fixed distributed manager (`FixedNode`): a seed sweep in the simulator, which
//! checks after every step each page against its share's manager, that every request
//! completes and that the history is linearizable; and the message counts the
//! paper's co-location gives, fault by fault. `IVY_SEEDS=10000` runs more seeds;
//! `IVY_SEED=n` replays one.

use ivy_basic::FixedNode;
use ivy_core::sim::{Simulation, SimulationError, SimulationOptions, SimulationReport};
use ivy_core::{
    Envelope, NoManager, Node, NodeId, Operation, OperationMix, Outbox, PageMapping, ProcessNode,
    SystemConfig, Workload,
};
use rand::{Rng, SeedableRng};

fn run_seed(seed: u64) -> Result<SimulationReport<FixedNode>, SimulationError> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_f1ed);
    let config = SystemConfig::new(rng.random_range(1..=6), rng.random_range(1..=9), 8).unwrap();
    let mix =
        [OperationMix::Read, OperationMix::Write, OperationMix::Mixed][rng.random_range(0..3)];
    let mapping = [PageMapping::Modulo, PageMapping::Blocks][rng.random_range(0..2)];
    let requests = rng.random_range(1..=60);
    let workload = Workload::generate(&config, requests, mix, seed);
    let nodes = FixedNode::all(&config, mapping);
    let options = SimulationOptions::seeded(seed);
    Simulation::<NoManager, _>::with_processes(&config, nodes, Vec::new(), workload, options).run()
}

#[test]
fn seed_sweep_keeps_memory_coherent() {
    let mut messages = 0;
    for seed in ivy_core::sim::seeds_to_run(2000) {
        let report = run_seed(seed).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            report.timer_firings, 0,
            "seed {seed}: nothing waits for time"
        );
        messages += report.messages;
    }
    assert!(messages > 0, "the sweep's faults sent messages");
}

/// Runs `operation` on `process` alone until the system is quiet, in order, and
/// returns the messages that crossed the network.
fn run_alone(nodes: &mut [FixedNode], process: usize, operation: Operation) -> Vec<Envelope> {
    let mut out = Outbox::new();
    nodes[process].start(operation, 0, &mut out).expect("idle");
    let mut sent = Vec::new();
    let mut queue: std::collections::VecDeque<Envelope> = out.messages.drain(..).collect();
    while let Some(envelope) = queue.pop_front() {
        sent.push(envelope.clone());
        nodes[envelope.to.index()].handle_message(envelope, 0, &mut out);
        queue.extend(out.messages.drain(..));
    }
    assert!(nodes[process].is_idle(), "{operation:?} completed");
    sent
}

/// Who sent what to whom, as `(from, to)` pairs.
fn hops(sent: &[Envelope]) -> Vec<(u32, u32)> {
    sent.iter().map(|e| (e.from.0, e.to.0)).collect()
}

#[test]
fn a_share_manager_on_the_faulting_or_owning_node_saves_its_messages() {
    // Four nodes, eight pages, H(p) = p mod 4: page p starts owned by node p mod 4,
    // which also manages it.
    let config = SystemConfig::new(4, 8, 8).unwrap();
    let mut nodes = FixedNode::all(&config, PageMapping::Modulo);
    // Node 0 reads page 5 (manager and owner node 1): the forward is local to node 1.
    let read = run_alone(&mut nodes, 0, Operation::read(5));
    assert_eq!(
        hops(&read),
        [(0, 1), (1, 0), (0, 1)],
        "request, page, confirmation"
    );
    // Node 2 writes page 5: node 1 invalidates node 0's copy, then hands the page over
    // (forward local).
    let write = run_alone(&mut nodes, 2, Operation::write(5, 7));
    assert_eq!(hops(&write), [(2, 1), (1, 0), (0, 1), (1, 2), (2, 1)]);
    // Node 1 (page 5's manager, no longer its owner) reads it: request and
    // confirmation stay on node 1; only the forward and the page travel.
    let local = run_alone(&mut nodes, 1, Operation::read(5));
    assert_eq!(hops(&local), [(1, 2), (2, 1)]);
    assert!(nodes[1].manages(ivy_core::PageId(5)) && !nodes[0].manages(ivy_core::PageId(5)));
    let owner = nodes[1]
        .manager()
        .serializer()
        .directory()
        .record(ivy_core::PageId(5));
    assert_eq!(
        owner.owner,
        NodeId(2),
        "the share's manager recorded the new owner"
    );
}

#[test]
fn blocks_put_neighbouring_pages_with_one_manager() {
    let config = SystemConfig::new(2, 4, 8).unwrap();
    let mut nodes = FixedNode::all(&config, PageMapping::Blocks);
    // Pages 0 and 1 are node 0's share; page 1 starts owned by node 1 (p mod 2).
    let read = run_alone(&mut nodes, 1, Operation::read(0));
    assert_eq!(hops(&read), [(1, 0), (0, 1), (1, 0)]);
    let write = run_alone(&mut nodes, 0, Operation::write(1, 3));
    assert_eq!(
        hops(&write),
        [(0, 1), (1, 0)],
        "forward and page; the rest local"
    );
}

/// A random system, mapping and per-process operation lists, and a delivery seed.
fn any_case(
) -> impl proptest::strategy::Strategy<Value = (SystemConfig, PageMapping, Workload, u64)> {
    use proptest::prelude::*;
    (1u32..=4, 1u32..=6, any::<bool>()).prop_flat_map(|(processes, pages, blocks)| {
        let operation = (any::<bool>(), 0..pages);
        let list = proptest::collection::vec(operation, 0..=6);
        let lists = proptest::collection::vec(list, processes as usize);
        (lists, any::<u64>()).prop_map(move |(lists, seed)| {
            let config = SystemConfig::new(processes, pages, 8).expect("a valid size");
            let mapping = [PageMapping::Modulo, PageMapping::Blocks][blocks as usize];
            let mut values = 0..; // every write its own value, for the history check
            let lists = lists.into_iter().map(|list| {
                let mut op = |(write, page)| match write {
                    true => Operation::write(page, values.next().expect("unbounded") + 1),
                    false => Operation::read(page),
                };
                list.into_iter().map(&mut op).collect()
            });
            (config, mapping, Workload::from_lists(lists.collect()), seed)
        })
    })
}

proptest::proptest! {
    /// Every run completes, checked after every step; and no fault sends more than
    /// the central manager's four messages besides two per invalidated copy (fewer
    /// when its manager shares a node with the requester or the owner).
    #[test]
    fn every_fault_completes_within_the_central_managers_messages(
        (config, mapping, workload, seed) in any_case()
    ) {
        let issued = workload.len() as u64;
        let nodes = FixedNode::all(&config, mapping);
        let mut options = SimulationOptions::seeded(seed);
        options.record_trace = true;
        let simulation =
            Simulation::<NoManager, _>::with_processes(&config, nodes, Vec::new(), workload, options);
        let report = simulation.run().unwrap_or_else(|error| panic!("{error}"));
        proptest::prop_assert_eq!(report.history.len() as u64, issued);
        let faults = issued - report.local_hits;
        let invalidations = report.trace.iter().filter(|record| {
            matches!(record.kind, ivy_core::MessageKind::Invalidate | ivy_core::MessageKind::InvalidateConfirmation)
        });
        let rest = report.messages - invalidations.count() as u64;
        proptest::prop_assert!(rest <= 4 * faults, "{rest} messages for {faults} faults");
    }
}
