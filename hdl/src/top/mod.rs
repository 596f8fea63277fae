//! Top-level designs.

pub mod loopback;
pub mod neurocore;

pub use loopback::UartLoopback;
pub use neurocore::NeuroCore;
