//! The improved central manager: it keeps only each page's owner. It forwards a read
//! fault to the owner, and a write fault too, recording the writer as the owner at
//! once; there is no confirmation, and nothing waits at the manager: a request that
//! reaches the writer before the page does waits there (the lock lives with the
//! owner).

use ivy_core::{
    Deadline, DirectoryView, Envelope, LogPosition, ManagerNode, Message, Node, NodeId, Outbox,
    PageId, SystemConfig, View,
};
use std::collections::BTreeMap;
use std::convert::Infallible;

/// The manager of the improved central algorithm.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImprovedManager {
    id: NodeId,
    processes: u32,
    pages: u32,
    /// The owners that differ from the initial layout.
    owners: BTreeMap<PageId, NodeId>,
}

impl ImprovedManager {
    /// The manager of a system of `config` (node id `config.manager()`), in the
    /// initial layout.
    pub fn new(config: &SystemConfig) -> ImprovedManager {
        ImprovedManager {
            id: config.manager(),
            processes: config.processes,
            pages: config.pages,
            owners: BTreeMap::new(),
        }
    }

    /// The owner the manager records for `page`: the last writer it forwarded a
    /// fault for (who may still wait for the page).
    pub fn owner(&self, page: PageId) -> NodeId {
        let initial = NodeId(page.0 % self.processes);
        self.owners.get(&page).copied().unwrap_or(initial)
    }

    /// How many pages the system has.
    pub fn page_count(&self) -> u32 {
        self.pages
    }
}

impl Node for ImprovedManager {
    type Timer = Infallible;

    fn id(&self) -> NodeId {
        self.id
    }

    fn handle_message(&mut self, envelope: Envelope, _now_ticks: u64, out: &mut Outbox) {
        match envelope.message {
            Message::ReadRequest { page, request } if page.0 < self.pages => {
                let message = Message::ReadRequest { page, request };
                out.send(self.id, self.owner(page), View(0), message);
            }
            Message::WriteRequest { page, request } if page.0 < self.pages => {
                let owner = self.owner(page);
                self.owners.insert(page, request.process);
                let message = Message::WriteRequest { page, request };
                out.send(self.id, owner, View(0), message);
            }
            _ => {} // no such page, or not a request: nothing changes
        }
    }

    /// The manager waits for nothing: it sets no timer.
    fn next_deadline(&self) -> Option<Deadline<Infallible>> {
        None
    }

    fn handle_timeout(&mut self, timer: Infallible, _now_ticks: u64, _out: &mut Outbox) {
        match timer {}
    }
}

/// The manager keeps no directory for the coherence check (the records live with
/// the owners), never crashes (it is not replicated), and has nothing to settle.
impl ManagerNode for ImprovedManager {
    fn state(&self) -> Option<&dyn DirectoryView> {
        None
    }

    fn authority(&self) -> Option<(View, bool)> {
        Some((View(0), true))
    }

    fn crashed(&self) -> ImprovedManager {
        unreachable!("the simulator never crashes a lone manager")
    }

    fn settled_view(&self) -> Option<View> {
        Some(View(0))
    }

    fn reach(&self) -> Option<LogPosition> {
        Some(LogPosition::ZERO)
    }

    fn phase(&self) -> &'static str {
        "improved"
    }
}
