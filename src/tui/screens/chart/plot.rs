//! The points of a chart prepared once from its series: x in days, bounds with a margin, and
//! the axis labels, so drawing only hands them to ratatui's `Chart`.

use crate::fhir::chart::{Trend, format_value};

const DAY: f64 = 86_400.0;

/// One chart's data, ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Plot {
    /// One list of (day, value) per series, oldest first.
    pub data: Vec<Vec<(f64, f64)>>,
    /// The reference range's low and high, as lines across the chart.
    pub range: Vec<Vec<(f64, f64)>>,
    pub x: [f64; 2],
    pub y: [f64; 2],
    /// First, middle and last date (`2024-03`).
    pub x_labels: Vec<String>,
    /// Lowest, middle and highest value.
    pub y_labels: Vec<String>,
}

fn month(day: f64) -> String {
    let secs = (day * DAY).clamp(-8.0e12, 8.0e12) as i64;
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| d.format("%Y-%m").to_string())
        .unwrap_or_default()
}

/// A label for an axis spanning `span`: as many decimals as the span needs.
fn rounded(v: f64, span: f64) -> String {
    let decimals = if span >= 20.0 {
        0
    } else if span >= 2.0 {
        1
    } else {
        2
    };
    let f = 10f64.powi(decimals);
    format_value((v * f).round() / f)
}

impl Plot {
    pub fn of(trend: &Trend) -> Plot {
        let data: Vec<Vec<(f64, f64)>> = trend
            .series
            .iter()
            .map(|s| {
                s.points
                    .iter()
                    .map(|p| (p.at as f64 / DAY, p.value))
                    .collect()
            })
            .collect();
        let Some(((t0, t1), (mut v0, mut v1))) = trend.bounds() else {
            return Plot {
                data,
                range: Vec::new(),
                x: [0.0, 1.0],
                y: [0.0, 1.0],
                x_labels: Vec::new(),
                y_labels: Vec::new(),
            };
        };
        let (mut x0, mut x1) = (t0 as f64 / DAY, t1 as f64 / DAY);
        if x1 - x0 < 1.0 {
            x0 -= 1.0;
            x1 += 1.0;
        }
        let range_values: Vec<f64> = trend
            .range
            .iter()
            .flat_map(|r| [r.low, r.high])
            .flatten()
            .collect();
        for r in &range_values {
            v0 = v0.min(*r);
            v1 = v1.max(*r);
        }
        let pad = if v1 > v0 {
            (v1 - v0) * 0.1
        } else {
            (v0.abs() * 0.05).max(1.0)
        };
        let y = [v0 - pad, v1 + pad];
        let range = range_values
            .iter()
            .map(|r| vec![(x0, *r), (x1, *r)])
            .collect();
        Plot {
            data,
            range,
            x: [x0, x1],
            y,
            x_labels: vec![month(x0), month((x0 + x1) / 2.0), month(x1)],
            y_labels: [y[0], (y[0] + y[1]) / 2.0, y[1]]
                .iter()
                .map(|v| rounded(*v, y[1] - y[0]))
                .collect(),
        }
    }
}
