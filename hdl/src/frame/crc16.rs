//! Byte-wide CRC-16/IBM-3740 (poly 0x1021, init 0xFFFF, MSB-first, no reflection,
//! xorout 0).
//!
//! [`Crc16Next`] is the combinational next-state function `crc' = f(crc, byte)`: a chain
//! of eight one-bit LFSR stages ([`Crc16Bit`]), each `c' = (c << 1) ^ (poly if c[15] ^ bit)`,
//! fed with the byte MSB first. The polynomial is a [`Constant`], so any 16-bit MSB-first
//! CRC with xorout 0 works by changing the constructor arguments.
//!
//! [`Crc16`] registers it: one byte per clock, with a synchronous `clear` to the init value.

use rust_hdl::prelude::*;

use super::{CRC_INIT, CRC_POLY};

/// One bit of an MSB-first 16-bit LFSR CRC (combinational).
#[derive(LogicBlock)]
pub struct Crc16Bit {
    /// CRC before this bit.
    pub crc_in: Signal<In, Bits<16>>,
    /// The message bit.
    pub msg_bit: Signal<In, Bit>,
    /// CRC after this bit.
    pub crc_out: Signal<Out, Bits<16>>,
    poly: Constant<Bits<16>>,
}

impl Crc16Bit {
    /// A stage for generator polynomial `poly` (MSB-first, x^16 implicit).
    pub fn new(poly: u16) -> Self {
        Self {
            crc_in: Default::default(),
            msg_bit: Default::default(),
            crc_out: Default::default(),
            poly: crate::constant(poly as u64),
        }
    }
}

impl Logic for Crc16Bit {
    #[hdl_gen]
    fn update(&mut self) {
        // `<<` keeps the operand width (16 bits) in both rust-hdl and Verilog.
        if self.crc_in.val().get_bit(15) ^ self.msg_bit.val() {
            self.crc_out.next = (self.crc_in.val() << 1) ^ self.poly.val();
        } else {
            self.crc_out.next = self.crc_in.val() << 1;
        }
    }
}

/// Combinational byte update: `crc_out = CRC(crc_in, data)`. Zero cycles; the logic depth
/// is eight XOR stages.
#[derive(LogicBlock)]
pub struct Crc16Next {
    /// Current CRC register.
    pub crc_in: Signal<In, Bits<16>>,
    /// Next message byte (processed MSB first, as IBM-3740 specifies).
    pub data: Signal<In, Bits<8>>,
    /// CRC after `data`.
    pub crc_out: Signal<Out, Bits<16>>,
    stages: [Crc16Bit; 8],
}

impl Crc16Next {
    /// Byte update for generator polynomial `poly`.
    pub fn new(poly: u16) -> Self {
        Self {
            crc_in: Default::default(),
            data: Default::default(),
            crc_out: Default::default(),
            stages: std::array::from_fn(|_| Crc16Bit::new(poly)),
        }
    }
}

impl Default for Crc16Next {
    /// The protocol's CRC ([`CRC_POLY`]).
    fn default() -> Self {
        Self::new(CRC_POLY)
    }
}

impl Logic for Crc16Next {
    #[hdl_gen]
    fn update(&mut self) {
        self.stages[0].crc_in.next = self.crc_in.val();
        for i in 1..8 {
            self.stages[i].crc_in.next = self.stages[i - 1].crc_out.val();
        }
        // Stage i sees message bit 7 - i: MSB first.
        for i in 0..8 {
            self.stages[i].msg_bit.next = self.data.val().get_bit(7 - i);
        }
        self.crc_out.next = self.stages[7].crc_out.val();
    }
}

/// Registered CRC unit: one byte per clock.
///
/// * `clear` (priority): `crc <= init` at the next edge.
/// * `strobe`: `crc <= CRC(crc, data)` at the next edge.
/// * `crc`: the register; after the frame's last byte (type..payload) it equals the
///   CRC the sender appends.
#[derive(LogicBlock)]
pub struct Crc16 {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Reset the register to the init value (wins over `strobe`).
    pub clear: Signal<In, Bit>,
    /// Fold `data` into the CRC at this edge.
    pub strobe: Signal<In, Bit>,
    /// Message byte.
    pub data: Signal<In, Bits<8>>,
    /// Current CRC value.
    pub crc: Signal<Out, Bits<16>>,
    step: Crc16Next,
    state: DFFWithInit<Bits<16>>,
    init: Constant<Bits<16>>,
}

impl Crc16 {
    /// A unit for polynomial `poly` and initial value `init` (power-up value too).
    pub fn new(poly: u16, init: u16) -> Self {
        Self {
            clock: Default::default(),
            clear: Default::default(),
            strobe: Default::default(),
            data: Default::default(),
            crc: Default::default(),
            step: Crc16Next::new(poly),
            state: DFFWithInit::new((init as u64).to_bits()),
            init: crate::constant(init as u64),
        }
    }
}

impl Default for Crc16 {
    /// CRC-16/IBM-3740 ([`CRC_POLY`], [`CRC_INIT`]).
    fn default() -> Self {
        Self::new(CRC_POLY, CRC_INIT)
    }
}

impl Logic for Crc16 {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, state);
        self.step.crc_in.next = self.state.q.val();
        self.step.data.next = self.data.val();
        if self.clear.val() {
            self.state.d.next = self.init.val();
        } else if self.strobe.val() {
            self.state.d.next = self.step.crc_out.val();
        }
        self.crc.next = self.state.q.val();
    }
}
