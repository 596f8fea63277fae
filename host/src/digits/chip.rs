//! The small device interface the digits workflow needs, and its
//! implementation for the reference model [`neurofab_sim::Core`].
//!
//! The workflow changes neuron parameters and the global STDP parameters
//! between the phases of a presentation, which the host's `Device` trait does
//! not offer (yet). Every method maps onto one command of the wire protocol
//! (docs/protocol.md): `RESET`, `WRITE_NEURON_PARAMS`, `WRITE_STDP`,
//! `WRITE_WEIGHTS`, `WRITE_MASK`, `STEP`/`RUN`, `READ_WEIGHTS`, so a serial
//! board or the RTL simulation can implement it the same way.

use neurofab_proto::{
    Command, CoreShape, NeuronParams, Reply, StdpParams, MAX_NEURON_PARAMS_PER_FRAME,
    NEURON_PARAMS_LEN, NEURON_RANGE_LEN,
};
use neurofab_sim::Core;

use super::DigitsError;
use crate::compile::CompiledNetwork;
use crate::device::{Device, DeviceError};
use crate::link::protocol::command_name;
use crate::link::transport::Transport;
use crate::link::ProtocolDevice;

/// What the workflow uploads at the start: everything a full reset clears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreSetup {
    pub shape: CoreShape,
    /// One record per neuron (`shape.neurons` of them).
    pub neuron_params: Vec<NeuronParams>,
    pub stdp: StdpParams,
    /// Row-major `(M+N) × N`.
    pub weights: Vec<i16>,
    /// Row-major `(M+N) × N`.
    pub plastic: Vec<bool>,
}

/// A neurofab core the digits workflow can train and test on.
pub trait LearningCore {
    /// How the core is named in messages.
    fn name(&self) -> &str;
    /// The core's shape (must equal the setup's).
    fn shape(&self) -> CoreShape;
    /// Full reset, then parameters, STDP parameters, weights and masks, then a state reset.
    fn load(&mut self, setup: &CoreSetup) -> Result<(), DigitsError>;
    /// Writes the parameters of neurons `first..first + params.len()`.
    fn set_neuron_params(&mut self, first: u16, params: &[NeuronParams])
        -> Result<(), DigitsError>;
    /// Writes the global STDP parameters (learning on/off included).
    fn set_stdp(&mut self, p: StdpParams) -> Result<(), DigitsError>;
    /// State reset (spec §5): potentials, currents, traces; weights kept.
    fn reset_state(&mut self) -> Result<(), DigitsError>;
    /// One step with the given inputs; the neurons that fired, ascending.
    fn step(&mut self, inputs: &[u16]) -> Result<&[u16], DigitsError>;
    /// Runs one step per element of `train` and calls `on_fired(t, fired)`
    /// after each. Devices behind a link override this to pipeline the steps.
    fn run(
        &mut self,
        train: &[Vec<u16>],
        on_fired: &mut dyn FnMut(u32, &[u16]),
    ) -> Result<(), DigitsError> {
        for (t, inputs) in train.iter().enumerate() {
            let fired = self.step(inputs)?;
            on_fired(t as u32, fired);
        }
        Ok(())
    }
    /// The whole weight matrix, row-major `(M+N) × N`.
    fn weights(&mut self) -> Result<Vec<i16>, DigitsError>;
}

fn model_err(op: &str, e: impl std::fmt::Display) -> DigitsError {
    DigitsError::Core(format!("model: {op}: {e}"))
}

impl LearningCore for Core {
    fn name(&self) -> &str {
        "model"
    }

    fn shape(&self) -> CoreShape {
        Core::shape(self)
    }

    fn load(&mut self, setup: &CoreSetup) -> Result<(), DigitsError> {
        if Core::shape(self) != setup.shape {
            *self = Core::new(setup.shape).map_err(|e| model_err("create core", e))?;
        }
        self.full_reset();
        LearningCore::set_neuron_params(self, 0, &setup.neuron_params)?;
        LearningCore::set_stdp(self, setup.stdp)?;
        let cols = setup.shape.neurons as usize;
        for (k, (&w, &p)) in setup.weights.iter().zip(&setup.plastic).enumerate() {
            let (s, n) = ((k / cols) as u16, (k % cols) as u16);
            if w != 0 {
                self.set_weight(s, n, w)
                    .map_err(|e| model_err("set weight", e))?;
            }
            if p {
                self.set_plastic(s, n, true)
                    .map_err(|e| model_err("set plastic", e))?;
            }
        }
        Core::reset_state(self);
        Ok(())
    }

    fn set_neuron_params(
        &mut self,
        first: u16,
        params: &[NeuronParams],
    ) -> Result<(), DigitsError> {
        for (k, p) in params.iter().enumerate() {
            Core::set_neuron_params(self, first + k as u16, *p)
                .map_err(|e| model_err("set neuron params", e))?;
        }
        Ok(())
    }

    fn set_stdp(&mut self, p: StdpParams) -> Result<(), DigitsError> {
        Core::set_stdp(self, p).map_err(|e| model_err("set STDP params", e))
    }

    fn reset_state(&mut self) -> Result<(), DigitsError> {
        Core::reset_state(self);
        Ok(())
    }

    fn step(&mut self, inputs: &[u16]) -> Result<&[u16], DigitsError> {
        Core::step(self, inputs).map_err(|e| model_err("step", e))
    }

    fn weights(&mut self) -> Result<Vec<i16>, DigitsError> {
        Ok(Core::weights(self).to_vec())
    }
}

/// Any core behind the wire protocol (`proto-model`, a serial board, and the
/// Verilator RTL through `RtlTransport`): the upload goes through
/// [`Device::load`], the phase switches are `WRITE_NEURON_PARAMS` and
/// `WRITE_STDP` frames, steps and read-back use the [`Device`] methods.
impl<T: Transport> LearningCore for ProtocolDevice<T> {
    fn name(&self) -> &str {
        Device::name(self)
    }

    fn shape(&self) -> CoreShape {
        Device::shape(self)
    }

    fn load(&mut self, setup: &CoreSetup) -> Result<(), DigitsError> {
        let net = CompiledNetwork {
            shape: setup.shape,
            dt_ms: 1.0,
            lsb_mv: 1.0 / 256.0,
            steps: 0,
            seed: 0,
            neuron_params: setup.neuron_params.clone(),
            stdp: setup.stdp,
            weights: setup.weights.clone(),
            plastic: setup.plastic.clone(),
            inputs: Default::default(),
            populations: Vec::new(),
            input_groups: Vec::new(),
            pattern_members: Vec::new(),
            report: Default::default(),
        };
        Device::load(self, &net).map_err(dev_err)
    }

    fn set_neuron_params(
        &mut self,
        first: u16,
        params: &[NeuronParams],
    ) -> Result<(), DigitsError> {
        let caps = ProtocolDevice::capabilities(self);
        let per_frame = MAX_NEURON_PARAMS_PER_FRAME
            .min((caps.max_payload as usize - NEURON_RANGE_LEN) / NEURON_PARAMS_LEN)
            .max(1);
        for (c, chunk) in params.chunks(per_frame).enumerate() {
            let cmd = Command::WriteNeuronParams {
                first: first + (c * per_frame) as u16,
                params: chunk.to_vec(),
            };
            expect_ack(self, &cmd)?;
        }
        Ok(())
    }

    fn set_stdp(&mut self, p: StdpParams) -> Result<(), DigitsError> {
        expect_ack(self, &Command::WriteStdp(p))
    }

    fn reset_state(&mut self) -> Result<(), DigitsError> {
        Device::reset_state(self).map_err(dev_err)
    }

    fn step(&mut self, inputs: &[u16]) -> Result<&[u16], DigitsError> {
        Device::step(self, inputs).map_err(dev_err)
    }

    fn weights(&mut self) -> Result<Vec<i16>, DigitsError> {
        Device::weights(self).map_err(dev_err)
    }
}

fn dev_err(e: DeviceError) -> DigitsError {
    DigitsError::Core(e.to_string())
}

fn expect_ack<T: Transport>(d: &mut ProtocolDevice<T>, cmd: &Command) -> Result<(), DigitsError> {
    match d.request(cmd).map_err(dev_err)? {
        Reply::Ack { .. } => Ok(()),
        other => Err(DigitsError::Core(format!(
            "{}: {}: unexpected reply type {:#04x}",
            Device::name(d),
            command_name(cmd.frame_type()),
            other.frame_type()
        ))),
    }
}
