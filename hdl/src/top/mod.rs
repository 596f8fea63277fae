//! Top-level designs.

pub mod loopback;

pub use loopback::UartLoopback;
