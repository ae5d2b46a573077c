//! Per-page serialisation of faults over the directory.

use ivy_core::{
    ActiveFault, CopySet, Directory, HeldFault, LogEntry, LogPosition, ManagerSnapshot, Message,
    NodeId, OperationKind, Outbox, PageId, PageVersion, RequestId, Revision, SystemConfig, View,
    Viewstamp,
};
use std::collections::{BTreeMap, VecDeque};

/// A fault being served: the page is held until its confirmation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Transaction {
    /// The fault.
    pub request: RequestId,
    /// Read or write fault.
    pub kind: OperationKind,
    /// The page version this transaction will create.
    pub version: PageVersion,
    /// The owner when the transaction began: whom the forward goes to.
    pub owner: NodeId,
    /// Copy holders whose invalidation is not confirmed yet (write faults only).
    pub awaiting_invalidation: CopySet,
    /// The log entry that began this transaction; its commands carry its index,
    /// with the view they are sent in.
    pub began_at: Viewstamp,
}

/// What became of an admitted request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// The page was free: the request's transaction began and must be driven.
    Began,
    /// The page is held: the request waits its turn.
    Queued,
    /// The request is already being served or waiting: nothing to do.
    Duplicate,
    /// The request was already served (a late duplicate): nothing to do.
    Completed,
    /// The request names a page or process that does not exist: ignored.
    Invalid,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct HeldPage {
    current: Transaction,
    waiting: VecDeque<(RequestId, OperationKind)>,
}

/// The directory plus, for each held page, its transaction and its queue of waiting
/// faults. Memory per idle page is one directory record; held pages cost one map entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PageSerializer {
    processes: u32,
    directory: Directory,
    held: BTreeMap<PageId, HeldPage>,
    /// Per process, the sequence number of its last confirmed fault.
    last_completed: Vec<u64>,
    revision: Revision, // bumped by every method that may change the state
}

impl PageSerializer {
    /// The initial state: every page free, page `p` owned by `p % processes`.
    pub fn new(config: &SystemConfig) -> PageSerializer {
        PageSerializer {
            processes: config.processes,
            directory: Directory::new(config),
            held: BTreeMap::new(),
            last_completed: vec![0; config.processes as usize],
            revision: Revision::default(),
        }
    }

    /// Rebuilds the state a snapshot describes: its directory, then every held fault
    /// re-admitted in order (a transaction's shape follows from the directory record).
    pub fn from_snapshot(snapshot: &ManagerSnapshot) -> PageSerializer {
        let processes = snapshot.last_completed.len();
        let mut serializer = PageSerializer {
            processes: processes as u32,
            directory: snapshot.directory.clone(),
            held: BTreeMap::new(),
            // Held faults are re-admitted first: a process may have completed later
            // faults while the manager still waits for this one's confirmation.
            last_completed: vec![0; processes],
            revision: Revision::default(),
        };
        for fault in &snapshot.held {
            serializer.admit(fault.page, fault.request, fault.kind, fault.began_at);
        }
        serializer.last_completed = snapshot.last_completed.clone();
        serializer
    }

    /// The whole state, for a manager that rejoins blank; `last` is how far the
    /// sender's log reaches (see [`LogPosition`]).
    pub fn snapshot(&self, last: LogPosition) -> ManagerSnapshot {
        let held = self
            .held
            .iter()
            .flat_map(|(&page, held)| {
                let current = &held.current;
                let waiting = held.waiting.iter().map(move |&(request, kind)| HeldFault {
                    page,
                    request,
                    kind,
                    began_at: Viewstamp::ZERO,
                });
                std::iter::once(HeldFault {
                    page,
                    request: current.request,
                    kind: current.kind,
                    began_at: current.began_at,
                })
                .chain(waiting)
            })
            .collect();
        ManagerSnapshot {
            directory: self.directory.clone(),
            held,
            last_completed: self.last_completed.clone(),
            last,
        }
    }

    /// Applies one replicated change, as the primary made it, at log position `at`.
    /// Returns the page whose transaction this change began, if it began one.
    pub fn apply(&mut self, entry: &LogEntry, at: Viewstamp) -> Option<PageId> {
        match *entry {
            LogEntry::Admit {
                page,
                request,
                kind,
            } => (self.admit(page, request, kind, at) == Admission::Began).then_some(page),
            LogEntry::Confirm {
                page,
                request,
                version,
                kind,
            } => {
                let completed = self.confirm(page, request, version, kind, at)?;
                completed.next_began.then_some(page)
            }
        }
    }

    /// Every held page, in page order.
    pub fn held_page_ids(&self) -> impl Iterator<Item = PageId> + '_ {
        self.held.keys().copied()
    }

    /// The sequence number of `process`'s last confirmed fault.
    pub fn last_completed(&self, process: NodeId) -> u64 {
        self.last_completed
            .get(process.index())
            .copied()
            .unwrap_or(0)
    }

    /// The directory.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The transaction holding `page`, if any.
    pub fn transaction(&self, page: PageId) -> Option<&Transaction> {
        self.held.get(&page).map(|held| &held.current)
    }

    /// The transaction holding `page`, as the invariant checker sees it.
    pub fn active_fault(&self, page: PageId) -> Option<ActiveFault> {
        self.transaction(page).map(|transaction| ActiveFault {
            request: transaction.request,
            kind: transaction.kind,
            version: transaction.version,
        })
    }

    /// How many times the directory or a transaction may have changed.
    pub fn revision(&self) -> u64 {
        self.revision.count()
    }

    /// How many pages are held.
    pub fn held_pages(&self) -> usize {
        self.held.len()
    }

    /// Admits a fault: begins its transaction if the page is free, else queues it.
    /// `at` is the log position of this input (a transaction begun records it;
    /// [`Viewstamp::ZERO`] for a manager without a log).
    pub fn admit(
        &mut self,
        page: PageId,
        request: RequestId,
        kind: OperationKind,
        at: Viewstamp,
    ) -> Admission {
        self.revision.bump();
        if self.directory.get(page).is_none() || request.process.0 >= self.processes {
            return Admission::Invalid;
        }
        let completed = request.sequence <= self.last_completed[request.process.index()];
        if let Some(held) = self.held.get_mut(&page) {
            let known = held.current.request == request
                || held.waiting.iter().any(|(waiting, _)| *waiting == request);
            if known {
                return Admission::Duplicate;
            }
            if completed {
                return Admission::Completed;
            }
            held.waiting.push_back((request, kind));
            return Admission::Queued;
        }
        if completed {
            return Admission::Completed;
        }
        let current = self.begin(page, request, kind, at);
        self.held.insert(
            page,
            HeldPage {
                current,
                waiting: VecDeque::new(),
            },
        );
        Admission::Began
    }

    fn begin(
        &self,
        page: PageId,
        request: RequestId,
        kind: OperationKind,
        began_at: Viewstamp,
    ) -> Transaction {
        let record = self.directory.record(page);
        let awaiting_invalidation = match kind {
            OperationKind::Read => CopySet::new(),
            OperationKind::Write => record
                .copy_set
                .iter()
                .filter(|&holder| holder != request.process)
                .collect(),
        };
        Transaction {
            request,
            kind,
            version: record.version.next(),
            owner: record.owner,
            awaiting_invalidation,
            began_at,
        }
    }

    /// Sends what the transaction on `page` waits for: the forward, or the
    /// invalidations still unconfirmed; returns false (sending nothing) when no
    /// transaction holds the page. Sending again is harmless (processes are
    /// idempotent), which is how a transaction is re-driven.
    pub fn drive(&self, page: PageId, from: NodeId, view: View, out: &mut Outbox) -> bool {
        let Some(held) = self.held.get(&page) else {
            return false;
        };
        let transaction = &held.current;
        let (request, version) = (transaction.request, transaction.version);
        // The view sent in, and the entry that began the transaction: what a process
        // that obeys has acted on (see `Viewstamp`).
        let stamp = Viewstamp {
            view,
            index: transaction.began_at.index,
        };
        let awaiting = &transaction.awaiting_invalidation;
        if transaction.kind == OperationKind::Write && !awaiting.is_empty() {
            for holder in awaiting.iter() {
                let invalidate = Message::Invalidate {
                    page,
                    request,
                    version,
                    stamp,
                };
                out.send(from, holder, view, invalidate);
            }
        } else {
            let forward = Message::forward(transaction.kind, page, request, version, stamp);
            out.send(from, transaction.owner, view, forward);
        }
        true
    }

    /// Whether the write on `page` had copies to invalidate and all have confirmed:
    /// its forward is what it waits for now.
    pub fn invalidations_done(&self, page: PageId) -> bool {
        let Some(transaction) = self.transaction(page) else {
            return false;
        };
        let requester = transaction.request.process;
        let had_copies = self
            .directory
            .record(page)
            .copy_set
            .iter()
            .any(|holder| holder != requester);
        transaction.kind == OperationKind::Write
            && had_copies
            && transaction.awaiting_invalidation.is_empty()
    }

    /// Records `holder`'s invalidation. Returns true when this was the last one awaited,
    /// so the transaction must be driven on (to its forward).
    pub fn confirm_invalidation(
        &mut self,
        page: PageId,
        request: RequestId,
        version: PageVersion,
        holder: NodeId,
    ) -> bool {
        self.revision.bump();
        match self.current_mut(page, request, version, OperationKind::Write) {
            Some(transaction) => {
                transaction.awaiting_invalidation.remove(holder)
                    && transaction.awaiting_invalidation.is_empty()
            }
            None => false,
        }
    }

    /// Completes the transaction on `page` if the confirmation is for it: updates the
    /// directory and begins the next waiting fault. Returns whether a next transaction
    /// began (and so must be driven); it began at log position `at`.
    pub fn confirm(
        &mut self,
        page: PageId,
        request: RequestId,
        version: PageVersion,
        kind: OperationKind,
        at: Viewstamp,
    ) -> Option<Completed> {
        self.revision.bump();
        self.current_mut(page, request, version, kind)?;
        let held = self.held.remove(&page).expect("a held page");
        let last = &mut self.last_completed[request.process.index()];
        *last = (*last).max(request.sequence);
        let record = self.directory.record_mut(page);
        record.version = version;
        match kind {
            OperationKind::Read => {
                record.copy_set.insert(request.process);
            }
            OperationKind::Write => {
                record.owner = request.process;
                record.copy_set.clear();
            }
        }
        let mut waiting = held.waiting;
        let next_began = match waiting.pop_front() {
            Some((next_request, next_kind)) => {
                let current = self.begin(page, next_request, next_kind, at);
                self.held.insert(page, HeldPage { current, waiting });
                true
            }
            None => false,
        };
        Some(Completed { next_began })
    }

    fn current_mut(
        &mut self,
        page: PageId,
        request: RequestId,
        version: PageVersion,
        kind: OperationKind,
    ) -> Option<&mut Transaction> {
        let transaction = &mut self.held.get_mut(&page)?.current;
        let matches = transaction.request == request
            && transaction.version == version
            && transaction.kind == kind;
        matches.then_some(transaction)
    }
}

/// A transaction that its confirmation completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completed {
    /// Whether a waiting fault's transaction began on the page.
    pub next_began: bool,
}
