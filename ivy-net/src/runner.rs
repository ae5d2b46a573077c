//! One node, driven over the network: the async event loop that feeds a sans-IO node
//! (a process with its share of the workload, or a manager) what arrives from its
//! peers and what time brings, sends what it says, and reports each completed
//! operation to whoever launched it. A tick is a millisecond of the runner's clock,
//! which the caller supplies (real time in an OS process, simulated time under
//! turmoil), as are the timestamps of the history it reports.

pub use crate::reports::{NodeCounts, Report};
use crate::streams::Dialer;
use crate::transport::Transport;
use ivy_core::driver::Client;
use ivy_core::{Envelope, ManagerNode, Node, Outbox, TraceRecord, View};
use std::collections::{BTreeSet, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::{info, trace, warn};

/// Nanoseconds on a clock every node of a run shares (the history's time base).
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// What a runner hosts.
pub enum Role<M> {
    /// A process and the operations it has left.
    Process(Box<Client>),
    /// A manager.
    Manager(M),
}

/// A stopped runner: the node's final state and its counts.
pub struct Stopped<M> {
    /// The node.
    pub role: Role<M>,
    /// What it counted.
    pub counts: NodeCounts,
}

/// The event loop of one node.
pub struct Runner<M, D: Dialer> {
    role: Role<M>,
    transport: Transport<D>,
    inbox: mpsc::UnboundedReceiver<Envelope>,
    clock: Clock,
    reports: mpsc::UnboundedSender<Report>,
    outbox: Outbox,
    /// Messages this node sent itself.
    local: VecDeque<Envelope>,
    reported_done: bool,
    /// The clock's reading when the runner was made: tick 0.
    started_ns: u64,
    /// The manager's status last reported.
    reported_status: Option<Report>,
    /// The last view in which this manager reported serving a fault.
    served_in: Option<View>,
    /// Report every handled message.
    tracing: bool,
    /// Requests not to issue until released, and where releases come from.
    gate: BTreeSet<u64>,
    releases: Option<mpsc::UnboundedReceiver<u64>>,
    reported_issuing: Option<u64>,
    counts: NodeCounts,
}

impl<M: ManagerNode, D: Dialer> Runner<M, D> {
    /// A runner of `role`, receiving from `inbox` (the transport's) and reporting to
    /// `reports`.
    pub fn new(
        role: Role<M>,
        transport: Transport<D>,
        inbox: mpsc::UnboundedReceiver<Envelope>,
        clock: Clock,
        reports: mpsc::UnboundedSender<Report>,
    ) -> Runner<M, D> {
        let started_ns = clock();
        Runner {
            role,
            transport,
            inbox,
            clock,
            reports,
            outbox: Outbox::new(),
            local: VecDeque::new(),
            reported_done: false,
            started_ns,
            reported_status: None,
            served_in: None,
            tracing: false,
            gate: BTreeSet::new(),
            releases: None,
            reported_issuing: None,
            counts: NodeCounts::default(),
        }
    }

    /// Holds the process before it issues each request of `gate`, and any later
    /// request while an earlier one of `gate` is unreleased: it reports
    /// [`Report::Issuing`] for its own gated request and waits until request numbers
    /// arrive on `releases` (the driver injects its faults meanwhile, in request
    /// order, as the threaded runtime does when a request is issued).
    pub fn with_gate(
        mut self,
        gate: BTreeSet<u64>,
        releases: mpsc::UnboundedReceiver<u64>,
    ) -> Self {
        self.gate = gate;
        self.releases = Some(releases);
        self
    }

    /// Reports every message the node handles ([`Report::Handled`]), for a trace.
    pub fn with_trace(mut self, tracing: bool) -> Runner<M, D> {
        self.tracing = tracing;
        self
    }

    /// Runs until `stop` completes (or the transport is gone); returns the node.
    pub async fn run(mut self, stop: impl Future<Output = ()>) -> Stopped<M> {
        tokio::pin!(stop);
        // A manager's first status goes out at once: one that never hears a message
        // (every operation a local hit) must still be seen to have settled.
        self.route();
        loop {
            self.fire_due_timers();
            self.start_operations();
            while let Some(envelope) = self.local.pop_front() {
                self.deliver(envelope);
            }
            let wait = self.time_to_next_deadline();
            tokio::select! {
                biased;
                () = &mut stop => return self.stopped(),
                received = self.inbox.recv() => match received {
                    Some(envelope) => self.deliver_all(envelope),
                    None => return self.stopped(),
                },
                () = sleep_for(wait) => {}
                Some(request) = next_release(&mut self.releases) => {
                    self.gate.remove(&request);
                }
            }
        }
    }

    fn stopped(self) -> Stopped<M> {
        Stopped {
            role: self.role,
            counts: self.counts,
        }
    }

    fn now_ns(&self) -> u64 {
        (self.clock)()
    }

    /// Milliseconds since this runner started: a node's timers count from its own
    /// start (a clock shared by several OS processes reads the machine's uptime, and
    /// a manager that heard nothing since tick 0 would suspect its peer at once).
    fn now_ticks(&self) -> u64 {
        self.ticks_at(self.now_ns())
    }

    /// The tick of clock reading `now_ns`.
    fn ticks_at(&self, now_ns: u64) -> u64 {
        now_ns.saturating_sub(self.started_ns) / 1_000_000
    }

    /// Handles `first` and everything queued behind it, then lets the node send what
    /// it batched.
    fn deliver_all(&mut self, first: Envelope) {
        self.deliver(first);
        while let Ok(envelope) = self.inbox.try_recv() {
            self.deliver(envelope);
        }
        let now_ticks = self.now_ticks();
        match &mut self.role {
            Role::Process(client) => client.process.handle_idle(now_ticks, &mut self.outbox),
            Role::Manager(manager) => manager.handle_idle(now_ticks, &mut self.outbox),
        }
        self.route();
    }

    fn deliver(&mut self, envelope: Envelope) {
        let now_ns = self.now_ns();
        let now_ticks = self.ticks_at(now_ns);
        let (from, to, kind) = (envelope.from, envelope.to, envelope.message.kind());
        trace!(now_ticks, %from, %to, ?kind, view = envelope.view.0, "delivered");
        match kind.is_heartbeat() {
            true => self.counts.heartbeats += 1,
            false => self.counts.messages += 1,
        }
        if self.tracing && !kind.is_heartbeat() {
            let record = TraceRecord::of(&envelope);
            let _ = self.reports.send(Report::Handled {
                record,
                at_ns: now_ns,
            });
        }
        match &mut self.role {
            Role::Process(client) => {
                client
                    .process
                    .handle_message(envelope, now_ticks, &mut self.outbox)
            }
            Role::Manager(manager) => manager.handle_message(envelope, now_ticks, &mut self.outbox),
        }
        if kind.is_confirmation() {
            self.note_served();
        }
        self.route();
    }

    /// Reports the first fault a manager completes as the primary of a view.
    fn note_served(&mut self) {
        let Role::Manager(manager) = &self.role else {
            return;
        };
        if let Some((view, true)) = manager.authority() {
            if self.served_in != Some(view) {
                self.served_in = Some(view);
                let _ = self.reports.send(Report::Served { view });
            }
        }
    }

    fn fire_due_timers(&mut self) {
        // No clock reading unless a timer is set (most nodes of a basic run have none).
        let Some(due_ticks) = self.next_deadline_ticks() else {
            return;
        };
        let now_ticks = self.now_ticks();
        if now_ticks < due_ticks {
            return;
        }
        match &mut self.role {
            Role::Process(client) => client
                .process
                .handle_due_timers(now_ticks, &mut self.outbox),
            Role::Manager(manager) => manager.handle_due_timers(now_ticks, &mut self.outbox),
        };
        self.route();
    }

    /// Issues the process's operations while it is idle (local hits complete at
    /// once, so several may go in a row).
    fn start_operations(&mut self) {
        loop {
            let Role::Process(client) = &mut self.role else {
                return;
            };
            // Nothing to issue (busy or done): no clock reading either.
            let Some(request) = client.next_request() else {
                break;
            };
            // No request is issued while a gated one up to it is unreleased (faults
            // happen in request order, as in the threaded runtime); the process
            // whose request is gated says so.
            if self.gate.range(..=request).next().is_some() {
                if self.gate.contains(&request) && self.reported_issuing != Some(request) {
                    self.reported_issuing = Some(request);
                    let _ = self.reports.send(Report::Issuing(request));
                }
                return;
            }
            let now_ns = (self.clock)();
            let now_ticks = now_ns.saturating_sub(self.started_ns) / 1_000_000;
            match client.issue_next(now_ns, now_ticks, &mut self.outbox) {
                Ok(Some(_)) => self.route(),
                Ok(None) => break,
                Err(error) => {
                    warn!(%error, "an operation names no page of the system; skipped");
                    break;
                }
            }
        }
        if let Role::Process(client) = &self.role {
            if client.is_finished() && !self.reported_done {
                self.reported_done = true;
                info!(process = %client.id(), "all operations completed");
                let _ = self.reports.send(Report::Done);
            }
        }
    }

    /// Sends the outbox's messages and reports its completions and events.
    fn route(&mut self) {
        let me = match &self.role {
            Role::Process(client) => client.id(),
            Role::Manager(manager) => manager.id(),
        };
        for envelope in self.outbox.messages.drain(..) {
            if envelope.to == me {
                self.local.push_back(envelope);
            } else if let Err(error) = self.transport.send(envelope) {
                warn!(%error, "message for a node outside the cluster dropped");
            }
        }
        // Read the clock only when something completed (most messages complete nothing).
        let now_ns = match self.outbox.completions.is_empty() {
            true => 0,
            false => self.now_ns(),
        };
        for completion in self.outbox.completions.drain(..) {
            if let Role::Process(client) = &self.role {
                self.counts.local_hits += u64::from(completion.fault.is_none());
                let entry = client.history_entry(&completion, now_ns);
                let _ = self.reports.send(Report::Completed(entry));
            }
        }
        for event in self.outbox.events.drain(..) {
            info!(?event, "manager event");
            let _ = self.reports.send(Report::Event(event));
        }
        if let Role::Manager(manager) = &self.role {
            let status = Report::Status {
                authority: manager.authority(),
                settled: manager.settled_view(),
            };
            if self.reported_status.as_ref() != Some(&status) {
                self.reported_status = Some(status.clone());
                let _ = self.reports.send(status);
            }
        }
    }

    /// The tick the node's earliest timer is due at, if it has one.
    fn next_deadline_ticks(&self) -> Option<u64> {
        match &self.role {
            Role::Process(client) => client.process.next_deadline().map(|d| d.at_ticks),
            Role::Manager(manager) => manager.next_deadline().map(|d| d.at_ticks),
        }
    }

    /// How long until the node's earliest timer is due; `None` if none is set.
    fn time_to_next_deadline(&self) -> Option<Duration> {
        let deadline = self.next_deadline_ticks()?;
        let due_ns = deadline
            .saturating_mul(1_000_000)
            .saturating_add(self.started_ns);
        Some(Duration::from_nanos(due_ns.saturating_sub(self.now_ns())))
    }
}

/// The next release, or never if the runner has no gate.
async fn next_release(releases: &mut Option<mpsc::UnboundedReceiver<u64>>) -> Option<u64> {
    match releases {
        Some(releases) => releases.recv().await,
        None => std::future::pending().await,
    }
}

/// Sleeps for `wait`, or forever if there is nothing to wait for.
async fn sleep_for(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}
