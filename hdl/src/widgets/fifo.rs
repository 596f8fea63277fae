//! [`Fifo`]: a synchronous first-word-fall-through FIFO on a rust-hdl `RAM`.
//!
//! `2^A` entries; pointers have `AP1 = A + 1` bits (the extra bit tells full from
//! empty; stable Rust cannot compute `A + 1` in a type, so both are parameters and the
//! constructor checks them).
//!
//! * Write side: `write && !full` stores `data_in` at this edge. A write while full is
//!   dropped (the caller sees `full` and can count it).
//! * Read side: `data_out` is valid whenever `!empty` (first word fall through);
//!   `read && !empty` pops it at this edge. A read while empty is ignored.
//! * Latency: a word written at edge k is visible (`empty` low, `data_out` valid) after
//!   edge k + 2. `full` falls the cycle after a pop.
//!
//! The RAM has a registered read port, so its read address is the *next* read
//! pointer; `empty` compares against a one-cycle-delayed write pointer so that a word
//! is never presented before the RAM has read it back.

use rust_hdl::prelude::*;

/// Synchronous FWFT FIFO of `2^A` words of type `D` (`AP1` must equal `A + 1`).
#[derive(LogicBlock)]
pub struct Fifo<D: Synth, const A: usize, const AP1: usize> {
    /// Clock (both sides).
    pub clock: Signal<In, Clock>,
    /// Push `data_in` at this edge (ignored when `full`).
    pub write: Signal<In, Bit>,
    /// Word to push.
    pub data_in: Signal<In, D>,
    /// No room: a write now would be dropped.
    pub full: Signal<Out, Bit>,
    /// Pop `data_out` at this edge (ignored when `empty`).
    pub read: Signal<In, Bit>,
    /// Oldest word; valid when `!empty`.
    pub data_out: Signal<Out, D>,
    /// Nothing to read.
    pub empty: Signal<Out, Bit>,
    ram: RAM<D, A>,
    write_ptr: DFF<Bits<AP1>>,
    write_ptr_delayed: DFF<Bits<AP1>>,
    read_ptr: DFF<Bits<AP1>>,
    can_read: Signal<Local, Bit>,
    can_write: Signal<Local, Bit>,
    read_ptr_next: Signal<Local, Bits<AP1>>,
    ptr_one: Constant<Bits<AP1>>,
    /// `write_ptr ^ read_ptr` when full: only the wrap bit differs.
    full_pattern: Constant<Bits<AP1>>,
}

impl<D: Synth, const A: usize, const AP1: usize> Default for Fifo<D, A, AP1> {
    fn default() -> Self {
        assert_eq!(AP1, A + 1, "Fifo<D, A, AP1> needs AP1 = A + 1");
        Self {
            clock: Default::default(),
            write: Default::default(),
            data_in: Default::default(),
            full: Default::default(),
            read: Default::default(),
            data_out: Default::default(),
            empty: Default::default(),
            ram: Default::default(),
            write_ptr: Default::default(),
            write_ptr_delayed: Default::default(),
            read_ptr: Default::default(),
            can_read: Default::default(),
            can_write: Default::default(),
            read_ptr_next: Default::default(),
            ptr_one: crate::constant(1),
            full_pattern: crate::constant(1 << A),
        }
    }
}

impl<D: Synth, const A: usize, const AP1: usize> Fifo<D, A, AP1> {
    /// Number of words the FIFO holds.
    pub const DEPTH: usize = 1 << A;
}

impl<D: Synth, const A: usize, const AP1: usize> Logic for Fifo<D, A, AP1> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, write_ptr, write_ptr_delayed, read_ptr);
        self.ram.read_clock.next = self.clock.val();
        self.ram.write_clock.next = self.clock.val();
        self.write_ptr_delayed.d.next = self.write_ptr.q.val();
        // The flags are computed from registers only, in statements of their own (no
        // local shared with the read/write logic): Verilator then schedules them apart
        // from the logic that reads `read`/`write`, and a parent may gate `read`/`write`
        // with `empty`/`full` without an UNOPTFLAT (false combinational loop) warning.
        self.empty.next = self.read_ptr.q.val() == self.write_ptr_delayed.q.val();
        self.full.next =
            (self.write_ptr.q.val() ^ self.read_ptr.q.val()) == self.full_pattern.val();
        // write side
        self.can_write.next =
            (self.write_ptr.q.val() ^ self.read_ptr.q.val()) != self.full_pattern.val();
        self.ram.write_address.next = self.write_ptr.q.val().get_bits::<A>(0);
        self.ram.write_data.next = self.data_in.val();
        self.ram.write_enable.next = self.write.val() & self.can_write.val();
        if self.write.val() & self.can_write.val() {
            self.write_ptr.d.next = self.write_ptr.q.val() + self.ptr_one.val();
        }
        // read side: the RAM reads the word the read pointer will point at next cycle
        self.can_read.next = self.read_ptr.q.val() != self.write_ptr_delayed.q.val();
        self.read_ptr_next.next = self.read_ptr.q.val();
        if self.read.val() & self.can_read.val() {
            self.read_ptr_next.next = self.read_ptr.q.val() + self.ptr_one.val();
        }
        self.read_ptr.d.next = self.read_ptr_next.val();
        self.ram.read_address.next = self.read_ptr_next.val().get_bits::<A>(0);
        self.data_out.next = self.ram.read_data.val();
    }
}
