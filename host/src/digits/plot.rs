//! The digits plots as hand-written SVG (no plotting dependency): learned
//! weights per output neuron as 8×8 images, the confusion matrix, and the
//! accuracy over training epochs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{DigitsError, DigitsResult, CLASSES};

fn header(w: u32, h: u32) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n"
    )
}

/// Diverging colour: blue (−1) through white (0) to red (+1).
fn diverging(v: f64) -> String {
    let v = v.clamp(-1.0, 1.0);
    let (r, g, b) = if v >= 0.0 {
        (255.0, 255.0 * (1.0 - v), 255.0 * (1.0 - v))
    } else {
        (255.0 * (1.0 + v), 255.0 * (1.0 + v), 255.0)
    };
    format!("rgb({},{},{})", r as u8, g as u8, b as u8)
}

/// Sequential colour: white (0) to dark blue (1).
fn sequential(v: f64) -> String {
    let v = v.clamp(0.0, 1.0);
    let r = 255.0 - 225.0 * v;
    let g = 255.0 - 185.0 * v;
    let b = 255.0 - 105.0 * v;
    format!("rgb({},{},{})", r as u8, g as u8, b as u8)
}

/// Learned pixel → output weights, one 8×8 image per output neuron (columns:
/// the k neurons of a class; rows: digits 0..9 when k > 1, else one row).
pub fn weights_svg(r: &DigitsResult) -> String {
    let k = r.config.per_class as usize;
    let outs = r.config.outputs() as usize;
    let cell = 12u32;
    let pad = 14u32;
    let panel = 8 * cell;
    let (cols, rows) = if k == 1 { (CLASSES, 1) } else { (k, CLASSES) };
    let scale = r
        .weights
        .iter()
        .map(|&w| (w as f64).abs())
        .fold(1.0, f64::max);
    let w = pad + cols as u32 * (panel + pad);
    let h = 40 + rows as u32 * (panel + pad + 16) + 30;
    let mut s = header(w, h);
    let _ = writeln!(
        s,
        "<text x=\"{pad}\" y=\"22\" font-size=\"14\">Learned weights (pixel → output neuron), blue −{scale:.0} … red +{scale:.0}</text>"
    );
    for o in 0..outs {
        let (class, j) = (o / k, o % k);
        let (col, row) = if k == 1 { (class, 0) } else { (j, class) };
        let x0 = pad + col as u32 * (panel + pad);
        let y0 = 40 + row as u32 * (panel + pad + 16) + 16;
        let _ = writeln!(
            s,
            "<text x=\"{x0}\" y=\"{}\">digit {class}{}</text>",
            y0 - 4,
            if k > 1 {
                format!(" #{j}")
            } else {
                String::new()
            }
        );
        let img = r.weight_image(o);
        for (p, &wv) in img.iter().enumerate() {
            let (px, py) = ((p % 8) as u32, (p / 8) as u32);
            let _ = writeln!(
                s,
                "<rect x=\"{}\" y=\"{}\" width=\"{cell}\" height=\"{cell}\" fill=\"{}\"><title>pixel {p}: {wv}</title></rect>",
                x0 + px * cell,
                y0 + py * cell,
                diverging(wv as f64 / scale)
            );
        }
        let _ = writeln!(
            s,
            "<rect x=\"{x0}\" y=\"{y0}\" width=\"{panel}\" height=\"{panel}\" fill=\"none\" stroke=\"#888\"/>"
        );
    }
    s.push_str("</svg>\n");
    s
}

/// The confusion matrix (rows: true digit, columns: predicted), shaded by row share.
pub fn confusion_svg(r: &DigitsResult) -> String {
    let cell = 36u32;
    let (x0, y0) = (70u32, 70u32);
    let w = x0 + CLASSES as u32 * cell + 20;
    let h = y0 + CLASSES as u32 * cell + 40;
    let mut s = header(w, h);
    let _ = writeln!(
        s,
        "<text x=\"10\" y=\"20\" font-size=\"14\">Confusion matrix, test accuracy {:.1} % (n = {})</text>",
        100.0 * r.test_accuracy,
        r.test_samples
    );
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"45\" text-anchor=\"middle\">predicted</text>",
        x0 + CLASSES as u32 * cell / 2
    );
    let _ = writeln!(
        s,
        "<text x=\"18\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {})\">true</text>",
        y0 + CLASSES as u32 * cell / 2,
        y0 + CLASSES as u32 * cell / 2
    );
    for c in 0..CLASSES as u32 {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{c}</text>",
            x0 + c * cell + cell / 2,
            y0 - 6
        );
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{c}</text>",
            x0 - 6,
            y0 + c * cell + cell / 2 + 4
        );
    }
    for (t, row) in r.confusion.iter().enumerate() {
        let total: u32 = row.iter().sum();
        for (p, &n) in row.iter().enumerate() {
            let share = if total == 0 {
                0.0
            } else {
                n as f64 / total as f64
            };
            let (x, y) = (x0 + p as u32 * cell, y0 + t as u32 * cell);
            let _ = writeln!(
                s,
                "<rect x=\"{x}\" y=\"{y}\" width=\"{cell}\" height=\"{cell}\" fill=\"{}\" stroke=\"#ccc\"/>",
                sequential(share)
            );
            if n > 0 {
                let _ = writeln!(
                    s,
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{n}</text>",
                    x + cell / 2,
                    y + cell / 2 + 4,
                    if share > 0.5 { "white" } else { "black" }
                );
            }
        }
    }
    s.push_str("</svg>\n");
    s
}

/// Test accuracy (frozen weights) and online training accuracy over epochs,
/// with the 68 % NeuroCoreX reference line.
pub fn accuracy_svg(r: &DigitsResult) -> String {
    let (w, h) = (520u32, 340u32);
    let (x0, y0, pw, ph) = (60.0, 40.0, 420.0, 240.0);
    let mut s = header(w, h);
    let _ = writeln!(
        s,
        "<text x=\"10\" y=\"20\" font-size=\"14\">Accuracy over training epochs ({})</text>",
        r.device
    );
    let n = r.epochs.len().max(1);
    let xs = |e: f64| {
        x0 + if n > 1 {
            (e - 1.0) / (n as f64 - 1.0) * pw
        } else {
            pw / 2.0
        }
    };
    let ys = |a: f64| y0 + (1.0 - a) * ph;
    // Axes and grid.
    for k in 0..=10 {
        let a = k as f64 / 10.0;
        let y = ys(a);
        let _ = writeln!(
            s,
            "<line x1=\"{x0}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#eee\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}%</text>",
            x0 + pw,
            x0 - 6.0,
            y + 4.0,
            k * 10
        );
    }
    for e in 1..=n {
        let x = xs(e as f64);
        let _ = writeln!(
            s,
            "<text x=\"{x}\" y=\"{}\" text-anchor=\"middle\">{e}</text>",
            y0 + ph + 16.0
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">epoch</text>",
        x0 + pw / 2.0,
        y0 + ph + 34.0
    );
    let _ = writeln!(
        s,
        "<rect x=\"{x0}\" y=\"{y0}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#888\"/>"
    );
    let y68 = ys(0.68);
    let _ = writeln!(
        s,
        "<line x1=\"{x0}\" y1=\"{y68}\" x2=\"{}\" y2=\"{y68}\" stroke=\"#999\" stroke-dasharray=\"6 4\"/><text x=\"{}\" y=\"{}\" fill=\"#777\">68 % (NeuroCoreX, offline)</text>",
        x0 + pw,
        x0 + 6.0,
        y68 - 5.0
    );
    let series: [(&str, &str, Vec<f64>); 2] = [
        (
            "test (learning frozen)",
            "#c0392b",
            r.epochs.iter().map(|e| e.test_accuracy).collect(),
        ),
        (
            "train (online, before each update)",
            "#2471a3",
            r.epochs.iter().map(|e| e.train_online_accuracy).collect(),
        ),
    ];
    for (k, (name, colour, ys_)) in series.iter().enumerate() {
        let pts: Vec<String> = ys_
            .iter()
            .enumerate()
            .map(|(e, &a)| format!("{:.1},{:.1}", xs(e as f64 + 1.0), ys(a)))
            .collect();
        let _ = writeln!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>",
            pts.join(" ")
        );
        for p in &pts {
            let (x, y) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(
                s,
                "<circle cx=\"{x}\" cy=\"{y}\" r=\"3\" fill=\"{colour}\"/>"
            );
        }
        let ly = y0 + ph - 40.0 + 18.0 * k as f64;
        let _ = writeln!(
            s,
            "<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{colour}\" stroke-width=\"2\"/><text x=\"{}\" y=\"{}\">{name}</text>",
            x0 + pw - 230.0,
            x0 + pw - 210.0,
            x0 + pw - 204.0,
            ly + 4.0
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Writes `weights.svg`, `confusion.svg` and `accuracy.svg` into `dir`
/// (created if missing); returns the paths.
pub fn write_plots(r: &DigitsResult, dir: &Path) -> Result<Vec<PathBuf>, DigitsError> {
    let io = |path: &Path, source| DigitsError::Io {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let mut out = Vec::new();
    for (name, svg) in [
        ("weights.svg", weights_svg(r)),
        ("confusion.svg", confusion_svg(r)),
        ("accuracy.svg", accuracy_svg(r)),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, svg).map_err(|e| io(&p, e))?;
        out.push(p);
    }
    Ok(out)
}
