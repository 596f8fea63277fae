//! [`Reg`]: a D flip-flop (vector) that powers up to `T::default()`.
//!
//! Drop-in replacement for rust-hdl's `DFF` (same ports `d`, `q`, `clock`, works with
//! `dff_setup!`). Two differences in the Verilog, both for `verilator -Wall`:
//!
//! * the power-up value is written with the register's exact width (`DFF` writes
//!   `q = 64'h0;` for an enum state, a WIDTH warning);
//! * the module is emitted in rust-hdl's "wrapper" mode, which does not repeat the
//!   `localparam`s of an enum type inside the register module (`DFF` does, and
//!   Verilator reports every one of them as UNUSEDPARAM).
//!
//! Use it for every FSM state register (`Reg<MyState>`); for `Bits<N>` it is
//! equivalent to `DFF<Bits<N>>`.

use rust_hdl::prelude::*;

/// A rising-edge register with power-up value `T::default()`.
#[derive(Clone, Debug, LogicBlock, Default)]
pub struct Reg<T: Synth> {
    /// Next value, taken at the rising edge of `clock`.
    pub d: Signal<In, T>,
    /// Current value.
    pub q: Signal<Out, T>,
    /// Clock.
    pub clock: Signal<In, Clock>,
}

/// `T::default()` as a Verilog literal of exactly `T::BITS` bits.
fn init_literal<T: Synth>() -> String {
    let text = T::default().verilog().to_string(); // e.g. "64'h0" for an enum
    let (_, digits) = text
        .split_once('\'')
        .expect("rust-hdl literal has the form <width>'<base><digits>");
    format!("{}'{}", T::BITS, digits)
}

impl<T: Synth> Logic for Reg<T> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            self.q.next = self.d.val();
        }
    }

    fn connect(&mut self) {
        self.q.connect();
    }

    fn hdl(&self) -> Verilog {
        let bits = T::BITS;
        let range = if bits == 1 {
            String::new()
        } else {
            format!("[{}:0] ", bits - 1)
        };
        Verilog::Wrapper(Wrapper {
            code: format!(
                "reg {range}q$reg;\n\
                 initial q$reg = {init};\n\
                 always @(posedge clock) q$reg <= d;\n\
                 assign q = q$reg;\n",
                init = init_literal::<T>()
            ),
            cores: String::new(),
        })
    }

    fn timing(&self) -> Vec<TimingInfo> {
        vec![TimingInfo {
            name: "reg".into(),
            clock: "clock".into(),
            inputs: vec!["d".into()],
            outputs: vec!["q".into()],
        }]
    }
}
