//! Step 3's chart: measured wall time and the ideal ceil(N/P)·t against the pool size,
//! as an SVG file drawn with plotters. Plumbing: the book shows the chart, not this.

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use plotters::coord::combinators::BindKeyPoints;
use plotters::prelude::*;

use super::Row;

/// Draws the concurrent rows of `rows` (wall time and ideal against pool size, both axes
/// logarithmic) into an SVG file at `path`.
pub fn write_pool_size_chart(rows: &[Row], path: &Path) -> Result<()> {
    let points: Vec<&Row> = rows.iter().filter(|r| r.mode == "concurrent").collect();
    let Some(first) = points.first() else {
        anyhow::bail!("no concurrent rows to chart");
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let max_pool = points.iter().map(|r| r.pool_size).max().unwrap_or(1);
    let highest = points
        .iter()
        .map(|r| r.wall_ms.max(r.ideal_ms))
        .fold(1.0, f64::max);
    let lowest = points
        .iter()
        .map(|r| r.wall_ms.min(r.ideal_ms))
        .fold(f64::MAX, f64::min);

    let root = SVGBackend::new(path, (720, 440)).into_drawing_area();
    let draw = |e: &dyn std::fmt::Display| anyhow!("cannot draw the chart: {e}");
    root.fill(&WHITE).map_err(|e| draw(&e))?;
    let caption = format!(
        "{} queries of SLEEP({} ms): wall time against pool size",
        first.queries, first.sleep_ms
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(
            (0.8f64..f64::from(max_pool) * 1.25).log_scale(),
            (lowest * 0.8..highest * 1.25)
                .log_scale()
                .with_key_points(round_ticks(lowest * 0.8, highest * 1.25)),
        )
        .map_err(|e| draw(&e))?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_desc("pool size (max_connections)")
        .y_desc("wall time, ms")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()
        .map_err(|e| draw(&e))?;

    let ideal: Vec<(f64, f64)> = points
        .iter()
        .map(|r| (f64::from(r.pool_size), r.ideal_ms))
        .collect();
    let measured: Vec<(f64, f64)> = points
        .iter()
        .map(|r| (f64::from(r.pool_size), r.wall_ms))
        .collect();
    chart
        .draw_series(LineSeries::new(ideal.clone(), BLUE.stroke_width(2)))
        .map_err(|e| draw(&e))?
        .label("ideal: ceil(N/P)·t")
        .legend(|(x, y)| {
            PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2))
        });
    chart
        .draw_series(ideal.iter().map(|&p| Circle::new(p, 4, BLUE.filled())))
        .map_err(|e| draw(&e))?;
    chart
        .draw_series(LineSeries::new(measured.clone(), RED.stroke_width(2)))
        .map_err(|e| draw(&e))?
        .label("measured")
        .legend(|(x, y)| {
            PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2))
        });
    chart
        .draw_series(
            measured
                .iter()
                .map(|&p| Cross::new(p, 6, RED.stroke_width(2))),
        )
        .map_err(|e| draw(&e))?;
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(|e| draw(&e))?;
    root.present().map_err(|e| draw(&e))?;
    Ok(())
}

/// Round values (1, 2 and 5 times a power of ten) between `low` and `high`, so that a
/// logarithmic axis is labelled below its first power of ten too.
fn round_ticks(low: f64, high: f64) -> Vec<f64> {
    let mut ticks = Vec::new();
    let mut decade = 10f64.powf(low.max(f64::MIN_POSITIVE).log10().floor());
    while decade <= high {
        for step in [1.0, 2.0, 5.0] {
            let tick = step * decade;
            if (low..=high).contains(&tick) {
                ticks.push(tick);
            }
        }
        decade *= 10.0;
    }
    ticks
}
