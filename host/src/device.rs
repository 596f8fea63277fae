//! Devices that run a compiled network.
//!
//! [`Device`] is deliberately small: load a network, step it, read back weights,
//! state and counters. [`ModelDevice`] runs the bit-exact reference model
//! (`neurofab-sim`). Hardware backends (RTL simulation, serial-attached boards)
//! will implement the same trait behind `--device`.

use neurofab_proto::NeuronState;
use neurofab_sim::Core;

use crate::compile::CompiledNetwork;

/// Names accepted by `--device`, in the order `--help` lists them.
pub const AVAILABLE_DEVICES: &[&str] = &["model"];

/// A device failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    #[error("unknown device \"{0}\": available devices: {list}", list = AVAILABLE_DEVICES.join(", "))]
    Unknown(String),
    #[error("device {device}: {op}: {message}")]
    Failed {
        device: &'static str,
        op: String,
        message: String,
    },
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
pub trait Device {
    /// Short name (`model`, …).
    fn name(&self) -> &'static str;
    /// Full reset, then writes every parameter, weight and plasticity bit of `net`.
    fn load(&mut self, net: &CompiledNetwork) -> Result<(), DeviceError>;
    /// State reset (weights and parameters are kept).
    fn reset_state(&mut self) -> Result<(), DeviceError>;
    /// One step with the given external inputs; returns the neurons that fired (ascending).
    fn step(&mut self, inputs: &[u16]) -> Result<&[u16], DeviceError>;
    /// The weight matrix, row-major `(M+N) × N`.
    fn weights(&mut self) -> Result<Vec<i16>, DeviceError>;
    /// Dynamic state of neuron `n`.
    fn neuron_state(&mut self, n: u16) -> Result<NeuronState, DeviceError>;
    /// Event counters.
    fn counters(&mut self) -> Result<Counters, DeviceError>;
}

/// Opens a device by its `--device` name.
pub fn open(name: &str, net: &CompiledNetwork) -> Result<Box<dyn Device>, DeviceError> {
    match name {
        "model" => Ok(Box::new(ModelDevice::new(net)?)),
        other => Err(DeviceError::Unknown(other.to_string())),
    }
}

/// Checks a `--device` name (for the CLI's argument parser).
pub fn parse_device_name(name: &str) -> Result<String, String> {
    if AVAILABLE_DEVICES.contains(&name) {
        Ok(name.to_string())
    } else {
        Err(format!(
            "unknown device \"{name}\"; available devices: {}",
            AVAILABLE_DEVICES.join(", ")
        ))
    }
}

/// The reference model as a device.
pub struct ModelDevice {
    core: Core,
}

fn failed(op: impl Into<String>, e: impl std::fmt::Display) -> DeviceError {
    DeviceError::Failed {
        device: "model",
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

    /// The underlying model (for tests that need traces etc.).
    pub fn core(&self) -> &Core {
        &self.core
    }
}

impl Device for ModelDevice {
    fn name(&self) -> &'static str {
        "model"
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
