//! A small hand-drawn SVG line chart, so the report needs no plotting library.

use crate::Result;
use std::fmt::Write as _;
use std::path::Path;

const PROCESSES: [u32; 3] = [4, 10, 64];
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 300.0;
const MARGIN: f64 = 50.0;

/// Draws operations per second against processes, one panel per operation mix.
pub fn write_throughput_chart(results: &[Result], path: &Path) -> std::result::Result<(), String> {
    let mixes = ["read", "write", "mixed"];
    let panel_width = (WIDTH - MARGIN) / mixes.len() as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    for (panel, mix) in mixes.iter().enumerate() {
        let left = MARGIN + panel as f64 * panel_width;
        let series: Vec<(&str, &str, Vec<f64>)> = [("basic", "#1f77b4"), ("ft", "#d62728")]
            .iter()
            .map(|&(system, colour)| {
                let points = PROCESSES
                    .iter()
                    .map(|processes| ops_per_second(results, mix, system, *processes))
                    .collect();
                (system, colour, points)
            })
            .collect();
        let top = series
            .iter()
            .flat_map(|(_, _, points)| points.iter().copied())
            .fold(0.0, f64::max)
            .max(1.0);
        draw_panel(&mut svg, left, panel_width, mix, top, &series);
    }
    svg.push_str("</svg>\n");
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|error| error.to_string())?;
    }
    std::fs::write(path, svg).map_err(|error| format!("cannot write {}: {error}", path.display()))
}

fn ops_per_second(results: &[Result], mix: &str, system: &str, processes: u32) -> f64 {
    let group = format!("runtime {mix}");
    let name = format!("{system}, {processes}");
    results
        .iter()
        .find(|result| result.group == group && result.name == name)
        .and_then(|result| Some(result.elements? / (result.median_ns / 1e9)))
        .unwrap_or(0.0)
}

fn draw_panel(
    svg: &mut String,
    left: f64,
    width: f64,
    mix: &str,
    top: f64,
    series: &[(&str, &str, Vec<f64>)],
) {
    let plot_left = left + 10.0;
    let plot_width = width - 30.0;
    let (plot_top, plot_bottom) = (30.0, HEIGHT - 40.0);
    let x = |index: usize| plot_left + plot_width * index as f64 / (PROCESSES.len() - 1) as f64;
    let y = |value: f64| plot_bottom - (plot_bottom - plot_top) * value / top;
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"18\" text-anchor=\"middle\">{mix}: operations/s (max {:.2} M)</text>",
        plot_left + plot_width / 2.0,
        top / 1e6
    );
    let _ = writeln!(
        svg,
        "<line x1=\"{plot_left}\" y1=\"{plot_bottom}\" x2=\"{}\" y2=\"{plot_bottom}\" stroke=\"black\"/>",
        plot_left + plot_width
    );
    for (index, processes) in PROCESSES.iter().enumerate() {
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{processes}</text>",
            x(index),
            plot_bottom + 15.0
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">processes</text>",
        plot_left + plot_width / 2.0,
        plot_bottom + 30.0
    );
    for (row, (system, colour, points)) in series.iter().enumerate() {
        let path: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(index, &value)| format!("{:.1},{:.1}", x(index), y(value)))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>",
            path.join(" ")
        );
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" fill=\"{colour}\">{system}</text>",
            plot_left + plot_width - 30.0,
            plot_top + 12.0 * (row as f64 + 1.0)
        );
    }
}
