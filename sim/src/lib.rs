//! Bit-exact reference model of the neurofab core (docs/core-spec.md).
//!
//! [`Core`] implements the spec's §2–§5 exactly; the RTL and the host's
//! network compiler are checked against it.

pub use neurofab_proto::{CoreShape, NeuronParams, NeuronState, ParamError, StdpParams};

pub mod model;
pub use model::{Core, EventCounters, ModelError};

pub mod server;
pub use server::ModelServer;

pub mod rtl;
pub use rtl::{RtlError, RtlSim, UartLink};
