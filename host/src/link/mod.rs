//! The link to a core: byte transports, the protocol device on top of them,
//! and the virtual board that serves the reference device on a pty.
//!
//! See docs/host.md for the architecture and the retransmission algorithm.

pub mod protocol;
pub mod rtl;
pub mod serve;
pub mod transport;

pub use protocol::{LinkOptions, LinkStats, ProtocolDevice};
pub use rtl::{RtlByteDevice, RtlTransport, DEFAULT_RTL_MODEL};
pub use serve::{serve, ByteDevice, ServeOptions, ServeStats};
pub use transport::{
    FaultConfig, FaultCounts, FaultInjector, FaultyTransport, LinkError, ModelTransport,
    SerialTransport, Transport,
};
