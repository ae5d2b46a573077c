//! What the nodes of an `ivy cluster` run report, gathered: completions, the end of
//! each process's work, the trace (handled messages, manager events, kills and
//! revivals, each stamped on the machine's monotonic clock), the managers' answers to
//! status queries, and every node's final state.

use crate::error::CliError;
use crate::runtime::TraceItem;
use ivy_core::driver::RunEvent;
use ivy_core::{settled_together, HistoryEntry, NodeEvent, NodeId, View};
use serde_json::Value;
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
    pub(super) finals: BTreeMap<NodeId, Value>,
    /// When a primary of a view was killed (`Some` view) and when a primary of a view
    /// first completed a fault (`None`, and that view): what times a failover.
    pub(super) failover_marks: Vec<(u64, Option<View>, View)>,
}

impl Gathered {
    pub(super) fn add(&mut self, id: NodeId, report: Value) -> Result<Option<Notice>, CliError> {
        let malformed = |what: &str| CliError::Failed(format!("node {id} reported a bad {what}"));
        match report["report"].as_str() {
            Some("completed") => {
                let entry = serde_json::from_value(report["entry"].clone());
                self.history
                    .push(entry.map_err(|_| malformed("completion"))?);
            }
            Some("done") => self.done += 1,
            Some("handled") => {
                let record = serde_json::from_value(report["record"].clone());
                let at = report["at"]
                    .as_u64()
                    .ok_or_else(|| malformed("trace record"))?;
                let record = record.map_err(|_| malformed("trace record"))?;
                self.trace.push((at, id, TraceItem::Message(record)));
            }
            Some("event") => {
                let event = serde_json::from_value(report["event"].clone());
                let event = event.map_err(|_| malformed("event"))?;
                let at = report["at"].as_u64().ok_or_else(|| malformed("event"))?;
                self.trace
                    .push((at, id, TraceItem::Event(RunEvent::Manager(event))));
                return Ok(Some(Notice::Event(event)));
            }
            Some("issuing") => {
                let request = report["request"]
                    .as_u64()
                    .ok_or_else(|| malformed("request"))?;
                return Ok(Some(Notice::Issuing(request)));
            }
            Some("status") => {
                if let Some(query) = report["query"].as_u64() {
                    let primary = report["primary"].as_bool().unwrap_or(false);
                    let settled = report["settled_view"].as_u64().map(View);
                    self.answers.insert(id, (query, primary, settled));
                }
            }
            Some("served") => {
                let view = report["view"]
                    .as_u64()
                    .ok_or_else(|| malformed("served view"))?;
                let at = report["at"]
                    .as_u64()
                    .ok_or_else(|| malformed("served time"))?;
                self.failover_marks.push((at, None, View(view)));
            }
            Some("final") => {
                self.finals.insert(id, report);
            }
            _ => return Err(malformed("line")),
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
