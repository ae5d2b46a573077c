//! A cluster on turmoil's simulated network, running the real transport and runner.

use ivy_core::driver::Client;
use ivy_core::{
    HistoryEntry, ManagerNode, NodeId, Process, ProcessOptions, SystemConfig, Workload,
};
use ivy_net::{Acceptor, Dialer, NetOptions, Report, Role, Runner, Transport};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// The port every node listens on, on its own simulated host.
pub const PORT: u16 = 7000;

/// turmoil's simulated TCP as the transport's streams.
#[derive(Clone, Copy, Debug)]
pub struct SimDialer;

impl Dialer for SimDialer {
    type Stream = turmoil::net::TcpStream;

    async fn connect(&self, address: &str) -> io::Result<Self::Stream> {
        turmoil::net::TcpStream::connect(address).await
    }
}

/// turmoil's simulated listener.
pub struct SimListener(pub turmoil::net::TcpListener);

impl Acceptor for SimListener {
    type Stream = turmoil::net::TcpStream;

    async fn accept(&mut self) -> io::Result<Self::Stream> {
        Ok(self.0.accept().await?.0)
    }
}

/// The host name of node `id`.
pub fn host(id: NodeId) -> String {
    format!("node{}", id.0)
}

/// Every node's address.
pub fn addresses(nodes: u32) -> BTreeMap<NodeId, String> {
    (0..nodes)
        .map(|id| (NodeId(id), format!("{}:{PORT}", host(NodeId(id)))))
        .collect()
}

/// The history's clock under simulation: the simulation's elapsed time.
pub fn clock() -> ivy_net::Clock {
    Arc::new(|| turmoil::sim_elapsed().map_or(0, |elapsed| elapsed.as_nanos() as u64))
}

/// What the hosts leave behind: each node's final state, and everything reported.
pub struct Gathered<M> {
    pub finals: Rc<RefCell<BTreeMap<NodeId, Role<M>>>>,
    pub reports: mpsc::UnboundedReceiver<(NodeId, Report)>,
    pub report_sender: mpsc::UnboundedSender<(NodeId, Report)>,
    pub stop: watch::Sender<bool>,
}

impl<M> Gathered<M> {
    pub fn new() -> Gathered<M> {
        let (report_sender, reports) = mpsc::unbounded_channel();
        Gathered {
            finals: Rc::new(RefCell::new(BTreeMap::new())),
            reports,
            report_sender,
            stop: watch::channel(false).0,
        }
    }
}

/// Registers a host running node `id` (a process with `operations`, or the manager
/// `make_manager` builds), which serves until told to stop and leaves its final state.
pub fn add_node<M>(
    sim: &mut turmoil::Sim<'_>,
    gathered: &Gathered<M>,
    system: SystemConfig,
    managers: u32,
    id: NodeId,
    role: impl Fn() -> Role<M> + 'static,
) where
    M: ManagerNode + 'static,
{
    let finals = gathered.finals.clone();
    let reports = gathered.report_sender.clone();
    let stop = gathered.stop.subscribe();
    let nodes = system.processes + managers;
    sim.host(host(id).as_str(), move || {
        let (finals, reports, mut stop) = (finals.clone(), reports.clone(), stop.clone());
        let role = role();
        async move {
            let listener = turmoil::net::TcpListener::bind(("0.0.0.0", PORT)).await?;
            let identity = ivy_net::Identity {
                cluster: "turmoil".to_string(),
                node: id,
                key: ivy_net::ClusterKey::new(vec![5; 32]).unwrap(),
                members: (0..nodes).map(NodeId).collect::<BTreeSet<_>>(),
            };
            // Liveness on the scale of the protocol's timeouts (milliseconds), so a
            // connection a partition swallowed is replaced soon after the repair.
            let options = NetOptions {
                ack_interval: std::time::Duration::from_millis(2),
                stall_timeout: std::time::Duration::from_millis(25),
                ..NetOptions::new(system, managers)
            };
            let acceptor = SimListener(listener);
            let (transport, inbox) =
                Transport::start(identity, addresses(nodes), options, SimDialer, acceptor);
            let (report_sender, mut own_reports) = mpsc::unbounded_channel();
            let forward = tokio::spawn(async move {
                while let Some(report) = own_reports.recv().await {
                    let _ = reports.send((id, report));
                }
            });
            let runner = Runner::new(role, transport, inbox, clock(), report_sender);
            let stopped = async move {
                let _ = stop.wait_for(|stop| *stop).await;
            };
            let last = runner.run(stopped).await;
            forward.abort();
            finals.borrow_mut().insert(id, last.role);
            Ok(())
        }
    });
}

/// A process role: process `id` of `system` with its operations of `workload`.
pub fn process_role<M>(
    system: &SystemConfig,
    options: &ProcessOptions,
    workload: &Workload,
    id: NodeId,
) -> impl Fn() -> Role<M> + 'static {
    let (system, options) = (*system, options.clone());
    let operations = workload.clone().into_numbered_lists()[id.index()].clone();
    move || {
        let process = Process::new(id, &system, options.clone());
        Role::Process(Box::new(Client::new(process, operations.clone())))
    }
}

/// Splits the final states into processes (in id order) and managers.
pub fn split<M>(finals: BTreeMap<NodeId, Role<M>>) -> (Vec<Process>, Vec<M>) {
    let mut processes = Vec::new();
    let mut managers = Vec::new();
    for (_, role) in finals {
        match role {
            Role::Process(client) => processes.push(client.process),
            Role::Manager(manager) => managers.push(manager),
        }
    }
    (processes, managers)
}

/// The completed operations among `reports`, and how many processes said they are done.
pub fn history(reports: &[(NodeId, Report)]) -> (Vec<HistoryEntry>, usize) {
    let mut history = Vec::new();
    let mut done = 0;
    for (_, report) in reports {
        match report {
            Report::Completed(entry) => history.push(*entry),
            Report::Done => done += 1,
            Report::Event(_)
            | Report::Status { .. }
            | Report::Handled { .. }
            | Report::Issuing(_)
            | Report::Served { .. } => {}
        }
    }
    (history, done)
}

/// Whether every manager's latest status among `reports` says they have settled
/// together (the run may end once the processes are done).
pub fn managers_settled(reports: &[(NodeId, Report)], managers: &[NodeId]) -> bool {
    let latest = managers.iter().map(|manager| {
        let status = reports
            .iter()
            .rev()
            .find_map(|(from, report)| match report {
                Report::Status { authority, settled } if from == manager => {
                    Some((*authority, *settled))
                }
                _ => None,
            });
        status.unwrap_or((None, None))
    });
    ivy_core::settled_together(latest).is_some()
}

/// Waits (in simulated time) until the processes are done and the managers settled,
/// or `give_up` passed, gathering every report into `reported`.
pub async fn gather(
    reports: &mut mpsc::UnboundedReceiver<(NodeId, Report)>,
    reported: &RefCell<Vec<(NodeId, Report)>>,
    processes: usize,
    managers: &[NodeId],
    give_up: std::time::Duration,
) {
    let give_up = tokio::time::sleep(give_up);
    tokio::pin!(give_up);
    let finished = |reported: &[(NodeId, Report)]| {
        history(reported).1 == processes && managers_settled(reported, managers)
    };
    while !finished(&reported.borrow()) {
        tokio::select! {
            report = reports.recv() => match report {
                Some(report) => reported.borrow_mut().push(report),
                None => return,
            },
            () = &mut give_up => return,
        }
    }
}

/// What a run leaves to judge: each node's final state and every report.
pub type Finals<M> = Rc<RefCell<BTreeMap<NodeId, Role<M>>>>;
/// Every report of a run, with the node that made it.
pub type Reported = Rc<RefCell<Vec<(NodeId, Report)>>>;

/// Registers the launcher: it gathers the reports until the processes are done and
/// `managers` have settled together (or `give_up` passed), then stops every node and
/// waits for all `nodes` final states.
pub fn add_launcher<M: 'static>(
    sim: &mut turmoil::Sim<'_>,
    gathered: Gathered<M>,
    processes: usize,
    managers: Vec<NodeId>,
    give_up: std::time::Duration,
) -> (Finals<M>, Reported) {
    let Gathered {
        finals,
        mut reports,
        stop,
        ..
    } = gathered;
    let reported: Reported = Rc::new(RefCell::new(Vec::new()));
    let (finals_seen, reported_seen) = (finals.clone(), reported.clone());
    let nodes = processes + managers.len();
    sim.client("launcher", async move {
        gather(&mut reports, &reported_seen, processes, &managers, give_up).await;
        stop.send(true)?;
        while finals_seen.borrow().len() < nodes {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        Ok(())
    });
    (finals, reported)
}
