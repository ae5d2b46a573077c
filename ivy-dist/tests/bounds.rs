//! The dynamic distributed manager's bounds on locating an owner, measured.
//!
//! While a page stays put, a fault's request reaches its owner within N - 1
//! forwardings: the probable owners never go round (checked after every step), so
//! the request passes each other process at most once. A page that moves while
//! the request travels can lead it past a process again (seen: 3 forwardings
//! among 3 processes while two writers passed the page back and forth), so under
//! races the bound is N - 1 per stay of the page. Over K faults one at a time,
//! path compression (every hop a write request passes points at its writer)
//! keeps the total within N + K log2 N, the paper's amortized bound.
//! `IVY_SEEDS` runs more seeds.

mod common;

use common::{seeds, simulate, System, Which};
use ivy_core::sim::SimulationOptions;
use ivy_core::{MessageKind, Operation, OperationMix, SystemConfig, TraceRecord, Workload};
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

/// Every fault of a traced run: its forwardings, and how many times its page
/// moved to a new owner while it was open. A process has one fault at a time, and
/// every forwarding of it is delivered before it is served: each request message
/// its requester sends begins a fault, and the request messages others send for it
/// until then are its forwardings.
fn faults_of(trace: &[TraceRecord]) -> Vec<(u64, u64)> {
    // Per requester: its open fault's page, forwardings and moves of the page.
    let mut open: BTreeMap<u32, (u32, u64, u64)> = BTreeMap::new();
    let mut done = Vec::new();
    for record in trace {
        let page = record.page.map_or(u32::MAX, |page| page.0);
        if record.kind == MessageKind::OwnerPage {
            let moved = open.values_mut().filter(|fault| fault.0 == page);
            moved.for_each(|fault| fault.2 += 1);
        }
        let is_request = matches!(
            record.kind,
            MessageKind::ReadRequest | MessageKind::WriteRequest
        );
        let Some(requester) = record.requester.filter(|_| is_request) else {
            continue;
        };
        if record.from == requester {
            let finished = open.insert(requester.0, (page, 0, 0));
            done.extend(finished.map(|(_, hops, moves)| (hops, moves)));
        } else {
            open.get_mut(&requester.0)
                .expect("a forwarding of an open fault")
                .1 += 1;
        }
    }
    done.extend(open.into_values().map(|(_, hops, moves)| (hops, moves)));
    done
}

#[test]
fn racing_faults_reach_the_owner_within_n_minus_one_forwardings_per_stay_of_the_page() {
    let (mut most, mut chased) = (0, 0);
    for seed in seeds(500) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0xb0_0d);
        let processes = rng.random_range(2..=8);
        let config = SystemConfig::new(processes, rng.random_range(1..=3), 8).unwrap();
        let workload = Workload::generate(&config, 120, OperationMix::Mixed, seed);
        let mut options = SimulationOptions::seeded(seed);
        options.record_trace = true;
        let report = simulate(Which::Dynamic, &config, workload, options)
            .unwrap_or_else(|error| panic!("{error}"));
        let per_stay = u64::from(processes) - 1;
        for (hops, moves) in faults_of(&report.trace) {
            let bound = per_stay * (1 + moves);
            assert!(
                hops <= bound,
                "seed {seed}: {hops} forwardings, {moves} moves"
            );
            most = most.max(hops);
            chased += u64::from(hops > per_stay);
        }
    }
    assert!(
        most >= 2,
        "the sweep raced faults along chains of hints ({most})"
    );
    println!("most forwardings of one fault: {most}; faults past N - 1: {chased}");
}

#[test]
fn a_fault_on_a_page_that_stays_put_takes_at_most_n_minus_one_forwardings() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    for processes in [2u32, 3, 5, 8, 16, 64] {
        let config = SystemConfig::new(processes, 2, 8).unwrap();
        let mut system = System::new(&config, Which::Dynamic);
        for value in 1..=400 {
            let process = rng.random_range(0..processes);
            let page = rng.random_range(0..2);
            let operation = match rng.random_bool(0.5) {
                true => Operation::write(page, value),
                false => Operation::read(page),
            };
            let sent = system.run_alone(process, operation);
            let requests = sent.iter().filter(|(kind, ..)| {
                matches!(kind, MessageKind::ReadRequest | MessageKind::WriteRequest)
            });
            let forwardings = requests.count().saturating_sub(1);
            assert!(
                forwardings < processes as usize,
                "N = {processes}: {forwardings}"
            );
        }
    }
}

/// The forwardings of `faults` write faults on one page of a system of `processes`,
/// one at a time, each by a process drawn from `rng` (the owner's own are skipped:
/// they fault nothing).
fn sequential_write_forwardings(processes: u32, faults: usize, rng: &mut impl Rng) -> u64 {
    let config = SystemConfig::new(processes, 1, 8).unwrap();
    let mut system = System::new(&config, Which::Dynamic);
    let mut total = 0;
    let mut done = 0;
    while done < faults {
        let writer = rng.random_range(0..processes);
        let sent = system.run_alone(writer, Operation::write(0, done as u64 + 1));
        let requests = sent
            .iter()
            .filter(|(kind, ..)| *kind == MessageKind::WriteRequest);
        let requests = requests.count() as u64;
        if requests > 0 {
            total += requests - 1;
            done += 1;
        }
    }
    total
}

#[test]
fn k_write_faults_take_at_most_n_plus_k_log_n_forwardings() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for processes in [4u32, 8, 16, 32, 64] {
        for faults in [1usize, 10, 100, 1000] {
            let total = sequential_write_forwardings(processes, faults, &mut rng);
            let log = f64::from(processes).log2();
            let bound = f64::from(processes) + faults as f64 * log;
            println!("N = {processes}, K = {faults}: {total} forwardings, bound {bound:.0}");
            assert!(
                total as f64 <= bound,
                "N = {processes}, K = {faults}: {total} forwardings > N + K log2 N = {bound}"
            );
        }
    }
}

/// Messages and forwardings per fault of the dynamic algorithm on a hot workload
/// (90% of 4,000 mixed operations on 4 of 64 pages, 16 processes), the owner telling
/// every process it owns a page after every `every` faults on it (`None`: never).
fn with_ownership_broadcasts(every: Option<u32>) -> (f64, f64) {
    let config = SystemConfig::new(16, 64, 8).unwrap();
    let workload = Workload::generate_hot(&config, 4_000, OperationMix::Mixed, 3, 4, 900);
    let processes = ivy_dist::OwnerProcess::all(&config, ivy_dist::Algorithm::Dynamic);
    let processes: Vec<_> = match every {
        Some(every) => processes
            .into_iter()
            .map(|p| p.broadcasting_ownership_every(every))
            .collect(),
        None => processes,
    };
    let mut options = SimulationOptions::seeded(3);
    options.record_trace = true;
    let simulation = ivy_core::sim::Simulation::<ivy_core::NoManager, _>::with_processes(
        &config,
        processes,
        Vec::new(),
        workload,
        options,
    );
    let report = simulation.run().unwrap_or_else(|error| panic!("{error}"));
    let faults = (report.history.len() as u64 - report.local_hits) as f64;
    let forwardings: u64 = faults_of(&report.trace).iter().map(|(hops, _)| hops).sum();
    (report.messages as f64 / faults, forwardings as f64 / faults)
}

#[test]
fn broadcasting_ownership_trades_messages_for_forwardings() {
    // The more often owners broadcast, the fewer forwardings and the more messages:
    // N - 1 per broadcast buy less than one forwarding each on racing hot pages.
    let never = with_ownership_broadcasts(None);
    let mut previous = never;
    println!(
        "never: {:.2} messages, {:.2} forwardings per fault",
        never.0, never.1
    );
    for every in [16, 4, 1] {
        let (messages, forwardings) = with_ownership_broadcasts(Some(every));
        println!("every {every}: {messages:.2} messages, {forwardings:.2} forwardings per fault");
        assert!(
            forwardings <= previous.1,
            "fewer forwardings the more often"
        );
        assert!(messages >= previous.0, "more messages the more often");
        previous = (messages, forwardings);
    }
    assert!(
        previous.1 < never.1,
        "broadcasting after every fault saves forwardings"
    );
}
