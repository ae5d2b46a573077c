//! The run's printed output besides readouts: the trace in its three formats, the
//! history file and the summary line.

use crate::args::TraceFormat;
use crate::runtime::TraceItem;
use ivy_core::{HistoryEntry, NodeId, OperationKind};
use serde::Serialize;
use std::io::{self, Write};
use std::time::Duration;

/// Writes the trace in `format` (nothing for `TraceFormat::None`). `processes` tells
/// process ids from manager ids, for naming Mermaid participants.
pub fn write_trace(
    out: &mut dyn Write,
    format: TraceFormat,
    trace: &[TraceItem],
    processes: u32,
    managers: u32,
) -> io::Result<()> {
    match format {
        TraceFormat::Table => write_trace_table(out, trace),
        TraceFormat::Json => trace.iter().try_for_each(|item| write_json_line(out, item)),
        TraceFormat::Mermaid => write_mermaid(out, trace, processes, managers),
        TraceFormat::None => Ok(()),
    }
}

fn write_trace_table(out: &mut dyn Write, trace: &[TraceItem]) -> io::Result<()> {
    let type_width = trace
        .iter()
        .filter_map(|item| match item {
            TraceItem::Message(record) => Some(record.kind.name().len() + 1),
            TraceItem::Event(_) => None,
        })
        .max()
        .unwrap_or(0)
        .max(17);
    writeln!(
        out,
        "{:<type_width$}{:<10}{:<10}{:<10}Requester",
        "Type", "From", "To", "Page"
    )?;
    for item in trace {
        match item {
            TraceItem::Message(record) => writeln!(
                out,
                "{:<type_width$}{:<10}{:<10}{:<10}{}",
                record.kind.name(),
                record.from.to_string(),
                record.to.to_string(),
                or_dash(record.page),
                or_dash(record.requester)
            )?,
            TraceItem::Event(event) => writeln!(out, "*** {}", event.describe())?,
        }
    }
    writeln!(out, "Done")
}

/// A field of a trace row, or `-` where the message has none (control messages).
fn or_dash(value: Option<impl std::fmt::Display>) -> String {
    value.map_or_else(|| "-".to_string(), |value| value.to_string())
}

fn write_json_line(out: &mut dyn Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, value).map_err(io::Error::other)?;
    writeln!(out)
}

/// The Mermaid participant name of a node.
fn participant(node: NodeId, processes: u32) -> String {
    match node.0.checked_sub(processes) {
        None => format!("P{node}"),
        Some(0) => "CM".to_string(),
        Some(index) => format!("CM{index}"),
    }
}

fn write_mermaid(
    out: &mut dyn Write,
    trace: &[TraceItem],
    processes: u32,
    managers: u32,
) -> io::Result<()> {
    writeln!(out, "sequenceDiagram")?;
    for id in 0..processes + managers {
        let name = participant(NodeId(id), processes);
        let label = if id < processes {
            format!("process_{id}")
        } else {
            format!("cm_{id}")
        };
        writeln!(out, "    participant {name} as {label}")?;
    }
    let managers_span = (processes..processes + managers)
        .map(|id| participant(NodeId(id), processes))
        .collect::<Vec<_>>()
        .join(",");
    for item in trace {
        let record = match item {
            TraceItem::Message(record) => record,
            TraceItem::Event(event) => {
                writeln!(out, "    Note over {managers_span}: {}", event.describe())?;
                continue;
            }
        };
        let from = participant(record.from, processes);
        let to = participant(record.to, processes);
        match (record.page, record.requester) {
            (Some(page), Some(requester)) => writeln!(
                out,
                "    {from}->>{to}: {} page {page} (requester {requester})",
                record.kind
            )?,
            _ => writeln!(
                out,
                "    {from}->>{to}: {} (view {})",
                record.kind, record.view
            )?,
        }
    }
    Ok(())
}

/// One line of the `--history` file.
#[derive(Serialize)]
struct HistoryLine {
    process: u32,
    op: OperationKind,
    page: u32,
    value: u64,
    invoke_ns: u64,
    complete_ns: u64,
}

/// Writes the history as JSON Lines, one completed operation per line.
pub fn write_history(out: &mut dyn Write, history: &[HistoryEntry]) -> io::Result<()> {
    for entry in history {
        let line = HistoryLine {
            process: entry.process.0,
            op: entry.op,
            page: entry.page.0,
            value: entry.value,
            invoke_ns: entry.invoked_at,
            complete_ns: entry.completed_at,
        };
        write_json_line(out, &line)?;
    }
    Ok(())
}

/// Writes the summary: a line, a JSON object beside a JSON Lines trace, or a
/// Mermaid comment beside a diagram.
pub fn write_summary(
    out: &mut dyn Write,
    format: TraceFormat,
    summary: &Summary,
) -> io::Result<()> {
    match format {
        TraceFormat::Json => {
            write_json_line(out, &serde_json::json!({ "summary": summary.to_json() }))
        }
        TraceFormat::Mermaid => writeln!(out, "%% {}", summary.line()),
        TraceFormat::Table | TraceFormat::None => writeln!(out, "{}", summary.line()),
    }
}

/// `1 read`, `2 reads`.
fn counted(count: u64, noun: &str) -> String {
    match count {
        1 => format!("1 {noun}"),
        _ => format!("{count} {noun}s"),
    }
}

/// The numbers the summary line reports.
pub struct Summary {
    /// Operations performed.
    pub requests: usize,
    /// Of which reads.
    pub reads: usize,
    /// Of which writes.
    pub writes: usize,
    /// Operations completed without a fault.
    pub local_hits: u64,
    /// Messages handled, heartbeats apart (as in the trace).
    pub messages: u64,
    /// Heartbeats and their acknowledgements handled (the trace shows them only with
    /// `--trace-heartbeats`).
    pub heartbeats: u64,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
    /// For each crash of a primary, the time until the next primary served a request
    /// (`None`: none was served after it). Empty for the basic system.
    pub failovers: Vec<Option<Duration>>,
    /// The longest any operation took, when it is worth reporting (fault tolerance).
    pub slowest: Option<Duration>,
}

impl Summary {
    /// `50 requests (31 reads, 19 writes, 7 local hits), 176 messages, 1.84 ms (36.8 µs/op)`.
    pub fn line(&self) -> String {
        let millis = self.elapsed.as_secs_f64() * 1e3;
        let per_operation = match self.requests {
            0 => String::new(),
            requests => format!(" ({:.2} µs/op)", millis * 1e3 / requests as f64),
        };
        let heartbeats = match self.heartbeats {
            0 => String::new(),
            count => format!(", {}", counted(count, "heartbeat")),
        };
        let mut line = format!(
            "{} ({}, {}, {}), {}{heartbeats}, {:.2} ms{}",
            counted(self.requests as u64, "request"),
            counted(self.reads as u64, "read"),
            counted(self.writes as u64, "write"),
            counted(self.local_hits, "local hit"),
            counted(self.messages, "message"),
            millis,
            per_operation
        );
        if !self.failovers.is_empty() {
            let times: Vec<String> = self
                .failovers
                .iter()
                .map(|failover| match failover {
                    Some(time) => format!("{:.2} ms", time.as_secs_f64() * 1e3),
                    None => "no request served after the crash".to_string(),
                })
                .collect();
            let noun = if times.len() == 1 {
                "failover"
            } else {
                "failovers"
            };
            line.push_str(&format!(", {noun} {}", times.join(", ")));
        }
        if let Some(slowest) = self.slowest {
            let millis = slowest.as_secs_f64() * 1e3;
            line.push_str(&format!(", slowest request {millis:.2} ms"));
        }
        line
    }

    /// The summary as a JSON object; times in nanoseconds, a failover after which no
    /// request was served as `null`.
    pub fn to_json(&self) -> serde_json::Value {
        let nanos = |time: Duration| time.as_nanos() as u64;
        let failovers: Vec<Option<u64>> = self.failovers.iter().map(|f| f.map(nanos)).collect();
        serde_json::json!({
            "requests": self.requests,
            "reads": self.reads,
            "writes": self.writes,
            "local_hits": self.local_hits,
            "messages": self.messages,
            "heartbeats": self.heartbeats,
            "elapsed_ns": nanos(self.elapsed),
            "failovers_ns": failovers,
            "slowest_ns": self.slowest.map(nanos),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivy_core::{MessageKind, PageId, TraceRecord, View};

    fn record(kind: MessageKind, from: u32, to: u32) -> TraceItem {
        TraceItem::Message(TraceRecord {
            kind,
            from: NodeId(from),
            to: NodeId(to),
            page: Some(PageId(1)),
            requester: Some(NodeId(2)),
            view: View(0),
        })
    }

    #[test]
    fn trace_table_prints_the_true_requester_and_done() {
        let trace = [
            record(MessageKind::ReadRequest, 2, 3),
            record(MessageKind::ReadForward, 3, 1),
        ];
        let mut out = Vec::new();
        write_trace(&mut out, TraceFormat::Table, &trace, 3, 1).unwrap();
        let expected = "\
Type             From      To        Page      Requester
ReadRequest      2         3         1         2
ReadForward      3         1         1         2
Done
";
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn trace_json_is_one_object_per_line() {
        let mut out = Vec::new();
        write_trace(
            &mut out,
            TraceFormat::Json,
            &[record(MessageKind::WritePage, 0, 2)],
            3,
            1,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"type\":\"WritePage\",\"from\":0,\"to\":2,\"page\":1,\"requester\":2,\"view\":0}\n"
        );
    }

    #[test]
    fn mermaid_names_processes_and_the_manager() {
        let mut out = Vec::new();
        write_trace(
            &mut out,
            TraceFormat::Mermaid,
            &[record(MessageKind::ReadRequest, 2, 3)],
            3,
            1,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("sequenceDiagram\n    participant P0 as process_0\n"));
        assert!(text.contains("    participant CM as cm_3\n"));
        assert!(text.ends_with("    P2->>CM: ReadRequest page 1 (requester 2)\n"));
    }

    #[test]
    fn summary_line_reads_like_the_issue() {
        let summary = Summary {
            requests: 50,
            reads: 31,
            writes: 19,
            local_hits: 7,
            messages: 176,
            heartbeats: 0,
            elapsed: Duration::from_micros(1840),
            failovers: Vec::new(),
            slowest: None,
        };
        assert_eq!(
            summary.line(),
            "50 requests (31 reads, 19 writes, 7 local hits), 176 messages, 1.84 ms (36.80 µs/op)"
        );
        let single = Summary {
            requests: 1,
            reads: 0,
            writes: 1,
            local_hits: 1,
            messages: 0,
            heartbeats: 12,
            elapsed: Duration::from_micros(10),
            failovers: vec![Some(Duration::from_micros(52_310))],
            slowest: Some(Duration::from_micros(53_000)),
        };
        assert_eq!(
            single.line(),
            "1 request (0 reads, 1 write, 1 local hit), 0 messages, 12 heartbeats, 0.01 ms \
             (10.00 µs/op), \
             failover 52.31 ms, slowest request 53.00 ms"
        );
    }
}
