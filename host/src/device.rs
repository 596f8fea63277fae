//! Devices that run a compiled network.
//!
//! [`Device`] is deliberately small: load a network, step it, read back weights,
//! state and counters. [`ModelDevice`] runs the bit-exact reference model
//! (`neurofab-sim`). Hardware backends (RTL simulation, serial-attached boards)
//! will implement the same trait behind `--device`.

use neurofab_proto::{Capabilities, CoreConfig, CoreShape, NeuronState};
use neurofab_sim::{Core, ModelServer};

use crate::compile::CompiledNetwork;
use crate::inputs::SpikeTrain;
use crate::link::protocol::{LinkOptions, LinkStats, ProtocolDevice};
use crate::link::transport::{ModelTransport, SerialTransport};

/// Device kinds accepted by `--device`, in the order `--help` lists them.
pub const AVAILABLE_DEVICES: &[&str] =
    &["model", "proto-model", "serial:PATH[@BAUD]", "rtl[:MODEL]"];

/// A device failure. [`DeviceError::exit_code`] gives the CLI's exit code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    #[error("unknown device \"{0}\": available devices: {list}", list = AVAILABLE_DEVICES.join(", "))]
    Unknown(String),
    /// A known device kind that this build cannot open (yet).
    #[error("device {device}: not available: {message}")]
    Unavailable { device: String, message: String },
    #[error("device {device}: {op}: {message}")]
    Failed {
        device: String,
        op: String,
        message: String,
    },
    /// The device refused a command (NACK other than a transmission error).
    #[error("device {device}: {op} refused: {message}")]
    Refused {
        device: String,
        op: String,
        message: String,
    },
    /// The network does not fit the device's core.
    #[error("device {device}: the network does not fit: {message}")]
    DoesNotFit { device: String, message: String },
    /// The link failed: port missing or vanished, timeouts.
    #[error("device {device}: link error: {message}")]
    Link { device: String, message: String },
    /// Something answered, but not a neurofab core.
    #[error("device {device}: not a neurofab core: {message}")]
    NotACore { device: String, message: String },
    /// A neurofab core speaking another protocol version.
    #[error("device {device}: speaks protocol version {found}, this host speaks version {supported}: update the host or the bitstream")]
    Version {
        device: String,
        found: u8,
        supported: u8,
    },
}

impl DeviceError {
    /// The CLI exit code (see `neurofab --help`).
    pub fn exit_code(&self) -> i32 {
        use crate::error::*;
        match self {
            DeviceError::Unknown(_) => EXIT_USAGE,
            DeviceError::Link { .. } => EXIT_LINK,
            DeviceError::NotACore { .. } => EXIT_NOT_A_CORE,
            DeviceError::Version { .. } => EXIT_VERSION,
            _ => EXIT_DEVICE,
        }
    }
}

/// Event counters of a device since its last state reset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub steps: u64,
    pub spikes: u64,
    /// Synaptic events of spike delivery (spec §8).
    pub delivered: u64,
    /// Synaptic events of potentiation (spec §8).
    pub potentiation: u64,
}

/// Something that runs a neurofab core.
///
/// Matrices (`weights`, `masks`, `set_weights`) are in the layout of
/// [`Device::shape`]: the loaded network's shape once one is loaded, else the
/// core's. Row `s` is source `s` (inputs `0..M`, then neuron `n` as `M+n`).
pub trait Device {
    /// How the device is named in messages (`model`, `serial:/dev/pts/3@115200`, …).
    fn name(&self) -> &str;
    /// What the core reports about itself (IDENTITY).
    fn capabilities(&self) -> Capabilities;
    /// The shape matrices are exchanged in (see the trait docs).
    fn shape(&self) -> CoreShape;
    /// Full reset, then writes every parameter, weight and plasticity bit of `net`,
    /// then a state reset. Refuses a network that does not fit.
    fn load(&mut self, net: &CompiledNetwork) -> Result<(), DeviceError>;
    /// [`Device::load`] reporting `progress(done, total)` (frames, or 1/1).
    fn load_with_progress(
        &mut self,
        net: &CompiledNetwork,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), DeviceError> {
        self.load(net)?;
        progress(1, 1);
        Ok(())
    }
    /// State reset (weights and parameters are kept).
    fn reset_state(&mut self) -> Result<(), DeviceError>;
    /// One step with the given external inputs; returns the neurons that fired (ascending).
    fn step(&mut self, inputs: &[u16]) -> Result<&[u16], DeviceError>;
    /// Runs `steps` steps with inputs `train.at(k)` for the k-th step of this call;
    /// `on_step(k, fired)` is called once per step, in order. Devices behind a
    /// link pipeline the steps.
    fn run_train(
        &mut self,
        train: &SpikeTrain,
        steps: u32,
        on_step: &mut dyn FnMut(u32, &[u16]),
    ) -> Result<(), DeviceError> {
        for k in 0..steps {
            let fired = self.step(train.at(k))?;
            on_step(k, fired);
        }
        Ok(())
    }
    /// The weight matrix, row-major `(M+N) × N`.
    fn weights(&mut self) -> Result<Vec<i16>, DeviceError>;
    /// The plasticity mask, row-major `(M+N) × N`.
    fn masks(&mut self) -> Result<Vec<bool>, DeviceError>;
    /// Overwrites the whole weight matrix.
    fn set_weights(
        &mut self,
        weights: &[i16],
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), DeviceError>;
    /// Dynamic state of neuron `n`.
    fn neuron_state(&mut self, n: u16) -> Result<NeuronState, DeviceError>;
    /// Dynamic state of every neuron.
    fn neuron_states(&mut self) -> Result<Vec<NeuronState>, DeviceError>;
    /// Pre-synaptic traces of every source.
    fn pre_traces(&mut self) -> Result<Vec<u8>, DeviceError>;
    /// Event counters.
    fn counters(&mut self) -> Result<Counters, DeviceError>;
    /// Link statistics (devices behind a link).
    fn link_stats(&self) -> Option<LinkStats> {
        None
    }
    /// The link's baud rate, if it has one.
    fn baud(&self) -> Option<u32> {
        None
    }
}

/// A parsed `--device` name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceSpec {
    /// The reference model, in-process, called directly.
    Model,
    /// The reference device in-process behind the full wire protocol.
    ProtoModel,
    /// A serial port.
    Serial { path: String, baud: u32 },
    /// The Verilator-simulated RTL core in-process, driven through its UART pins.
    Rtl { model: String },
}

impl DeviceSpec {
    /// Parses `model`, `proto-model`, `rtl`, `serial:PATH` or `serial:PATH@BAUD`.
    pub fn parse(name: &str) -> Result<DeviceSpec, String> {
        match name {
            "model" => return Ok(DeviceSpec::Model),
            "proto-model" => return Ok(DeviceSpec::ProtoModel),
            "rtl" => {
                return Ok(DeviceSpec::Rtl {
                    model: crate::link::DEFAULT_RTL_MODEL.to_string(),
                })
            }
            _ => {}
        }
        if let Some(model) = name.strip_prefix("rtl:") {
            if model.is_empty() {
                return Err(format!(
                    "device \"{name}\": no model name (e.g. rtl:core_64)"
                ));
            }
            return Ok(DeviceSpec::Rtl {
                model: model.to_string(),
            });
        }
        if let Some(rest) = name.strip_prefix("serial:") {
            let (path, baud) = match rest.rsplit_once('@') {
                Some((p, b)) => {
                    let baud: u32 = b.parse().ok().filter(|&b| b > 0).ok_or_else(|| {
                        format!("device \"{name}\": baud rate \"{b}\" is not a positive integer")
                    })?;
                    (p, baud)
                }
                None => (rest, neurofab_proto::DEFAULT_BAUD),
            };
            if path.is_empty() {
                return Err(format!(
                    "device \"{name}\": no port path (e.g. serial:/dev/ttyUSB0@115200)"
                ));
            }
            return Ok(DeviceSpec::Serial {
                path: path.to_string(),
                baud,
            });
        }
        Err(format!(
            "unknown device \"{name}\"; available devices: {}",
            AVAILABLE_DEVICES.join(", ")
        ))
    }
}

/// Opens a device by its `--device` name (no network loaded; the model device
/// starts as a default-size core and takes the shape of whatever is loaded).
pub fn open(name: &str, opts: &LinkOptions) -> Result<Box<dyn Device>, DeviceError> {
    open_traced(name, opts, None)
}

/// Like [`open`]; an RTL device also writes a VCD trace (for GTKWave) to `trace`.
pub fn open_traced(
    name: &str,
    opts: &LinkOptions,
    trace: Option<&std::path::Path>,
) -> Result<Box<dyn Device>, DeviceError> {
    let spec = DeviceSpec::parse(name).map_err(|_| DeviceError::Unknown(name.to_string()))?;
    match spec {
        DeviceSpec::Model => Ok(Box::new(ModelDevice::with_shape(CoreShape::DEFAULT)?)),
        DeviceSpec::ProtoModel => {
            let server =
                ModelServer::new(CoreConfig::DEFAULT).map_err(|e| failed("create core", e))?;
            Ok(Box::new(ProtocolDevice::open(
                ModelTransport::new(server),
                *opts,
            )?))
        }
        DeviceSpec::Serial { path, baud } => {
            let t = SerialTransport::open(&path, baud).map_err(|e| DeviceError::Link {
                device: format!("serial:{path}@{baud}"),
                message: e.to_string(),
            })?;
            Ok(Box::new(ProtocolDevice::open(t, *opts)?))
        }
        DeviceSpec::Rtl { model } => {
            let t = crate::link::RtlTransport::open(&model, trace).map_err(|e| {
                DeviceError::Unavailable {
                    device: format!("rtl:{model}"),
                    message: e.to_string(),
                }
            })?;
            Ok(Box::new(ProtocolDevice::open(t, *opts)?))
        }
    }
}

/// Opens a device and loads `net` into it.
pub fn open_with(
    name: &str,
    net: &CompiledNetwork,
    opts: &LinkOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Box<dyn Device>, DeviceError> {
    open_with_traced(name, net, opts, None, progress)
}

/// Like [`open_with`], with an optional VCD trace of an RTL device.
pub fn open_with_traced(
    name: &str,
    net: &CompiledNetwork,
    opts: &LinkOptions,
    trace: Option<&std::path::Path>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Box<dyn Device>, DeviceError> {
    let mut d = open_traced(name, opts, trace)?;
    d.load_with_progress(net, progress)?;
    Ok(d)
}

/// Checks a `--device` name (for the CLI's argument parser).
pub fn parse_device_name(name: &str) -> Result<String, String> {
    DeviceSpec::parse(name).map(|_| name.to_string())
}

/// The reference model as a device.
pub struct ModelDevice {
    core: Core,
}

fn failed(op: impl Into<String>, e: impl std::fmt::Display) -> DeviceError {
    DeviceError::Failed {
        device: "model".into(),
        op: op.into(),
        message: e.to_string(),
    }
}

impl ModelDevice {
    /// A model core of the network's shape, with the network loaded.
    pub fn new(net: &CompiledNetwork) -> Result<ModelDevice, DeviceError> {
        let core = Core::new(net.shape).map_err(|e| failed("create core", e))?;
        let mut d = ModelDevice { core };
        d.load(net)?;
        Ok(d)
    }

    /// An empty (fully reset) model core of `shape`.
    pub fn with_shape(shape: CoreShape) -> Result<ModelDevice, DeviceError> {
        let core = Core::new(shape).map_err(|e| failed("create core", e))?;
        Ok(ModelDevice { core })
    }

    /// The underlying model (for tests that need traces etc.).
    pub fn core(&self) -> &Core {
        &self.core
    }
}

impl Device for ModelDevice {
    fn name(&self) -> &str {
        "model"
    }

    fn capabilities(&self) -> Capabilities {
        CoreConfig::with_shape(self.core.shape()).capabilities()
    }

    fn shape(&self) -> CoreShape {
        self.core.shape()
    }

    fn load(&mut self, net: &CompiledNetwork) -> Result<(), DeviceError> {
        if self.core.shape() != net.shape {
            self.core = Core::new(net.shape).map_err(|e| failed("create core", e))?;
        }
        self.core.full_reset();
        for (n, p) in net.neuron_params.iter().enumerate() {
            self.core
                .set_neuron_params(n as u16, *p)
                .map_err(|e| failed(format!("set neuron {n} params"), e))?;
        }
        self.core
            .set_stdp(net.stdp)
            .map_err(|e| failed("set STDP params", e))?;
        let cols = net.shape.neurons as usize;
        for (k, (&w, &p)) in net.weights.iter().zip(&net.plastic).enumerate() {
            let (s, n) = ((k / cols) as u16, (k % cols) as u16);
            if w != 0 {
                self.core
                    .set_weight(s, n, w)
                    .map_err(|e| failed(format!("set weight {s}->{n}"), e))?;
            }
            if p {
                self.core
                    .set_plastic(s, n, true)
                    .map_err(|e| failed(format!("set plastic {s}->{n}"), e))?;
            }
        }
        self.core.reset_state();
        Ok(())
    }

    fn reset_state(&mut self) -> Result<(), DeviceError> {
        self.core.reset_state();
        Ok(())
    }

    fn step(&mut self, inputs: &[u16]) -> Result<&[u16], DeviceError> {
        self.core.step(inputs).map_err(|e| failed("step", e))
    }

    fn weights(&mut self) -> Result<Vec<i16>, DeviceError> {
        Ok(self.core.weights().to_vec())
    }

    fn masks(&mut self) -> Result<Vec<bool>, DeviceError> {
        let s = self.core.shape();
        let mut out = Vec::with_capacity(s.synapses());
        for src in 0..s.sources() as u16 {
            for n in 0..s.neurons {
                out.push(
                    self.core
                        .plastic(src, n)
                        .map_err(|e| failed("read mask", e))?,
                );
            }
        }
        Ok(out)
    }

    fn set_weights(
        &mut self,
        weights: &[i16],
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), DeviceError> {
        let s = self.core.shape();
        if weights.len() != s.synapses() {
            return Err(failed(
                "write weights",
                format!(
                    "{} weights given, the core needs {}",
                    weights.len(),
                    s.synapses()
                ),
            ));
        }
        let cols = s.neurons as usize;
        for (k, &w) in weights.iter().enumerate() {
            let (src, n) = ((k / cols) as u16, (k % cols) as u16);
            self.core
                .set_weight(src, n, w)
                .map_err(|e| failed(format!("set weight {src}->{n}"), e))?;
        }
        progress(1, 1);
        Ok(())
    }

    fn neuron_states(&mut self) -> Result<Vec<NeuronState>, DeviceError> {
        (0..self.core.shape().neurons)
            .map(|n| self.neuron_state(n))
            .collect()
    }

    fn pre_traces(&mut self) -> Result<Vec<u8>, DeviceError> {
        (0..self.core.shape().sources() as u16)
            .map(|s| {
                self.core
                    .pre_trace(s)
                    .map_err(|e| failed(format!("read pre-trace {s}"), e))
            })
            .collect()
    }

    fn neuron_state(&mut self, n: u16) -> Result<NeuronState, DeviceError> {
        self.core
            .neuron_state(n)
            .map_err(|e| failed(format!("read state of neuron {n}"), e))
    }

    fn counters(&mut self) -> Result<Counters, DeviceError> {
        let c = self.core.counters();
        Ok(Counters {
            steps: c.steps,
            spikes: c.spikes,
            delivered: c.delivered,
            potentiation: c.potentiation,
        })
    }
}
