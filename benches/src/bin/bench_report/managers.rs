//! The manager algorithms' part of the report (`ivy-benches`'s `managers` bench):
//! messages and forwardings per fault from `target/criterion/managers.json`, the
//! throughput of each algorithm on the actor runtime, and
//! `docs/bench/messages-per-fault.svg`, messages per fault against processes, one
//! line per algorithm.

use crate::{find, Result};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

const ALGORITHMS: [(&str, &str); 6] = [
    ("central", "#1f77b4"),
    ("improved", "#ff7f0e"),
    ("fixed", "#2ca02c"),
    ("broadcast", "#d62728"),
    ("dynamic", "#9467bd"),
    ("dynamic, copy tree", "#8c564b"),
];
const COUNTED: [u32; 5] = [4, 8, 16, 32, 64];
const TIMED: [u32; 3] = [4, 16, 64];
const SHAPES: [&str; 2] = ["uniform", "hot"];

/// The counts the bench wrote, if it ran.
fn counts(criterion: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(criterion.join("managers.json")).ok()?;
    serde_json::from_str(&text).ok()
}

fn figure(counts: &Value, shape: &str, algorithm: &str, processes: u32, key: &str) -> Option<f64> {
    counts[shape][algorithm][processes.to_string()][key].as_f64()
}

/// The section's Markdown: per workload, messages (and forwardings) per fault by
/// algorithm and processes; then operations per second on the actor runtime.
pub(crate) fn section(results: &[Result], criterion: &Path) -> String {
    let mut out = String::from("\n#### Manager algorithms: messages per fault\n");
    let Some(counts) = counts(criterion) else {
        out.push_str("\nnot measured (run `cargo bench -p ivy-benches --bench managers`)\n");
        return out;
    };
    out.push_str(
        "\nMessages per fault (forwardings per fault in brackets: a manager's forward, or a \
         hop along probable owners), counted in the simulator over 5,000 mixed operations \
         on 256 pages; `hot`: 90% of them on 4 pages.\n",
    );
    let header: Vec<String> = COUNTED.iter().map(|n| format!("{n} processes")).collect();
    for shape in SHAPES {
        let _ = writeln!(out, "\n{shape}:\n\n| algorithm | {} |", header.join(" | "));
        let _ = writeln!(out, "|---|{}", "---|".repeat(COUNTED.len()));
        for (algorithm, _) in ALGORITHMS {
            let cells: Vec<String> = COUNTED
                .iter()
                .map(|&n| {
                    let messages = figure(&counts, shape, algorithm, n, "messages_per_fault");
                    let hops = figure(&counts, shape, algorithm, n, "forwardings_per_fault");
                    match messages.zip(hops) {
                        Some((m, h)) => format!("{m:.2} ({h:.2})"),
                        None => "-".to_string(),
                    }
                })
                .collect();
            let _ = writeln!(out, "| {algorithm} | {} |", cells.join(" | "));
        }
    }
    out.push_str("\n#### Manager algorithms: throughput on the actor runtime\n");
    out.push_str(
        "\nThousands of operations per second, 20,000 mixed operations, a worker per core.\n",
    );
    let header: Vec<String> = TIMED.iter().map(|n| format!("{n} processes")).collect();
    for shape in SHAPES {
        let _ = writeln!(out, "\n{shape}:\n\n| algorithm | {} |", header.join(" | "));
        let _ = writeln!(out, "|---|{}", "---|".repeat(TIMED.len()));
        for (algorithm, _) in ALGORITHMS {
            let cells: Vec<String> = TIMED
                .iter()
                .map(|&n| {
                    let result = find(
                        results,
                        &format!("managers {shape}"),
                        &format!("{algorithm}, {n}"),
                    );
                    let per_second = result.and_then(|r| Some(r.elements? / (r.median_ns / 1e9)));
                    per_second.map_or("-".to_string(), |ops| format!("{:.0}", ops / 1e3))
                })
                .collect();
            let _ = writeln!(out, "| {algorithm} | {} |", cells.join(" | "));
        }
    }
    out
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 320.0;

/// Draws messages per fault against processes (both on log2 scales), a panel per
/// workload, a line per algorithm.
pub(crate) fn write_chart(criterion: &Path, path: &Path) -> std::result::Result<(), String> {
    let Some(counts) = counts(criterion) else {
        return Ok(()); // nothing counted: the chart keeps its last figures
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    let panel_width = (WIDTH - 160.0) / SHAPES.len() as f64;
    for (panel, shape) in SHAPES.iter().enumerate() {
        draw_panel(
            &mut svg,
            &counts,
            shape,
            40.0 + panel as f64 * panel_width,
            panel_width,
        );
    }
    for (row, (algorithm, colour)) in ALGORITHMS.iter().enumerate() {
        let y = 50.0 + 16.0 * row as f64;
        let _ = writeln!(
            svg,
            "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{colour}\" stroke-width=\"2\"/>\
             <text x=\"{}\" y=\"{}\">{algorithm}</text>",
            WIDTH - 110.0,
            WIDTH - 90.0,
            WIDTH - 85.0,
            y + 4.0
        );
    }
    svg.push_str("</svg>\n");
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|error| error.to_string())?;
    }
    std::fs::write(path, svg).map_err(|error| format!("cannot write {}: {error}", path.display()))
}

fn draw_panel(svg: &mut String, counts: &Value, shape: &str, left: f64, width: f64) {
    let (plot_left, plot_width) = (left + 20.0, width - 40.0);
    let (plot_top, plot_bottom) = (30.0, HEIGHT - 45.0);
    let top_log = 7.0; // 128 messages per fault
    let x = |index: usize| plot_left + plot_width * index as f64 / (COUNTED.len() - 1) as f64;
    let y = |value: f64| plot_bottom - (plot_bottom - plot_top) * value.max(1.0).log2() / top_log;
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"18\" text-anchor=\"middle\">{shape}: messages per fault</text>",
        plot_left + plot_width / 2.0
    );
    for tick in [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0] {
        let _ = writeln!(
            svg,
            "<line x1=\"{plot_left}\" y1=\"{0:.1}\" x2=\"{1}\" y2=\"{0:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{2}\" y=\"{3:.1}\" text-anchor=\"end\">{tick}</text>",
            y(tick),
            plot_left + plot_width,
            plot_left - 4.0,
            y(tick) + 4.0
        );
    }
    for (index, processes) in COUNTED.iter().enumerate() {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{processes}</text>",
            x(index),
            plot_bottom + 15.0
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">processes</text>",
        plot_left + plot_width / 2.0,
        plot_bottom + 32.0
    );
    for (algorithm, colour) in ALGORITHMS {
        let points: Vec<String> = COUNTED
            .iter()
            .enumerate()
            .filter_map(|(index, &n)| {
                let value = figure(counts, shape, algorithm, n, "messages_per_fault")?;
                Some(format!("{:.1},{:.1}", x(index), y(value)))
            })
            .collect();
        let _ = writeln!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>",
            points.join(" ")
        );
    }
}
