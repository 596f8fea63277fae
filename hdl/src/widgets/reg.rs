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

/// The Verilog range of a `w`-bit declaration with its trailing space (`"[w-1:0] "`),
/// empty for a 1-bit declaration.
pub(crate) fn verilog_range(w: usize) -> String {
    if w == 1 {
        String::new()
    } else {
        format!("[{}:0] ", w - 1)
    }
}

/// The timing of a register: `d` sampled and `q` launched by `clock`.
pub(crate) fn register_timing() -> Vec<TimingInfo> {
    vec![TimingInfo {
        name: "reg".into(),
        clock: "clock".into(),
        inputs: vec!["d".into()],
        outputs: vec!["q".into()],
    }]
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
        let range = verilog_range(T::BITS);
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
        register_timing()
    }
}

/// A `Bits<N>` register that stores only its low `bits` bits; the high `N − bits` bits of
/// `q` are constant 0 (and `d`'s are ignored).
///
/// For indices, counters and addresses whose port type is sized for the spec's maxima
/// (docs/rtl.md §1: 14-bit sources, 25-bit weight addresses) but whose values, for a
/// given `CoreConfig`, fit far fewer bits: the flip-flops, and every adder, comparator
/// and mux fed only by them, are as wide as the configuration needs, while the types
/// and the kernels stay the same for every configuration. The owner chooses `bits` with
/// [`bits_for`] of the largest value the register ever holds; a value that did not fit
/// would be truncated identically in rust-hdl and in the Verilog, and the bit-exact
/// engine and co-simulation tests would see it.
#[derive(Clone, Debug, LogicBlock)]
pub struct NarrowReg<const N: usize> {
    /// Next value, taken (truncated to `bits`) at the rising edge of `clock`.
    pub d: Signal<In, Bits<N>>,
    /// Current value: the low `bits` bits, zero-extended. Powers up to 0.
    pub q: Signal<Out, Bits<N>>,
    /// Clock.
    pub clock: Signal<In, Clock>,
    _bits: usize,
}

/// Bits needed to hold every value `0..=max` (at least 1).
pub fn bits_for(max: u64) -> usize {
    (u64::BITS - max.leading_zeros()).max(1) as usize
}

impl<const N: usize> NarrowReg<N> {
    /// A register keeping `bits` (1 ..= N, N ≤ 64) low bits.
    pub fn new(bits: usize) -> Self {
        assert!(N <= 64, "NarrowReg is for N <= 64");
        assert!(
            bits >= 1 && bits <= N,
            "NarrowReg<{N}> cannot keep {bits} bits"
        );
        Self {
            d: Default::default(),
            q: Default::default(),
            clock: Default::default(),
            _bits: bits,
        }
    }

    /// A register holding every value `0..=max`.
    pub fn holding(max: u64) -> Self {
        Self::new(bits_for(max).min(N))
    }
}

impl<const N: usize> Default for NarrowReg<N> {
    fn default() -> Self {
        Self::new(N)
    }
}

impl<const N: usize> Logic for NarrowReg<N> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let mask = if self._bits == 64 {
                u64::MAX
            } else {
                (1u64 << self._bits) - 1
            };
            self.q.next = (self.d.val().to_u64() & mask).to_bits();
        }
    }

    fn connect(&mut self) {
        self.q.connect();
    }

    fn hdl(&self) -> Verilog {
        let k = self._bits;
        let (low, high, unused) = if k == N {
            ("d".to_string(), "q$reg".to_string(), String::new())
        } else {
            // k < N, so N >= 2 and `d` is a vector.
            (
                format!("d[{}:0]", k - 1),
                format!("{{{}'b0, q$reg}}", N - k),
                format!("wire unused_high = ^d[{}:{}];\n", N - 1, k),
            )
        };
        Verilog::Wrapper(Wrapper {
            code: format!(
                "reg {r}q$reg;\n\
                 initial q$reg = {k}'h0;\n\
                 always @(posedge clock) q$reg <= {low};\n\
                 assign q = {high};\n\
                 {unused}",
                r = verilog_range(k),
            ),
            cores: String::new(),
        })
    }

    fn timing(&self) -> Vec<TimingInfo> {
        register_timing()
    }
}

/// A `Bits<N>` register with a load enable (`q` keeps its value while `load` is low) and
/// **no power-up value**: `q` is undefined until the first load (0 in rust-hdl's
/// simulation and, by default, in Verilator's).
///
/// For multiplier product registers (`hdl::core::NeuronUpdatePipe`). yosys's `ice40_dsp`
/// moves a register on a whole `$mul` output into the `SB_MAC16`, but (yosys 0.23) only a
/// register without an initial value, and only with a load enable into the output register
/// (a plain one goes to the internal 8 × 8 pipeline registers, after which the 16 × 16 sum
/// is still combinational). The output register's clock-to-out is 2.0 ns (iCEcube2 timing
/// library, `SB_MAC16_MUL_U_16X16_IM_BYPASS`), and it costs no logic cell. Its owner never
/// uses `q` before a load, so the missing power-up value is never seen.
#[derive(Clone, Debug, LogicBlock, Default)]
pub struct LoadReg<const N: usize> {
    /// Next value, taken at the rising edge of `clock` when `load` is high.
    pub d: Signal<In, Bits<N>>,
    pub load: Signal<In, Bit>,
    /// Current value.
    pub q: Signal<Out, Bits<N>>,
    /// Clock.
    pub clock: Signal<In, Clock>,
}

impl<const N: usize> Logic for LoadReg<N> {
    fn update(&mut self) {
        if self.clock.pos_edge() && self.load.val() {
            self.q.next = self.d.val();
        }
    }

    fn connect(&mut self) {
        self.q.connect();
    }

    fn hdl(&self) -> Verilog {
        let range = verilog_range(N);
        Verilog::Wrapper(Wrapper {
            code: format!(
                "reg {range}q$reg;\n\
                 always @(posedge clock) if (load) q$reg <= d;\n\
                 assign q = q$reg;\n"
            ),
            cores: String::new(),
        })
    }

    fn timing(&self) -> Vec<TimingInfo> {
        register_timing()
    }
}
