//! What the nodes of an `ivy cluster` run report, gathered: completions, the end of
//! each process's work, the trace (handled messages, manager events, kills and
//! revivals, each stamped on the machine's monotonic clock), the managers' answers to
//! status queries, and every node's final state.

use crate::error::CliError;
use crate::report_line::{ReportKind, ReportLine};
use crate::runtime::TraceItem;
use ivy_core::driver::RunEvent;
use ivy_core::{settled_together, HistoryEntry, NodeEvent, NodeId, View};
use std::collections::BTreeMap;

/// What the launcher must act on at once.
pub(super) enum Notice {
    /// A process holds before issuing this request until its faults are injected.
    Issuing(u64),
    /// A manager changed role.
    Event(NodeEvent),
}

/// Everything the nodes reported.
#[derive(Default)]
pub(super) struct Gathered {
    pub(super) history: Vec<HistoryEntry>,
    pub(super) done: u32,
    /// The trace: handled messages, manager events, kills and revivals, each with
    /// when it happened on the machine's monotonic clock.
    pub(super) trace: Vec<(u64, NodeId, TraceItem)>,
    /// Per manager, its answer to the latest status query: primary, settled view.
    pub(super) answers: BTreeMap<NodeId, (u64, bool, Option<View>)>,
    /// Every node's final line (its state and counts).
    pub(super) finals: BTreeMap<NodeId, ReportLine>,
    /// When a primary of a view was killed (`Some` view) and when a primary of a view
    /// first completed a fault (`None`, and that view): what times a failover.
    pub(super) failover_marks: Vec<(u64, Option<View>, View)>,
}

impl Gathered {
    pub(super) fn add(&mut self, id: NodeId, line: ReportLine) -> Result<Option<Notice>, CliError> {
        let malformed = |what: &str| CliError::Failed(format!("node {id} reported a bad {what}"));
        match line.report {
            ReportKind::Completed => {
                let entry = line.entry.ok_or_else(|| malformed("completion"))?;
                self.history.push(entry);
            }
            ReportKind::Done => self.done += 1,
            ReportKind::Handled => {
                let record = line.record.zip(line.at);
                let (record, at) = record.ok_or_else(|| malformed("trace record"))?;
                self.trace.push((at, id, TraceItem::Message(record)));
            }
            ReportKind::Event => {
                let (event, at) = line.event.zip(line.at).ok_or_else(|| malformed("event"))?;
                self.trace
                    .push((at, id, TraceItem::Event(RunEvent::Manager(event))));
                return Ok(Some(Notice::Event(event)));
            }
            ReportKind::Issuing => {
                let request = line.request.ok_or_else(|| malformed("request"))?;
                return Ok(Some(Notice::Issuing(request)));
            }
            ReportKind::Status => {
                if let Some(query) = line.query {
                    let primary = line.primary.unwrap_or(false);
                    let settled = line.settled_view.map(View);
                    self.answers.insert(id, (query, primary, settled));
                }
            }
            ReportKind::Served => {
                let (view, at) = line.view.zip(line.at).ok_or_else(|| malformed("served"))?;
                self.failover_marks.push((at, None, View(view)));
            }
            ReportKind::Final => {
                self.finals.insert(id, line);
            }
        }
        Ok(None)
    }

    /// Whether every live manager answered query `query` and they have settled
    /// together.
    pub(super) fn settled(&self, managers: &[NodeId], query: u64) -> bool {
        let answers = managers.iter().map(|id| match self.answers.get(id) {
            Some(&(answered, primary, settled)) if answered == query => {
                (settled.map(|view| (view, primary)), settled)
            }
            _ => (None, None),
        });
        settled_together(answers).is_some()
    }
}
