//! Li & Hudak's fixed distributed manager: every processor manages a fixed share of
//! the pages (the paper's `H(p) = p mod N`, or contiguous blocks), each share with
//! the central manager's algorithm. As in the paper the share's manager runs on the
//! processor itself: a [`FixedNode`] hosts process `i` and the manager of share `i`,
//! and a message between the two never crosses the network (a fault on a page the
//! faulting processor manages sends nothing to a manager).

use crate::CentralManager;
use ivy_core::{
    DirectoryView, Envelope, LogPosition, Message, Node, NodeId, Operation, Outbox, PageAuthority,
    PageEntry, PageId, PageMapping, Process, ProcessNode, ProcessOptions, ProcessTimer,
    ProcessView, Sharded, StartError, SystemConfig,
};

/// Process `i` and the manager of share `i` of the pages, on one node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FixedNode {
    process: Process,
    manager: CentralManager,
    mapping: PageMapping,
}

impl FixedNode {
    /// Every node of the system of `config`, its pages divided by `mapping`, in id
    /// order and initial state.
    pub fn all(config: &SystemConfig, mapping: PageMapping) -> Vec<FixedNode> {
        let managers: Vec<NodeId> = config.process_ids().collect();
        let options = ProcessOptions::sharded(config, managers, mapping);
        let node = |id| FixedNode {
            process: Process::new(id, config, options.clone()),
            manager: CentralManager::with_id(config, id),
            mapping,
        };
        config.process_ids().map(node).collect()
    }

    /// The process.
    pub fn process(&self) -> &Process {
        &self.process
    }

    /// The manager of this node's share (its directory holds every page; it serves
    /// and changes only those of its share).
    pub fn manager(&self) -> &CentralManager {
        &self.manager
    }

    /// How the pages are divided among the nodes.
    pub fn mapping(&self) -> PageMapping {
        self.mapping
    }

    /// Whether the manager of `page` runs on this node.
    pub fn manages(&self, page: PageId) -> bool {
        let pages = self.manager.directory().page_count();
        let shares = self.process.options().managers.len() as u32;
        self.mapping.share(page, pages, shares) == self.process.id().index()
    }

    /// Hands `envelope` to the manager or the process, as its message says.
    fn dispatch(&mut self, envelope: Envelope, now_ticks: u64, out: &mut Outbox) {
        match envelope.message {
            Message::ReadRequest { .. }
            | Message::WriteRequest { .. }
            | Message::ReadConfirmation { .. }
            | Message::WriteConfirmation { .. }
            | Message::InvalidateConfirmation { .. } => {
                self.manager.handle_message(envelope, now_ticks, out)
            }
            _ => self.process.handle_message(envelope, now_ticks, out),
        }
    }

    /// Delivers, on this node, what its process and manager sent each other since
    /// the outbox held `sent_before` messages, until nothing more is local.
    fn deliver_local(&mut self, sent_before: usize, now_ticks: u64, out: &mut Outbox) {
        let id = self.process.id();
        while let Some(offset) = out.messages[sent_before..]
            .iter()
            .position(|envelope| envelope.to == id)
        {
            let envelope = out.messages.remove(sent_before + offset);
            self.dispatch(envelope, now_ticks, out);
        }
    }
}

impl Node for FixedNode {
    type Timer = ProcessTimer;

    fn id(&self) -> NodeId {
        self.process.id()
    }

    fn handle_message(&mut self, envelope: Envelope, now_ticks: u64, out: &mut Outbox) {
        let sent_before = out.messages.len();
        self.dispatch(envelope, now_ticks, out);
        self.deliver_local(sent_before, now_ticks, out);
    }

    /// The manager of a share is reliable and sets no timer: the process's.
    fn next_deadline(&self) -> Option<ivy_core::Deadline<ProcessTimer>> {
        self.process.next_deadline()
    }

    fn handle_timeout(&mut self, timer: ProcessTimer, now_ticks: u64, out: &mut Outbox) {
        let sent_before = out.messages.len();
        self.process.handle_timeout(timer, now_ticks, out);
        self.deliver_local(sent_before, now_ticks, out);
    }
}

impl ProcessView for FixedNode {
    fn node_id(&self) -> NodeId {
        self.process.id()
    }

    fn page_entry(&self, page: PageId) -> Option<&PageEntry> {
        self.process.page(page)
    }

    fn page_count(&self) -> usize {
        self.process.page_count()
    }

    fn touched(&self) -> Option<Vec<PageId>> {
        ProcessView::touched(&self.process)
    }

    fn obeyed(&self) -> LogPosition {
        self.process.accepted()
    }
}

impl ProcessNode for FixedNode {
    fn start(
        &mut self,
        operation: Operation,
        now_ticks: u64,
        out: &mut Outbox,
    ) -> Result<(), StartError> {
        let sent_before = out.messages.len();
        self.process.start(operation, now_ticks, out)?;
        self.deliver_local(sent_before, now_ticks, out);
        Ok(())
    }

    fn is_idle(&self) -> bool {
        self.process.is_idle()
    }

    /// Each page is checked against the manager of its share, on its node.
    fn authority(nodes: &[FixedNode]) -> Option<Box<dyn PageAuthority + '_>> {
        let mapping = nodes.first()?.mapping;
        let shares = nodes.iter().map(|node| &node.manager as &dyn DirectoryView);
        Some(Box::new(Sharded::new(shares.collect(), mapping)))
    }
}
