//! Charts of runs and devices, as PNG or SVG (plotters): spike rasters, weight
//! heatmaps and membrane potential traces; `neurofab plot` and `run --plot`.
//!
//! Charts are drawn in memory and written in one go, so a file is either
//! complete or not written at all. Text is drawn with the DejaVu Sans font
//! embedded in the binary (`host/assets/`): no system fonts are needed.
//!
//! ```no_run
//! use neurofab::plot::{read_spikes, save, Raster};
//! let spikes = read_spikes("spikes.csv".as_ref(), None)?;
//! save("raster.svg".as_ref(), &Raster::new(&spikes))?;
//! # Ok::<(), neurofab::error::Error>(())
//! ```

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::compile::CompiledNetwork;
use crate::device::{Device, DeviceError};
use crate::error::{ConfigError, Error};
use crate::inputs::{parse_spike_csv, SpikeTrain};
use crate::run::RunResult;

/// DejaVu Sans 2.37 (Bitstream Vera licence, see host/assets/DejaVuSans-LICENSE.txt).
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// Default picture size in pixels.
pub const DEFAULT_SIZE: (u32, u32) = (1200, 800);

/// Ten distinct colours (matplotlib's tab10), for populations and traces.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
/// Spikes of neurons outside every population.
const OTHER: RGBColor = RGBColor(90, 90, 90);

fn colour(k: usize) -> RGBColor {
    PALETTE[k % PALETTE.len()]
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The file is embedded and known to parse (tested); nothing to report.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// A picture format, chosen by the output file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Svg,
}

impl Format {
    /// `.png` or `.svg` (any case); anything else is a usage error (exit code 2).
    pub fn from_path(path: &Path) -> Result<Format, ConfigError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("png") => Ok(Format::Png),
            Some("svg") => Ok(Format::Svg),
            Some(e) => Err(ConfigError::plain(
                path.display().to_string(),
                format!("cannot write a plot as `.{e}`: use a file name ending in .png or .svg"),
            )),
            None => Err(ConfigError::plain(
                path.display().to_string(),
                "the plot file needs an extension: .png or .svg",
            )),
        }
    }
}

/// A chart that can be drawn on any plotters backend.
pub trait Chart {
    /// Draws the chart on `root` (already cleared to white).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
    /// A one-line description for notes (`raster of 345 spikes`).
    fn describe(&self) -> String;
}

fn draw_err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> String {
    e.to_string()
}

/// Renders `chart` as PNG or SVG bytes of `size` pixels.
pub fn render<C: Chart>(chart: &C, format: Format, size: (u32, u32)) -> Result<Vec<u8>, String> {
    register_font();
    let (w, h) = (size.0.max(200), size.1.max(150));
    match format {
        Format::Svg => {
            let mut s = String::new();
            {
                let root = SVGBackend::with_string(&mut s, (w, h)).into_drawing_area();
                root.fill(&WHITE).map_err(draw_err)?;
                chart.draw(&root)?;
                root.present().map_err(draw_err)?;
            }
            Ok(s.into_bytes())
        }
        Format::Png => {
            let mut rgb = vec![0u8; w as usize * h as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
                root.fill(&WHITE).map_err(draw_err)?;
                chart.draw(&root)?;
                root.present().map_err(draw_err)?;
            }
            let mut out = Vec::new();
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut writer = enc.write_header().map_err(|e| e.to_string())?;
            writer.write_image_data(&rgb).map_err(|e| e.to_string())?;
            writer.finish().map_err(|e| e.to_string())?;
            Ok(out)
        }
    }
}

/// Renders `chart` in the format of `path`'s extension and writes it there.
pub fn save_sized<C: Chart>(path: &Path, chart: &C, size: (u32, u32)) -> Result<(), Error> {
    let format = Format::from_path(path)?;
    let bytes = render(chart, format, size)
        .map_err(|m| Error::io("cannot draw the plot", path, std::io::Error::other(m)))?;
    std::fs::write(path, bytes).map_err(|e| Error::io("cannot write plot file", path, e))
}

/// [`save_sized`] at [`DEFAULT_SIZE`].
pub fn save<C: Chart>(path: &Path, chart: &C) -> Result<(), Error> {
    save_sized(path, chart, DEFAULT_SIZE)
}

fn title_style() -> TextStyle<'static> {
    TextStyle::from((FAMILY, 26).into_font())
}

/// Axis tick labels: `200`, not `200.0`; `0.25`, not `0.25000000001`.
fn tick(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{:.0}", v.round() + 0.0)
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn read_text(path: &Path, what: &str) -> Result<String, Error> {
    let bytes =
        std::fs::read(path).map_err(|e| Error::io(format!("cannot read {what}"), path, e))?;
    String::from_utf8(bytes).map_err(|_| {
        ConfigError::plain(
            path.display().to_string(),
            format!("not a text (CSV) file; expected a {what}"),
        )
        .into()
    })
}

// ---------------------------------------------------------------------------
// Spike raster

/// Reads a `step,neuron` spike CSV (what `run --out` writes). With a network,
/// neurons must be below its core size.
pub fn read_spikes(path: &Path, net: Option<&CompiledNetwork>) -> Result<Vec<(u32, u16)>, Error> {
    let text = read_text(path, "spike file (`step,neuron`)")?;
    let limit = net.map_or(usize::from(u16::MAX) + 1, |n| usize::from(n.shape.neurons));
    Ok(parse_spike_csv(
        &text,
        &path.display().to_string(),
        limit,
        "neuron",
        0,
    )?)
}

/// A spike raster: one dot per spike, time across, neuron index up; coloured by
/// population when a network is given.
pub struct Raster<'a> {
    pub spikes: &'a [(u32, u16)],
    /// Populations (colours, legend, boundaries) and the time step (x in ms).
    pub net: Option<&'a CompiledNetwork>,
    /// Steps shown (default: up to the last spike, or the network's steps).
    pub steps: Option<u32>,
    pub title: Option<String>,
}

impl<'a> Raster<'a> {
    pub fn new(spikes: &'a [(u32, u16)]) -> Raster<'a> {
        Raster {
            spikes,
            net: None,
            steps: None,
            title: None,
        }
    }

    fn steps_shown(&self) -> u32 {
        let last = self.spikes.iter().map(|s| s.0 + 1).max().unwrap_or(0);
        match (self.steps, self.net) {
            (Some(k), _) => k.max(1),
            (None, Some(n)) => n.steps.max(last).max(1),
            (None, None) => last.max(1),
        }
    }

    fn neurons_shown(&self) -> u32 {
        let last = self.spikes.iter().map(|s| u32::from(s.1) + 1).max();
        let pops = self.net.and_then(|n| {
            n.populations
                .iter()
                .map(|g| u32::from(g.first) + u32::from(g.size))
                .max()
        });
        last.into_iter().chain(pops).max().unwrap_or(1).max(1)
    }
}

impl Chart for Raster<'_> {
    fn describe(&self) -> String {
        format!(
            "spike raster of {} spikes ({} steps x {} neurons)",
            self.spikes.len(),
            self.steps_shown(),
            self.neurons_shown()
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let steps = self.steps_shown();
        let neurons = self.neurons_shown();
        let dt = self.net.map(|n| n.dt_ms);
        let scale = dt.unwrap_or(1.0);
        let x_desc = match dt {
            Some(dt) => format!("time (ms; step = {dt} ms)"),
            None => "time (step)".to_string(),
        };
        let title = self.title.clone().unwrap_or_else(|| {
            format!(
                "Spike raster: {} spikes, {} neurons, {} steps",
                self.spikes.len(),
                neurons,
                steps
            )
        });
        let x_range = 0.0..f64::from(steps) * scale;
        let y_range = -0.5..f64::from(neurons) - 0.5;
        let mut chart = ChartBuilder::on(root)
            .caption(title, title_style())
            .margin(16)
            .x_label_area_size(56)
            .y_label_area_size(72)
            .build_cartesian_2d(x_range.clone(), y_range.clone())
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(x_desc)
            .y_desc("neuron (core index)")
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .label_style((FAMILY, 16))
            .axis_desc_style((FAMILY, 20))
            .draw()
            .map_err(draw_err)?;

        // Dot size: a third of a neuron's row, 1..3 pixels.
        let (_, h) = chart.plotting_area().dim_in_pixel();
        let r = (f64::from(h) / f64::from(neurons) / 3.0).clamp(1.0, 3.0) as i32;
        let point = |&(t, n): &(u32, u16)| (f64::from(t) * scale, f64::from(n));
        match self.net.filter(|n| !n.populations.is_empty()) {
            None => {
                chart
                    .draw_series(
                        self.spikes
                            .iter()
                            .map(|s| Circle::new(point(s), r, colour(0).filled())),
                    )
                    .map_err(draw_err)?;
            }
            Some(net) => {
                // Population boundaries, then each population's spikes with a legend entry.
                for g in net.populations.iter().skip(1) {
                    let y = f64::from(g.first) - 0.5;
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(x_range.start, y), (x_range.end, y)],
                            RGBColor(200, 200, 200),
                        )))
                        .map_err(draw_err)?;
                }
                for (k, g) in net.populations.iter().enumerate() {
                    let c = colour(k);
                    let range = g.range();
                    let count = self.spikes.iter().filter(|s| range.contains(&s.1)).count();
                    chart
                        .draw_series(
                            self.spikes
                                .iter()
                                .filter(|s| range.contains(&s.1))
                                .map(|s| Circle::new(point(s), r, c.filled())),
                        )
                        .map_err(draw_err)?
                        .label(format!("{} ({count} spikes)", g.name))
                        .legend(move |(x, y)| {
                            Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled())
                        });
                }
                let others: Vec<_> = self
                    .spikes
                    .iter()
                    .filter(|s| net.population_of(s.1).is_none())
                    .collect();
                if !others.is_empty() {
                    chart
                        .draw_series(
                            others
                                .iter()
                                .map(|s| Circle::new(point(s), r, OTHER.filled())),
                        )
                        .map_err(draw_err)?
                        .label(format!("no population ({} spikes)", others.len()))
                        .legend(|(x, y)| {
                            Rectangle::new([(x, y - 5), (x + 12, y + 5)], OTHER.filled())
                        });
                }
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperRight)
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .label_font((FAMILY, 16))
                    .draw()
                    .map_err(draw_err)?;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Weight heatmap

/// A weight matrix: rows are sources (inputs `0..M`, then neuron n as `M+n`),
/// columns neurons.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightMatrix {
    pub rows: usize,
    pub cols: usize,
    /// Row-major values.
    pub values: Vec<f64>,
    /// True if the values are in mV, false for core integer units.
    pub mv: bool,
    /// M, the number of input rows, when known (a separator is drawn).
    pub inputs: Option<usize>,
}

impl WeightMatrix {
    /// From core integer weights in a network's layout; in mV.
    pub fn from_network(net: &CompiledNetwork, weights: &[i16]) -> WeightMatrix {
        let cols = net.shape.neurons as usize;
        WeightMatrix {
            rows: net.shape.sources(),
            cols,
            values: weights
                .iter()
                .enumerate()
                .map(|(k, &w)| f64::from(w) * net.weight_lsb_mv((k % cols) as u16))
                .collect(),
            mv: true,
            inputs: Some(net.shape.inputs as usize),
        }
    }
}

/// Reads a weight file: `.npy` (a 2-D array, sources x neurons) or CSV
/// `source,neuron,weight[,weight_mv]` (what `run --weights-out` and `weights
/// read` write; the `weight_mv` column is used when present). With a network
/// the matrix has its shape, core units are converted to mV and the input rows
/// are marked.
pub fn read_weights(path: &Path, net: Option<&CompiledNetwork>) -> Result<WeightMatrix, Error> {
    let name = path.display().to_string();
    let npy = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
    let mut m = if npy {
        let bytes =
            std::fs::read(path).map_err(|e| Error::io("cannot read weights file", path, e))?;
        let a = crate::npy::decode(&bytes).map_err(|e| ConfigError::plain(&name, e))?;
        WeightMatrix {
            rows: a.rows,
            cols: a.cols,
            values: a.data.iter().map(|&v| v as f64).collect(),
            mv: false,
            // The device's matrix is (M+N) x N.
            inputs: (a.rows >= a.cols).then(|| a.rows - a.cols),
        }
    } else {
        parse_weights_csv(&read_text(path, "weights file (CSV)")?, &name)?
    };
    if let Some(net) = net {
        let (rows, cols) = (net.shape.sources(), net.shape.neurons as usize);
        if m.rows > rows || m.cols > cols {
            return Err(ConfigError::plain(
                &name,
                format!(
                    "the matrix is {} x {} but the network's is {rows} x {cols} (sources x neurons)",
                    m.rows, m.cols
                ),
            )
            .into());
        }
        let mut values = vec![0.0; rows * cols];
        for r in 0..m.rows {
            for c in 0..m.cols {
                let v = m.values[r * m.cols + c];
                values[r * cols + c] = if m.mv {
                    v
                } else {
                    v * net.weight_lsb_mv(c as u16)
                };
            }
        }
        m = WeightMatrix {
            rows,
            cols,
            values,
            mv: true,
            inputs: Some(net.shape.inputs as usize),
        };
    }
    if m.rows == 0 || m.cols == 0 {
        return Err(ConfigError::plain(&name, "no weights in the file: nothing to plot").into());
    }
    Ok(m)
}

/// Parses CSV `source,neuron,weight[,weight_mv]` (header optional, `#` comments).
pub fn parse_weights_csv(text: &str, name: &str) -> Result<WeightMatrix, ConfigError> {
    let mut entries = Vec::new();
    let mut mv_col = None;
    let mut seen_data = false;
    for (i, line) in text.lines().enumerate() {
        let (line, lineno) = (line.trim(), i + 1);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if !seen_data && f[0].parse::<f64>().is_err() {
            // Header.
            seen_data = true;
            if f.len() < 3 || f[0] != "source" || f[1] != "neuron" {
                return Err(ConfigError::at_line(
                    name,
                    lineno,
                    format!("expected a header `source,neuron,weight[,weight_mv]`, got `{line}`"),
                ));
            }
            mv_col = f.iter().position(|&c| c == "weight_mv");
            continue;
        }
        seen_data = true;
        let index = |j: usize, what: &str| -> Result<usize, ConfigError> {
            f.get(j).and_then(|s| s.parse::<usize>().ok()).ok_or_else(|| {
                ConfigError::at_line(
                    name,
                    lineno,
                    format!("expected `source,neuron,weight`: {what} is not a whole number >= 0 in `{line}`"),
                )
            })
        };
        let (s, n) = (index(0, "source")?, index(1, "neuron")?);
        if s > 8192 || n > 4096 {
            return Err(ConfigError::at_line(
                name,
                lineno,
                format!(
                    "synapse {s} -> {n} is outside any core (at most 8192 sources x 4096 neurons)"
                ),
            ));
        }
        let col = mv_col.unwrap_or(2);
        let w = f
            .get(col)
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|w| w.is_finite())
            .ok_or_else(|| {
                ConfigError::at_line(
                    name,
                    lineno,
                    format!("expected `source,neuron,weight`: bad weight in `{line}`"),
                )
            })?;
        entries.push((s, n, w));
    }
    let rows = entries.iter().map(|e| e.0 + 1).max().unwrap_or(0);
    let cols = entries.iter().map(|e| e.1 + 1).max().unwrap_or(0);
    let mut values = vec![0.0; rows * cols];
    for (s, n, w) in entries {
        values[s * cols + n] = w;
    }
    Ok(WeightMatrix {
        rows,
        cols,
        values,
        mv: mv_col.is_some(),
        inputs: None,
    })
}

/// Diverging colour map: blue (negative) – white (0) – red (positive); `x` in -1..=1.
fn diverging(x: f64) -> RGBColor {
    let x = x.clamp(-1.0, 1.0);
    let (r, g, b) = if x >= 0.0 {
        (178.0, 24.0, 43.0) // red end
    } else {
        (33.0, 102.0, 172.0) // blue end
    };
    let a = x.abs();
    let mix = |c: f64| (255.0 + (c - 255.0) * a).round() as u8;
    RGBColor(mix(r), mix(g), mix(b))
}

/// A heatmap of a weight matrix, source x neuron, with a colour bar.
pub struct Heatmap<'a> {
    pub matrix: &'a WeightMatrix,
    pub title: Option<String>,
}

impl Chart for Heatmap<'_> {
    fn describe(&self) -> String {
        let nz = self.matrix.values.iter().filter(|&&v| v != 0.0).count();
        format!(
            "weight heatmap of a {} x {} matrix ({nz} non-zero)",
            self.matrix.rows, self.matrix.cols
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let m = self.matrix;
        let unit = if m.mv { "mV" } else { "core units" };
        let nz = m.values.iter().filter(|&&v| v != 0.0).count();
        let title = self.title.clone().unwrap_or_else(|| {
            format!(
                "Weights: {} sources x {} neurons, {nz} non-zero",
                m.rows, m.cols
            )
        });
        let root = root.margin(8, 0, 0, 0);
        let root = root.titled(&title, title_style()).map_err(draw_err)?;
        let (w, _) = root.dim_in_pixel();
        let (main, bar) = root.split_horizontally(w.saturating_sub(150));
        let max = m.values.iter().fold(0.0f64, |a, &v| a.max(v.abs()));
        let max = if max > 0.0 { max } else { 1.0 };

        let mut chart = ChartBuilder::on(&main)
            .margin(16)
            .x_label_area_size(56)
            .y_label_area_size(72)
            .build_cartesian_2d(0.0..m.cols as f64, 0.0..m.rows as f64)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("neuron (post-synaptic core index)")
            .y_desc(if m.inputs.is_some() {
                "source row (inputs 0..M, then neuron n as M+n)"
            } else {
                "source row"
            })
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .label_style((FAMILY, 16))
            .axis_desc_style((FAMILY, 20))
            .draw()
            .map_err(draw_err)?;
        // Zero is white (the background): draw the non-zero cells only.
        chart
            .draw_series(
                m.values
                    .iter()
                    .enumerate()
                    .filter(|e| *e.1 != 0.0)
                    .map(|(k, &v)| {
                        let (s, n) = ((k / m.cols) as f64, (k % m.cols) as f64);
                        Rectangle::new([(n, s), (n + 1.0, s + 1.0)], diverging(v / max).filled())
                    }),
            )
            .map_err(draw_err)?;
        if let Some(inputs) = m.inputs.filter(|&i| i > 0 && i < m.rows) {
            let y = inputs as f64;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(0.0, y), (m.cols as f64, y)],
                    BLACK.mix(0.6),
                )))
                .map_err(draw_err)?;
        }

        // Colour bar.
        let mut cb = ChartBuilder::on(&bar)
            .margin_top(16)
            .margin_bottom(72)
            .margin_right(8)
            .y_label_area_size(84)
            .build_cartesian_2d(0.0..1.0, -max..max)
            .map_err(draw_err)?;
        cb.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_desc(format!("weight ({unit})"))
            .y_label_formatter(&tick)
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 18))
            .draw()
            .map_err(draw_err)?;
        const STEPS: usize = 100;
        cb.draw_series((0..STEPS).map(|k| {
            let lo = -max + 2.0 * max * k as f64 / STEPS as f64;
            let hi = -max + 2.0 * max * (k + 1) as f64 / STEPS as f64;
            Rectangle::new(
                [(0.0, lo), (1.0, hi)],
                diverging((lo + hi) / 2.0 / max).filled(),
            )
        }))
        .map_err(draw_err)?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Membrane potential: traces over time, or one snapshot across neurons

/// One recorded sample: the state of `neuron` after step `step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceSample {
    pub step: u32,
    pub neuron: u16,
    /// Membrane potential (core units).
    pub v: i16,
    /// Synaptic current (core units).
    pub i: i16,
}

/// What a state file holds.
#[derive(Debug, Clone, PartialEq)]
pub enum StateData {
    /// `step,neuron,v,i` rows (`run --record`): traces over time.
    Traces(Vec<TraceSample>),
    /// `neuron,v,i,...` rows (`neurofab state`): one snapshot across neurons.
    Snapshot(Vec<(u16, i16, i16)>),
}

/// Writes recorded samples as CSV `step,neuron,v,i`.
pub fn write_traces_csv(
    w: &mut dyn std::io::Write,
    samples: &[TraceSample],
) -> std::io::Result<()> {
    writeln!(w, "step,neuron,v,i")?;
    for s in samples {
        writeln!(w, "{},{},{},{}", s.step, s.neuron, s.v, s.i)?;
    }
    Ok(())
}

/// Reads a state file: `step,neuron,v,i` (from `run --record`) or the CSV that
/// `neurofab state` prints (`neuron,v,i,refractory,post_trace,pre_trace`; its
/// second `input,pre_trace` table is ignored). The header line is required.
pub fn read_state(path: &Path) -> Result<StateData, Error> {
    let text = read_text(path, "state file (CSV)")?;
    Ok(parse_state_csv(&text, &path.display().to_string())?)
}

/// Parses a state file; see [`read_state`].
pub fn parse_state_csv(text: &str, name: &str) -> Result<StateData, ConfigError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.starts_with('#'))
        .skip_while(|(_, l)| l.is_empty());
    let Some((hl, header)) = lines.next() else {
        return Err(ConfigError::plain(
            name,
            "empty state file: nothing to plot",
        ));
    };
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let traces = match cols.as_slice() {
        ["step", "neuron", "v", ..] => true,
        ["neuron", "v", ..] => false,
        _ => {
            return Err(ConfigError::at_line(
                name,
                hl,
                format!(
                    "expected a header `step,neuron,v,i` (run --record) or `neuron,v,i,...` (neurofab state), got `{header}`"
                ),
            ))
        }
    };
    let i_col = cols.iter().position(|&c| c == "i");
    let (mut samples, mut snapshot) = (Vec::new(), Vec::new());
    for (lineno, line) in lines {
        if line.is_empty() {
            // `neurofab state` ends its neuron table with a blank line.
            if traces {
                continue;
            }
            break;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let num = |j: usize, what: &str| -> Result<i64, ConfigError> {
            f.get(j).and_then(|s| s.parse::<i64>().ok()).ok_or_else(|| {
                ConfigError::at_line(
                    name,
                    lineno,
                    format!("bad {what} in `{line}`: expected columns `{header}`"),
                )
            })
        };
        let ranged = |j: usize, what: &str, lo: i64, hi: i64| -> Result<i64, ConfigError> {
            let v = num(j, what)?;
            if (lo..=hi).contains(&v) {
                Ok(v)
            } else {
                Err(ConfigError::at_line(
                    name,
                    lineno,
                    format!("{what} {v} is out of range {lo}..={hi}"),
                ))
            }
        };
        let i16r = |j: usize, what: &str| ranged(j, what, i16::MIN.into(), i16::MAX.into());
        let base = usize::from(traces);
        let neuron = ranged(base, "neuron", 0, u16::MAX.into())? as u16;
        let v = i16r(base + 1, "v")? as i16;
        let i = match i_col {
            Some(c) => i16r(c, "i")? as i16,
            None => 0,
        };
        if traces {
            let step = ranged(0, "step", 0, u32::MAX.into())? as u32;
            samples.push(TraceSample { step, neuron, v, i });
        } else {
            snapshot.push((neuron, v, i));
        }
    }
    if samples.is_empty() && snapshot.is_empty() {
        return Err(ConfigError::plain(
            name,
            "no samples in the state file: nothing to plot",
        ));
    }
    Ok(if traces {
        StateData::Traces(samples)
    } else {
        StateData::Snapshot(snapshot)
    })
}

/// Membrane potential (top) and synaptic current (bottom): lines over time per
/// neuron for traces, points across neurons for a snapshot. With a network, v
/// is in mV and time in ms.
pub struct StatePlot<'a> {
    pub data: &'a StateData,
    pub net: Option<&'a CompiledNetwork>,
    pub title: Option<String>,
}

/// One panel of a [`StatePlot`]: its area, y label, the quantity (from v, i) and
/// whether it carries the legend.
type Panel<'a, DB> = (
    &'a DrawingArea<DB, Shift>,
    String,
    fn(i16, i16) -> i16,
    bool,
);

fn padded(lo: f64, hi: f64) -> Range<f64> {
    if hi > lo {
        let pad = (hi - lo) * 0.05;
        lo - pad..hi + pad
    } else {
        lo - 1.0..hi + 1.0
    }
}

impl StatePlot<'_> {
    fn neuron_label(&self, n: u16) -> String {
        match self.net {
            Some(net) => match net.population_of(n) {
                Some(p) => {
                    let g = &net.populations[p];
                    format!("neuron {n} ({}[{}])", g.name, n - g.first)
                }
                None => format!("neuron {n}"),
            },
            None => format!("neuron {n}"),
        }
    }

    /// (x label, x scale, y unit, y scale)
    fn units(&self) -> (String, f64, &'static str, f64) {
        match self.net {
            Some(net) => (
                format!("time (ms; step = {} ms)", net.dt_ms),
                net.dt_ms,
                "mV",
                net.lsb_mv,
            ),
            None => ("time (step)".into(), 1.0, "core units", 1.0),
        }
    }
}

impl Chart for StatePlot<'_> {
    fn describe(&self) -> String {
        match self.data {
            StateData::Traces(s) => {
                let n: std::collections::BTreeSet<u16> = s.iter().map(|x| x.neuron).collect();
                format!(
                    "membrane traces of {} neurons ({} samples)",
                    n.len(),
                    s.len()
                )
            }
            StateData::Snapshot(s) => format!("membrane state of {} neurons", s.len()),
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (x_time, t_scale, unit, v_scale) = self.units();
        let default_title = match self.data {
            StateData::Traces(_) => "Membrane potential and synaptic current over time",
            StateData::Snapshot(_) => "Membrane potential and synaptic current per neuron",
        };
        let title = self.title.clone().unwrap_or_else(|| default_title.into());
        let root = root.margin(8, 0, 0, 0);
        let root = root.titled(&title, title_style()).map_err(draw_err)?;
        let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 * 3 / 5);
        // (panel, quantity, its value in a sample)
        let panels: [Panel<'_, DB>; 2] = [
            (&top, format!("v ({unit})"), |v, _| v, true),
            (&bottom, format!("i ({unit})"), |_, i| i, false),
        ];
        match self.data {
            StateData::Traces(samples) => {
                let mut by_neuron: BTreeMap<u16, Vec<&TraceSample>> = BTreeMap::new();
                for s in samples {
                    by_neuron.entry(s.neuron).or_default().push(s);
                }
                let t_lo = samples.iter().map(|s| s.step).min().unwrap_or(0);
                let t_hi = samples.iter().map(|s| s.step).max().unwrap_or(0);
                for (area, ylabel, pick, legend) in panels {
                    let vals = samples.iter().map(|s| f64::from(pick(s.v, s.i)) * v_scale);
                    let lo = vals.clone().fold(f64::INFINITY, f64::min);
                    let hi = vals.fold(f64::NEG_INFINITY, f64::max);
                    let mut chart = ChartBuilder::on(area)
                        .margin(12)
                        .x_label_area_size(48)
                        .y_label_area_size(80)
                        .build_cartesian_2d(
                            padded(f64::from(t_lo) * t_scale, f64::from(t_hi) * t_scale),
                            padded(lo, hi),
                        )
                        .map_err(draw_err)?;
                    chart
                        .configure_mesh()
                        .light_line_style(RGBColor(235, 235, 235))
                        .x_desc(x_time.as_str())
                        .y_desc(ylabel)
                        .x_label_formatter(&tick)
                        .y_label_formatter(&tick)
                        .label_style((FAMILY, 14))
                        .axis_desc_style((FAMILY, 18))
                        .draw()
                        .map_err(draw_err)?;
                    for (k, (&n, ss)) in by_neuron.iter().enumerate() {
                        let c = colour(k);
                        let series = chart
                            .draw_series(LineSeries::new(
                                ss.iter().map(|s| {
                                    (
                                        f64::from(s.step) * t_scale,
                                        f64::from(pick(s.v, s.i)) * v_scale,
                                    )
                                }),
                                c.stroke_width(1),
                            ))
                            .map_err(draw_err)?;
                        if legend {
                            series.label(self.neuron_label(n)).legend(move |(x, y)| {
                                PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2))
                            });
                        }
                    }
                    if legend {
                        chart
                            .configure_series_labels()
                            .position(SeriesLabelPosition::UpperRight)
                            .background_style(WHITE.mix(0.85))
                            .border_style(BLACK)
                            .label_font((FAMILY, 14))
                            .draw()
                            .map_err(draw_err)?;
                    }
                }
            }
            StateData::Snapshot(rows) => {
                let n_hi = rows.iter().map(|r| r.0).max().unwrap_or(0);
                for (area, ylabel, pick, _) in panels {
                    let vals = rows.iter().map(|r| f64::from(pick(r.1, r.2)) * v_scale);
                    let lo = vals.clone().fold(0.0, f64::min);
                    let hi = vals.fold(0.0, f64::max);
                    let mut chart = ChartBuilder::on(area)
                        .margin(12)
                        .x_label_area_size(48)
                        .y_label_area_size(80)
                        .build_cartesian_2d(-0.5..f64::from(n_hi) + 0.5, padded(lo, hi))
                        .map_err(draw_err)?;
                    chart
                        .configure_mesh()
                        .light_line_style(RGBColor(235, 235, 235))
                        .x_desc("neuron (core index)")
                        .y_desc(ylabel)
                        .x_label_formatter(&tick)
                        .y_label_formatter(&tick)
                        .label_style((FAMILY, 14))
                        .axis_desc_style((FAMILY, 18))
                        .draw()
                        .map_err(draw_err)?;
                    chart
                        .draw_series(rows.iter().map(|r| {
                            let (x, y) = (f64::from(r.0), f64::from(pick(r.1, r.2)) * v_scale);
                            PathElement::new(vec![(x, 0.0), (x, y)], colour(0).stroke_width(1))
                        }))
                        .map_err(draw_err)?;
                    chart
                        .draw_series(rows.iter().map(|r| {
                            let (x, y) = (f64::from(r.0), f64::from(pick(r.1, r.2)) * v_scale);
                            Circle::new((x, y), 2, colour(0).filled())
                        }))
                        .map_err(draw_err)?;
                }
            }
        }
        Ok(())
    }
}

/// Parses a `--record` list: `0,1,2` or ranges `0-3,10`.
pub fn parse_neuron_list(s: &str) -> Result<Vec<u16>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let num = |x: &str| {
            x.trim()
                .parse::<u16>()
                .map_err(|_| format!("`{x}` is not a neuron index (0..=65535)"))
        };
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b {
                    return Err(format!("`{part}`: empty range"));
                }
                out.extend(a..=b);
            }
            None => out.push(num(part)?),
        }
    }
    if out.is_empty() {
        return Err("no neurons given: expected e.g. `0,1,2` or `0-3`".into());
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Runs like [`crate::run::run`], step by step, reading the state (v, i) of
/// `neurons` after every step. One state read per neuron and step: over a
/// serial link this is much slower than a plain run.
pub fn run_recorded(
    dev: &mut dyn Device,
    train: &SpikeTrain,
    steps: u32,
    neurons: &[u16],
    mut progress: impl FnMut(u32),
) -> Result<(RunResult, Vec<TraceSample>), DeviceError> {
    let before = dev.link_stats();
    let start = std::time::Instant::now();
    let mut spikes = Vec::new();
    let mut samples = Vec::with_capacity(steps as usize * neurons.len());
    let mut input_spikes = 0;
    for t in 0..steps {
        let inputs = train.at(t);
        input_spikes += inputs.len();
        spikes.extend(dev.step(inputs)?.iter().map(|&n| (t, n)));
        for &n in neurons {
            let s = dev.neuron_state(n)?;
            samples.push(TraceSample {
                step: t,
                neuron: n,
                v: s.v,
                i: s.i,
            });
        }
        if t % 1024 == 1023 {
            progress(t + 1);
        }
    }
    progress(steps);
    let result = RunResult::finish(dev, steps, spikes, input_spikes, start, before)?;
    Ok((result, samples))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_font_parses() {
        assert!(ab_glyph_ok(), "the embedded DejaVu Sans does not parse");
    }

    fn ab_glyph_ok() -> bool {
        plotters::style::register_font("test-font", FontStyle::Normal, FONT).is_ok()
    }

    #[test]
    fn format_from_extension() {
        assert_eq!(Format::from_path("a.PNG".as_ref()).unwrap(), Format::Png);
        assert_eq!(Format::from_path("a/b.svg".as_ref()).unwrap(), Format::Svg);
        let e = Format::from_path("a.jpg".as_ref()).unwrap_err().to_string();
        assert!(e.contains(".png or .svg"), "{e}");
        assert!(Format::from_path("plot".as_ref()).is_err());
    }

    #[test]
    fn neuron_lists() {
        assert_eq!(parse_neuron_list("3, 1,0-2").unwrap(), vec![0, 1, 2, 3]);
        assert!(parse_neuron_list("a").is_err());
        assert!(parse_neuron_list("5-2").is_err());
        assert!(parse_neuron_list("").is_err());
    }

    #[test]
    fn weights_csv_forms() {
        let m = parse_weights_csv("source,neuron,weight\n0,1,5\n2,0,-3\n", "w.csv").unwrap();
        assert_eq!((m.rows, m.cols, m.mv), (3, 2, false));
        assert_eq!(m.values, vec![0.0, 5.0, 0.0, 0.0, -3.0, 0.0]);
        let m = parse_weights_csv("source,neuron,weight,weight_mv\n1,1,4,0.5\n", "w.csv").unwrap();
        assert!(m.mv);
        assert_eq!(m.values[3], 0.5);
        let e = parse_weights_csv("source,neuron,weight\n0,x,1\n", "w.csv").unwrap_err();
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn state_csv_forms() {
        let t = parse_state_csv("step,neuron,v,i\n0,1,-5,2\n1,1,-4,1\n", "s.csv").unwrap();
        assert_eq!(
            t,
            StateData::Traces(vec![
                TraceSample {
                    step: 0,
                    neuron: 1,
                    v: -5,
                    i: 2
                },
                TraceSample {
                    step: 1,
                    neuron: 1,
                    v: -4,
                    i: 1
                },
            ])
        );
        let s = parse_state_csv(
            "neuron,v,i,refractory,post_trace,pre_trace\n0,3,4,0,0,0\n1,-2,0,1,0,0\n\ninput,pre_trace\n0,5\n",
            "s.csv",
        )
        .unwrap();
        assert_eq!(s, StateData::Snapshot(vec![(0, 3, 4), (1, -2, 0)]));
        assert!(parse_state_csv("a,b\n1,2\n", "s.csv").is_err());
        assert!(parse_state_csv("", "s.csv").is_err());
        let e = parse_state_csv("step,neuron,v,i\n0,1,40000,0\n", "s.csv").unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
    }

    #[test]
    fn diverging_ends() {
        assert_eq!(diverging(0.0), RGBColor(255, 255, 255));
        assert_eq!(diverging(1.0), RGBColor(178, 24, 43));
        assert_eq!(diverging(-2.0), RGBColor(33, 102, 172));
    }
}
