//! Small building blocks with lint-clean Verilog (rust-hdl's own `DFF` and
//! `SynchronousFIFO` make Verilator `-Wall` warn; see docs/hdl.md).

pub mod cmp;
pub mod fifo;
pub mod gather;
pub mod ram;
pub mod reg;
pub mod spram;

pub use cmp::CmpConst;
pub use fifo::Fifo;
pub use gather::{ByteGather, ByteSelect};
pub use ram::Ram;
pub use reg::{bits_for, LoadReg, NarrowReg, Reg};
pub use spram::Spram;
