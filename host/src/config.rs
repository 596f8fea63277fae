//! The TOML network format (docs/network-format.md).
//!
//! Parsing keeps the byte span of every value (`toml::Spanned`), so that every
//! error — syntax, unknown field, wrong type, out-of-range value, unknown name,
//! network too big for the core — can say `file:line:col` and name the field.
//!
//! [`Config::parse`] checks everything that can be checked without quantising;
//! [`crate::compile`] checks the rest (values that do not fit the integer formats).

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use neurofab_proto::{CoreShape, MAX_INPUTS, MAX_NEURONS, MAX_WEIGHT_BITS, MIN_WEIGHT_BITS};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

use crate::error::{ConfigError, Error, SourceText};

/// Default step length in ms.
pub const DEFAULT_DT_MS: f64 = 1.0;
/// Default potential of one LSB of `v`/`i`, in mV (Q8.8 millivolts).
pub const DEFAULT_LSB_MV: f64 = 1.0 / 256.0;
/// Default number of steps of `neurofab run`.
pub const DEFAULT_STEPS: u64 = 1000;

// ---------------------------------------------------------------------------
// The file as written (serde structs)
// ---------------------------------------------------------------------------

/// A whole network file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// Target core sizes (optional; default: the 256/64/8 core).
    #[serde(default)]
    pub core: Option<CoreSpec>,
    /// Time step, potential unit, run length, seed.
    #[serde(default)]
    pub simulation: SimulationSpec,
    /// External input groups, in the order they get input indices.
    #[serde(default, rename = "input")]
    pub inputs: Vec<InputSpec>,
    /// Neuron populations, in the order they get neuron indices.
    #[serde(default, rename = "population")]
    pub populations: Vec<PopulationSpec>,
    /// Connections between groups.
    #[serde(default, rename = "projection")]
    pub projections: Vec<ProjectionSpec>,
    /// Global STDP rule (optional; absent = no learning).
    #[serde(default)]
    pub stdp: Option<StdpSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoreSpec {
    pub neurons: Option<Spanned<i64>>,
    pub inputs: Option<Spanned<i64>>,
    pub weight_bits: Option<Spanned<i64>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationSpec {
    pub dt_ms: Option<Spanned<f64>>,
    pub lsb_mv: Option<Spanned<f64>>,
    pub steps: Option<Spanned<i64>>,
    pub seed: Option<Spanned<i64>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    pub name: Spanned<String>,
    pub size: Spanned<i64>,
    pub poisson: Option<Spanned<PoissonSpec>>,
    pub spike_file: Option<Spanned<String>>,
    pub pattern: Option<Spanned<PatternSpec>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoissonSpec {
    pub rate_hz: Spanned<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternSpec {
    /// How many inputs of the group belong to the pattern (a fixed random subset).
    pub members: Spanned<i64>,
    /// Time between presentations.
    pub period_ms: Spanned<f64>,
    /// Time of the first presentation (default: one period).
    pub first_ms: Option<Spanned<f64>>,
    /// Each member spike is displaced by a uniform random offset in ±jitter_ms.
    pub jitter_ms: Option<Spanned<f64>>,
    /// Poisson background rate of every input of the group (members too).
    pub background_hz: Option<Spanned<f64>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationSpec {
    pub name: Spanned<String>,
    pub size: Spanned<i64>,
    pub tau_mem_ms: Option<Spanned<f64>>,
    pub tau_syn_ms: Option<Spanned<f64>>,
    pub v_rest_mv: Option<Spanned<f64>>,
    pub v_reset_mv: Option<Spanned<f64>>,
    pub v_th_mv: Option<Spanned<f64>>,
    pub t_ref_ms: Option<Spanned<f64>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectionSpec {
    pub from: Spanned<String>,
    pub to: Spanned<String>,
    pub weight_mv: Spanned<WeightDist>,
    pub probability: Option<Spanned<f64>>,
    pub allow_self: Option<Spanned<bool>>,
    pub plastic: Option<Spanned<bool>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdpSpec {
    pub enabled: Option<Spanned<bool>>,
    pub tau_pre_ms: Option<Spanned<f64>>,
    pub tau_post_ms: Option<Spanned<f64>>,
    pub inc_pre: Option<Spanned<i64>>,
    pub inc_post: Option<Spanned<i64>>,
    pub eta_plus: Option<Spanned<i64>>,
    pub eta_minus: Option<Spanned<i64>>,
    pub a_plus_mv: Option<Spanned<f64>>,
    pub a_minus_mv: Option<Spanned<f64>>,
    pub w_min_mv: Option<Spanned<f64>>,
    pub w_max_mv: Spanned<f64>,
}

/// How the weights of a projection are drawn, in mV.
#[derive(Debug, Clone, PartialEq)]
pub enum WeightDist {
    /// `weight_mv = 0.5` or `weight_mv = { constant = 0.5 }`.
    Constant(f64),
    /// `weight_mv = { uniform = [lo, hi] }`.
    Uniform { lo: f64, hi: f64 },
    /// `weight_mv = { normal = { mean = m, std = s, min = a, max = b } }`;
    /// samples are clamped to `[min, max]` when given.
    Normal {
        mean: f64,
        std: f64,
        min: Option<f64>,
        max: Option<f64>,
    },
}

impl WeightDist {
    /// Every value this distribution can produce lies in this interval.
    pub fn bounds(&self) -> (f64, f64) {
        match *self {
            WeightDist::Constant(w) => (w, w),
            WeightDist::Uniform { lo, hi } => (lo, hi),
            WeightDist::Normal {
                mean,
                std,
                min,
                max,
            } => (
                min.unwrap_or(if std > 0.0 { f64::NEG_INFINITY } else { mean }),
                max.unwrap_or(if std > 0.0 { f64::INFINITY } else { mean }),
            ),
        }
    }
}

impl fmt::Display for WeightDist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WeightDist::Constant(w) => write!(f, "{w} mV"),
            WeightDist::Uniform { lo, hi } => write!(f, "uniform [{lo}, {hi}] mV"),
            WeightDist::Normal { mean, std, .. } => write!(f, "normal(mean {mean}, std {std}) mV"),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NormalRaw {
    mean: f64,
    std: f64,
    min: Option<f64>,
    max: Option<f64>,
}

impl<'de> Deserialize<'de> for WeightDist {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        const KINDS: &[&str] = &["constant", "uniform", "normal"];
        impl<'de> Visitor<'de> for V {
            type Value = WeightDist;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a weight in mV (a number), or { uniform = [lo, hi] }, or { normal = { mean = .., std = .. } }",
                )
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<WeightDist, E> {
                Ok(WeightDist::Constant(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<WeightDist, E> {
                Ok(WeightDist::Constant(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<WeightDist, E> {
                Ok(WeightDist::Constant(v as f64))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WeightDist, A::Error> {
                let mut out: Option<WeightDist> = None;
                while let Some(key) = map.next_key::<String>()? {
                    if out.is_some() {
                        return Err(de::Error::custom(format!(
                            "`{key}`: give exactly one of `constant`, `uniform`, `normal`"
                        )));
                    }
                    out = Some(match key.as_str() {
                        "constant" => WeightDist::Constant(map.next_value()?),
                        "uniform" => {
                            let [lo, hi]: [f64; 2] = map.next_value()?;
                            WeightDist::Uniform { lo, hi }
                        }
                        "normal" => {
                            let n: NormalRaw = map.next_value()?;
                            WeightDist::Normal {
                                mean: n.mean,
                                std: n.std,
                                min: n.min,
                                max: n.max,
                            }
                        }
                        other => return Err(de::Error::unknown_field(other, KINDS)),
                    });
                }
                out.ok_or_else(|| {
                    de::Error::custom(
                        "empty weight table: give one of `constant`, `uniform`, `normal`",
                    )
                })
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------
// The checked configuration
// ---------------------------------------------------------------------------

/// What drives an input group.
#[derive(Debug, Clone, PartialEq)]
pub enum InputKind {
    Poisson {
        rate_hz: f64,
    },
    SpikeFile {
        path: PathBuf,
        span: Range<usize>,
    },
    Pattern {
        members: usize,
        period_ms: f64,
        first_ms: f64,
        jitter_ms: f64,
        background_hz: f64,
    },
}

/// A checked input group.
#[derive(Debug, Clone, PartialEq)]
pub struct InputGroup {
    pub name: String,
    pub size: usize,
    pub kind: InputKind,
    pub span: Range<usize>,
}

/// A checked population with its defaults filled in (physical units).
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    pub name: String,
    pub size: usize,
    pub tau_mem_ms: f64,
    pub tau_syn_ms: f64,
    pub v_rest_mv: f64,
    pub v_reset_mv: f64,
    pub v_th_mv: f64,
    pub t_ref_ms: f64,
    /// Spans of the fields (for quantisation errors); the name's span when defaulted.
    pub spans: PopulationSpans,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PopulationSpans {
    pub name: Range<usize>,
    pub tau_mem: Range<usize>,
    pub tau_syn: Range<usize>,
    pub v_rest: Range<usize>,
    pub v_reset: Range<usize>,
    pub v_th: Range<usize>,
    pub t_ref: Range<usize>,
}

/// Where a projection starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Input(usize),
    Population(usize),
}

/// A checked projection.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub from: Endpoint,
    pub to: usize,
    pub label: String,
    pub weight: WeightDist,
    pub probability: f64,
    pub allow_self: bool,
    pub plastic: bool,
    pub weight_span: Range<usize>,
}

/// How an STDP amplitude was given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Amplitude {
    /// Directly in core units (`eta_plus`, 0..=254).
    Eta(u8),
    /// As the weight change in mV of one pair at zero lag (`a_plus_mv`).
    Millivolts(f64),
}

/// The checked STDP rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Stdp {
    pub enabled: bool,
    pub tau_pre_ms: f64,
    pub tau_post_ms: f64,
    pub inc_pre: u8,
    pub inc_post: u8,
    pub plus: Amplitude,
    pub minus: Amplitude,
    pub w_min_mv: f64,
    pub w_max_mv: f64,
    pub plus_span: Range<usize>,
    pub minus_span: Range<usize>,
    pub w_min_span: Range<usize>,
    pub w_max_span: Range<usize>,
}

/// A parsed and checked network file.
#[derive(Debug, Clone)]
pub struct Config {
    pub source: SourceText,
    /// Directory that relative paths (spike files) are resolved against.
    pub base_dir: PathBuf,
    pub shape: CoreShape,
    pub dt_ms: f64,
    pub lsb_mv: f64,
    pub steps: u64,
    pub seed: u64,
    pub inputs: Vec<InputGroup>,
    pub populations: Vec<Population>,
    pub projections: Vec<Projection>,
    pub stdp: Option<Stdp>,
    /// The raw spec, for tools that want the spans.
    pub spec: NetworkSpec,
}

impl Config {
    /// Reads and checks a network file.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io("cannot read network file", path, e))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Config::parse(&text, &path.display().to_string(), &base)
    }

    /// Parses and checks network-file text. `name` is used in messages; spike
    /// files are resolved relative to `base_dir`.
    pub fn parse(text: &str, name: &str, base_dir: &Path) -> Result<Config, Error> {
        let source = SourceText::new(name, text);
        let spec: NetworkSpec = toml::from_str(text).map_err(|e| {
            let msg = e.message().trim_end().to_string();
            match e.span() {
                Some(span) => source.error_at(span, msg),
                None => source.error(msg),
            }
        })?;
        Ok(check(spec, source, base_dir)?)
    }

    /// Total neurons used by the populations.
    pub fn neurons_used(&self) -> usize {
        self.populations.iter().map(|p| p.size).sum()
    }

    /// Total inputs used by the input groups.
    pub fn inputs_used(&self) -> usize {
        self.inputs.iter().map(|g| g.size).sum()
    }

    /// An error at a span of this file.
    pub fn error_at(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        self.source.error_at(span, message)
    }
}

fn check(spec: NetworkSpec, src: SourceText, base_dir: &Path) -> Result<Config, ConfigError> {
    let err = |span: Range<usize>, msg: String| src.error_at(span, msg);

    // ---- [core]
    let mut shape = CoreShape::DEFAULT;
    if let Some(core) = &spec.core {
        if let Some(n) = &core.neurons {
            shape.neurons = int_in(&src, n, "[core] neurons", 1, MAX_NEURONS as i64)? as u16;
        }
        if let Some(m) = &core.inputs {
            shape.inputs = int_in(&src, m, "[core] inputs", 0, MAX_INPUTS as i64)? as u16;
        }
        if let Some(w) = &core.weight_bits {
            shape.weight_bits = int_in(
                &src,
                w,
                "[core] weight_bits",
                MIN_WEIGHT_BITS as i64,
                MAX_WEIGHT_BITS as i64,
            )? as u8;
        }
    }

    // ---- [simulation]
    let sim = &spec.simulation;
    let dt_ms = match &sim.dt_ms {
        Some(v) => positive_finite(&src, v, "[simulation] dt_ms")?,
        None => DEFAULT_DT_MS,
    };
    let lsb_mv = match &sim.lsb_mv {
        Some(v) => positive_finite(&src, v, "[simulation] lsb_mv")?,
        None => DEFAULT_LSB_MV,
    };
    let steps = match &sim.steps {
        Some(v) => int_in(&src, v, "[simulation] steps", 0, u32::MAX as i64)? as u64,
        None => DEFAULT_STEPS,
    };
    let seed = match &sim.seed {
        Some(v) => int_in(&src, v, "[simulation] seed", 0, i64::MAX)? as u64,
        None => 0,
    };

    // ---- names
    let mut names: HashMap<String, (Endpoint, Range<usize>)> = HashMap::new();
    let mut check_name = |name: &Spanned<String>,
                          what: &str,
                          ep: Endpoint|
     -> Result<(), ConfigError> {
        let n = name.get_ref();
        if n.trim().is_empty() {
            return Err(err(name.span(), format!("{what} name must not be empty")));
        }
        if let Some((_, prev)) = names.get(n) {
            let (l, _) = src.line_col(prev.start);
            return Err(err(
                name.span(),
                format!("{what} name \"{n}\" is already used (line {l}); input and population names must be unique"),
            ));
        }
        names.insert(n.clone(), (ep, name.span()));
        Ok(())
    };

    // ---- [[input]]
    let mut inputs = Vec::new();
    let mut inputs_used = 0usize;
    for (gi, g) in spec.inputs.iter().enumerate() {
        check_name(&g.name, "input", Endpoint::Input(gi))?;
        let name = g.name.get_ref().clone();
        let size = int_in(
            &src,
            &g.size,
            &format!("input \"{name}\": size"),
            1,
            MAX_INPUTS as i64,
        )? as usize;
        if inputs_used + size > shape.inputs as usize {
            let total: usize = spec
                .inputs
                .iter()
                .map(|g| (*g.size.get_ref()).max(0) as usize)
                .sum();
            return Err(err(
                g.size.span(),
                format!(
                    "input \"{name}\": size = {size}, but the core has only {} inputs left (input groups need {total}; \
                     set [core] inputs = {total} or shrink the groups)",
                    shape.inputs as usize - inputs_used
                ),
            ));
        }
        inputs_used += size;
        let kinds =
            g.poisson.is_some() as u8 + g.spike_file.is_some() as u8 + g.pattern.is_some() as u8;
        if kinds != 1 {
            return Err(err(
                g.name.span(),
                format!(
                    "input \"{name}\": give exactly one source: `poisson = {{ rate_hz = .. }}`, \
                     `spike_file = \"file.csv\"` or `pattern = {{ .. }}` (found {kinds})"
                ),
            ));
        }
        let kind = if let Some(p) = &g.poisson {
            let rate_hz = rate(
                &src,
                &p.get_ref().rate_hz,
                &format!("input \"{name}\": poisson.rate_hz"),
                dt_ms,
            )?;
            InputKind::Poisson { rate_hz }
        } else if let Some(f) = &g.spike_file {
            if f.get_ref().trim().is_empty() {
                return Err(err(
                    f.span(),
                    format!("input \"{name}\": spike_file must name a file"),
                ));
            }
            InputKind::SpikeFile {
                path: base_dir.join(f.get_ref()),
                span: f.span(),
            }
        } else {
            let p = g.pattern.as_ref().expect("one kind").get_ref();
            let what = |f: &str| format!("input \"{name}\": pattern.{f}");
            let members = int_in(&src, &p.members, &what("members"), 1, size as i64)? as usize;
            let period_ms = positive_finite(&src, &p.period_ms, &what("period_ms"))?;
            if period_ms < dt_ms {
                return Err(err(
                    p.period_ms.span(),
                    format!(
                        "{}: {period_ms} ms is shorter than one step (dt_ms = {dt_ms})",
                        what("period_ms")
                    ),
                ));
            }
            let first_ms = match &p.first_ms {
                Some(v) => non_negative_finite(&src, v, &what("first_ms"))?,
                None => period_ms,
            };
            let jitter_ms = match &p.jitter_ms {
                Some(v) => non_negative_finite(&src, v, &what("jitter_ms"))?,
                None => 0.0,
            };
            let background_hz = match &p.background_hz {
                Some(v) => rate(&src, v, &what("background_hz"), dt_ms)?,
                None => 0.0,
            };
            InputKind::Pattern {
                members,
                period_ms,
                first_ms,
                jitter_ms,
                background_hz,
            }
        };
        inputs.push(InputGroup {
            name,
            size,
            kind,
            span: g.name.span(),
        });
    }

    // ---- [[population]]
    let mut populations = Vec::new();
    let mut neurons_used = 0usize;
    for (pi, p) in spec.populations.iter().enumerate() {
        check_name(&p.name, "population", Endpoint::Population(pi))?;
        let name = p.name.get_ref().clone();
        let size = int_in(
            &src,
            &p.size,
            &format!("population \"{name}\": size"),
            1,
            MAX_NEURONS as i64,
        )? as usize;
        if neurons_used + size > shape.neurons as usize {
            let total: usize = spec
                .populations
                .iter()
                .map(|p| (*p.size.get_ref()).max(0) as usize)
                .sum();
            return Err(err(
                p.size.span(),
                format!(
                    "population \"{name}\": size = {size}, but the core has only {} neurons left \
                     (populations need {total}; set [core] neurons = {total} or shrink the populations)",
                    shape.neurons as usize - neurons_used
                ),
            ));
        }
        neurons_used += size;
        let what = |f: &str| format!("population \"{name}\": {f}");
        let span_or = |v: &Option<Spanned<f64>>| v.as_ref().map_or(p.name.span(), |s| s.span());
        let tau_mem_ms = opt_tau(&src, &p.tau_mem_ms, &what("tau_mem_ms"), 20.0)?;
        let tau_syn_ms = opt_tau(&src, &p.tau_syn_ms, &what("tau_syn_ms"), 0.0)?;
        let v_rest_mv = opt_finite(&src, &p.v_rest_mv, &what("v_rest_mv"), 0.0)?;
        let v_reset_mv = opt_finite(&src, &p.v_reset_mv, &what("v_reset_mv"), v_rest_mv)?;
        let v_th_mv = opt_finite(&src, &p.v_th_mv, &what("v_th_mv"), v_rest_mv + 20.0)?;
        let t_ref_ms = match &p.t_ref_ms {
            Some(v) => non_negative_finite(&src, v, &what("t_ref_ms"))?,
            None => 2.0,
        };
        populations.push(Population {
            name,
            size,
            tau_mem_ms,
            tau_syn_ms,
            v_rest_mv,
            v_reset_mv,
            v_th_mv,
            t_ref_ms,
            spans: PopulationSpans {
                name: p.name.span(),
                tau_mem: span_or(&p.tau_mem_ms),
                tau_syn: span_or(&p.tau_syn_ms),
                v_rest: span_or(&p.v_rest_mv),
                v_reset: span_or(&p.v_reset_mv),
                v_th: span_or(&p.v_th_mv),
                t_ref: span_or(&p.t_ref_ms),
            },
        });
    }

    // ---- [[projection]]
    let mut projections: Vec<Projection> = Vec::new();
    let mut pairs: HashMap<(Endpoint, usize), Range<usize>> = HashMap::new();
    for pr in &spec.projections {
        let from_name = pr.from.get_ref();
        let to_name = pr.to.get_ref();
        let from = match names.get(from_name) {
            Some((ep, _)) => *ep,
            None => {
                return Err(err(
                    pr.from.span(),
                    format!(
                        "projection from = \"{from_name}\": no input or population has this name{}",
                        known(&names)
                    ),
                ))
            }
        };
        let to = match names.get(to_name) {
            Some((Endpoint::Population(p), _)) => *p,
            Some((Endpoint::Input(_), _)) => {
                return Err(err(
                    pr.to.span(),
                    format!("projection to = \"{to_name}\": that is an input group; projections must end at a population"),
                ))
            }
            None => {
                return Err(err(
                    pr.to.span(),
                    format!("projection to = \"{to_name}\": no population has this name{}", known(&names)),
                ))
            }
        };
        let label = format!("projection \"{from_name}\" -> \"{to_name}\"");
        if let Some(prev) = pairs.get(&(from, to)) {
            let (l, _) = src.line_col(prev.start);
            return Err(err(
                pr.from.span(),
                format!(
                    "{label} is defined twice (first on line {l}); merge them into one projection"
                ),
            ));
        }
        pairs.insert((from, to), pr.from.span());
        let weight = pr.weight_mv.get_ref().clone();
        check_weight(&src, &pr.weight_mv, &label)?;
        let probability = match &pr.probability {
            Some(v) => {
                let p = *v.get_ref();
                if !(0.0..=1.0).contains(&p) {
                    return Err(err(
                        v.span(),
                        format!("{label}: probability = {p}: must be between 0 and 1"),
                    ));
                }
                p
            }
            None => 1.0,
        };
        let allow_self = pr.allow_self.as_ref().is_some_and(|b| *b.get_ref());
        let plastic = pr.plastic.as_ref().is_some_and(|b| *b.get_ref());
        projections.push(Projection {
            from,
            to,
            label,
            weight,
            probability,
            allow_self,
            plastic,
            weight_span: pr.weight_mv.span(),
        });
    }

    // ---- [stdp]
    let stdp = match &spec.stdp {
        None => None,
        Some(s) => Some(check_stdp(&src, s)?),
    };

    Ok(Config {
        source: src,
        base_dir: base_dir.to_path_buf(),
        shape,
        dt_ms,
        lsb_mv,
        steps,
        seed,
        inputs,
        populations,
        projections,
        stdp,
        spec,
    })
}

fn check_stdp(src: &SourceText, s: &StdpSpec) -> Result<Stdp, ConfigError> {
    let w = |f: &str| format!("[stdp] {f}");
    let enabled = s.enabled.as_ref().is_none_or(|b| *b.get_ref());
    let tau_pre_ms = opt_tau(src, &s.tau_pre_ms, &w("tau_pre_ms"), 20.0)?;
    let tau_post_ms = opt_tau(src, &s.tau_post_ms, &w("tau_post_ms"), 20.0)?;
    let inc_pre = match &s.inc_pre {
        Some(v) => int_in(src, v, &w("inc_pre"), 0, 255)? as u8,
        None => 128,
    };
    let inc_post = match &s.inc_post {
        Some(v) => int_in(src, v, &w("inc_post"), 0, 255)? as u8,
        None => 128,
    };
    let amp = |eta: &Option<Spanned<i64>>,
               mv: &Option<Spanned<f64>>,
               eta_name: &str,
               mv_name: &str|
     -> Result<(Amplitude, Range<usize>), ConfigError> {
        match (eta, mv) {
            (Some(e), None) => Ok((
                Amplitude::Eta(int_in(src, e, &w(eta_name), 0, 254)? as u8),
                e.span(),
            )),
            (None, Some(m)) => Ok((
                Amplitude::Millivolts(non_negative_finite(src, m, &w(mv_name))?),
                m.span(),
            )),
            (Some(e), Some(_)) => Err(src.error_at(
                e.span(),
                format!("[stdp]: give either {eta_name} (core units) or {mv_name} (mV), not both"),
            )),
            (None, None) => Ok((Amplitude::Eta(0), 0..0)),
        }
    };
    let (plus, plus_span) = amp(&s.eta_plus, &s.a_plus_mv, "eta_plus", "a_plus_mv")?;
    let (minus, minus_span) = amp(&s.eta_minus, &s.a_minus_mv, "eta_minus", "a_minus_mv")?;
    let w_max_mv = finite(src, &s.w_max_mv, &w("w_max_mv"))?;
    let (w_min_mv, w_min_span) = match &s.w_min_mv {
        Some(v) => (finite(src, v, &w("w_min_mv"))?, v.span()),
        None => (0.0f64.min(w_max_mv), s.w_max_mv.span()),
    };
    if w_min_mv > w_max_mv {
        return Err(src.error_at(
            w_min_span,
            format!("[stdp] w_min_mv = {w_min_mv} is above w_max_mv = {w_max_mv}"),
        ));
    }
    // Spans for defaulted amplitudes: point at the [stdp] w_max (always present).
    let plus_span = if plus_span.is_empty() {
        s.w_max_mv.span()
    } else {
        plus_span
    };
    let minus_span = if minus_span.is_empty() {
        s.w_max_mv.span()
    } else {
        minus_span
    };
    Ok(Stdp {
        enabled,
        tau_pre_ms,
        tau_post_ms,
        inc_pre,
        inc_post,
        plus,
        minus,
        w_min_mv,
        w_max_mv,
        plus_span,
        minus_span,
        w_min_span,
        w_max_span: s.w_max_mv.span(),
    })
}

fn check_weight(src: &SourceText, w: &Spanned<WeightDist>, label: &str) -> Result<(), ConfigError> {
    let bad = |msg: String| Err(src.error_at(w.span(), format!("{label}: weight_mv: {msg}")));
    match *w.get_ref() {
        WeightDist::Constant(v) if !v.is_finite() => bad(format!("{v} is not a finite number")),
        WeightDist::Uniform { lo, hi } if !(lo.is_finite() && hi.is_finite()) => {
            bad("uniform bounds must be finite".into())
        }
        WeightDist::Uniform { lo, hi } if lo > hi => {
            bad(format!("uniform = [{lo}, {hi}]: lo is above hi"))
        }
        WeightDist::Normal {
            mean,
            std,
            min,
            max,
        } => {
            if !mean.is_finite() || !std.is_finite() || std < 0.0 {
                return bad(format!(
                    "normal: mean = {mean}, std = {std}: need finite values and std >= 0"
                ));
            }
            if min.is_some_and(|m| !m.is_finite()) || max.is_some_and(|m| !m.is_finite()) {
                return bad("normal: min and max must be finite".into());
            }
            if let (Some(a), Some(b)) = (min, max) {
                if a > b {
                    return bad(format!("normal: min = {a} is above max = {b}"));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn known(names: &HashMap<String, (Endpoint, Range<usize>)>) -> String {
    let mut v: Vec<_> = names
        .iter()
        .map(|(n, (_, s))| (s.start, n.as_str()))
        .collect();
    v.sort();
    if v.is_empty() {
        " (the file defines no inputs or populations)".into()
    } else {
        format!(
            " (known: {})",
            v.iter()
                .map(|(_, n)| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

fn int_in(
    src: &SourceText,
    v: &Spanned<i64>,
    what: &str,
    lo: i64,
    hi: i64,
) -> Result<i64, ConfigError> {
    let x = *v.get_ref();
    if x < lo || x > hi {
        return Err(src.error_at(v.span(), format!("{what} = {x}: must be {lo}..={hi}")));
    }
    Ok(x)
}

fn finite(src: &SourceText, v: &Spanned<f64>, what: &str) -> Result<f64, ConfigError> {
    let x = *v.get_ref();
    if !x.is_finite() {
        return Err(src.error_at(v.span(), format!("{what} = {x}: must be a finite number")));
    }
    Ok(x)
}

fn opt_finite(
    src: &SourceText,
    v: &Option<Spanned<f64>>,
    what: &str,
    default: f64,
) -> Result<f64, ConfigError> {
    match v {
        Some(v) => finite(src, v, what),
        None => Ok(default),
    }
}

fn positive_finite(src: &SourceText, v: &Spanned<f64>, what: &str) -> Result<f64, ConfigError> {
    let x = *v.get_ref();
    if !(x.is_finite() && x > 0.0) {
        return Err(src.error_at(
            v.span(),
            format!("{what} = {x}: must be a positive finite number"),
        ));
    }
    Ok(x)
}

fn non_negative_finite(src: &SourceText, v: &Spanned<f64>, what: &str) -> Result<f64, ConfigError> {
    let x = *v.get_ref();
    if !(x.is_finite() && x >= 0.0) {
        return Err(src.error_at(
            v.span(),
            format!("{what} = {x}: must be a finite number >= 0"),
        ));
    }
    Ok(x)
}

/// A time constant: > 0, or 0 (no memory), or `inf` (no decay).
fn opt_tau(
    src: &SourceText,
    v: &Option<Spanned<f64>>,
    what: &str,
    default: f64,
) -> Result<f64, ConfigError> {
    match v {
        None => Ok(default),
        Some(v) => {
            let x = *v.get_ref();
            if x.is_nan() || x < 0.0 {
                return Err(src.error_at(
                    v.span(),
                    format!("{what} = {x}: a time constant must be > 0 (or 0 for no memory, inf for no decay)"),
                ));
            }
            Ok(x)
        }
    }
}

fn rate(src: &SourceText, v: &Spanned<f64>, what: &str, dt_ms: f64) -> Result<f64, ConfigError> {
    let r = non_negative_finite(src, v, what)?;
    let max = 1000.0 / dt_ms;
    if r > max {
        return Err(src.error_at(
            v.span(),
            format!(
                "{what} = {r} Hz: at most one spike per step, i.e. {max} Hz with dt_ms = {dt_ms}"
            ),
        ));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Error> {
        Config::parse(text, "net.toml", Path::new("."))
    }

    fn err(text: &str) -> String {
        match parse(text) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    const OK: &str = r#"
[simulation]
steps = 10
seed = 3

[[input]]
name = "in"
size = 8
poisson = { rate_hz = 20 }

[[population]]
name = "exc"
size = 10
v_th_mv = 15

[[projection]]
from = "in"
to = "exc"
weight_mv = { uniform = [0.5, 1.0] }
probability = 0.5
"#;

    #[test]
    fn parses_and_fills_defaults() {
        let c = parse(OK).unwrap();
        assert_eq!(c.shape, CoreShape::DEFAULT);
        assert_eq!(c.dt_ms, 1.0);
        assert_eq!(c.steps, 10);
        let p = &c.populations[0];
        assert_eq!(
            (p.tau_mem_ms, p.tau_syn_ms, p.v_th_mv, p.t_ref_ms),
            (20.0, 0.0, 15.0, 2.0)
        );
        assert_eq!(
            c.projections[0].weight,
            WeightDist::Uniform { lo: 0.5, hi: 1.0 }
        );
        assert_eq!(c.projections[0].from, Endpoint::Input(0));
    }

    #[test]
    fn syntax_error_has_line() {
        let e = err("[simulation]\nsteps = = 3\n");
        assert!(e.starts_with("net.toml:2:"), "{e}");
    }

    #[test]
    fn unknown_field_named_with_line() {
        let e = err(&OK.replace("v_th_mv = 15", "v_thresh_mv = 15"));
        assert!(e.contains("net.toml:14:1"), "{e}");
        assert!(e.contains("v_thresh_mv"), "{e}");
    }

    #[test]
    fn unknown_weight_kind() {
        let e = err(&OK.replace("uniform = [0.5, 1.0]", "gamma = 1"));
        assert!(e.contains("net.toml:19:"), "{e}");
        assert!(e.contains("gamma"), "{e}");
    }

    #[test]
    fn too_big() {
        let e = err(&OK.replace("size = 10", "size = 300"));
        assert!(
            e.starts_with(
                "net.toml:13:8: population \"exc\": size = 300, but the core has only 256"
            ),
            "{e}"
        );
    }

    #[test]
    fn unknown_name() {
        let e = err(&OK.replace("to = \"exc\"", "to = \"ex\""));
        assert!(
            e.starts_with("net.toml:18:6: projection to = \"ex\""),
            "{e}"
        );
    }

    #[test]
    fn negative_tau() {
        let e = err(&OK.replace("v_th_mv = 15", "tau_mem_ms = -1"));
        assert!(
            e.starts_with("net.toml:14:14: population \"exc\": tau_mem_ms = -1"),
            "{e}"
        );
    }

    #[test]
    fn wrong_type() {
        let e = err(&OK.replace("size = 10", "size = \"ten\""));
        assert!(e.starts_with("net.toml:13:8:"), "{e}");
    }
}
