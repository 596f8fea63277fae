//! [`CmpConst`]: `x > C` or `x >= C` against a constant of the configuration, as plain
//! logic.
//!
//! yosys maps every `$lt`/`$gt` (even against a constant) to a carry chain, one
//! `SB_CARRY` logic cell per bit on iCE40; against a constant the comparison is a
//! small AND/OR function of the bits, a few LUTs. The Verilog is that function,
//! written as a chain from bit 0 up (`x[i:0] > C[i:0]` from `x[i-1:0] > C[i-1:0]`),
//! which ABC packs into LUTs.

use rust_hdl::prelude::*;

/// `y = x > C` (`gt`) or `y = x >= C` (`ge`), `C` fixed at construction (any `u64`).
#[derive(Clone, Debug, LogicBlock)]
pub struct CmpConst<const N: usize> {
    pub x: Signal<In, Bits<N>>,
    pub y: Signal<Out, Bit>,
    _c: u64,
    _or_equal: bool,
}

impl<const N: usize> CmpConst<N> {
    /// `y = x > c`.
    pub fn gt(c: u64) -> Self {
        Self::new(c, false)
    }

    /// `y = x >= c`.
    pub fn ge(c: u64) -> Self {
        Self::new(c, true)
    }

    fn new(c: u64, or_equal: bool) -> Self {
        assert!((1..=64).contains(&N), "CmpConst is for 1 <= N <= 64");
        Self {
            x: Default::default(),
            y: Default::default(),
            _c: c,
            _or_equal: or_equal,
        }
    }

    /// `C` has a bit set at or above bit N: no N-bit value reaches it.
    fn out_of_reach(&self) -> bool {
        N < 64 && self._c >> N != 0
    }
}

impl<const N: usize> Logic for CmpConst<N> {
    fn update(&mut self) {
        let x = self.x.val().to_u64();
        self.y.next = if self._or_equal {
            x >= self._c
        } else {
            x > self._c
        };
    }

    fn connect(&mut self) {
        self.y.connect();
    }

    fn hdl(&self) -> Verilog {
        if self.out_of_reach() {
            return Verilog::Custom("wire unused_x = ^x;\nalways @(*) y = 1'b0;".to_string());
        }
        // e = (x[i:0] > C[i:0]), or >= : bit i of C set -> x[i] & e, clear -> x[i] | e.
        let mut e = if self._or_equal { "1'b1" } else { "1'b0" }.to_string();
        for i in 0..N {
            let xi = if N == 1 {
                "x".to_string()
            } else {
                format!("x[{i}]")
            };
            e = if self._c >> i & 1 == 1 {
                format!("({xi} & {e})")
            } else {
                format!("({xi} | {e})")
            };
        }
        Verilog::Custom(format!("always @(*) y = {e};"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_comparison() {
        for c in [0u64, 1, 5, 6, 7, 8, 15, 16, 40] {
            for (mut b, ge) in [(CmpConst::<5>::gt(c), false), (CmpConst::<5>::ge(c), true)] {
                b.connect_all();
                for x in 0..32u64 {
                    b.x.next = x.to_bits();
                    crate::core::settle(&mut b);
                    let want = if ge { x >= c } else { x > c };
                    assert_eq!(b.y.val(), want, "x={x} c={c} ge={ge}");
                }
            }
        }
    }

    /// Evaluates the emitted Verilog expression (`(x[i] & e)`, `(x[i] | e)`, `x`,
    /// `1'b0`, `1'b1`) for one input value.
    fn eval(e: &str, x: u64) -> bool {
        let e = e.trim();
        match e {
            "1'b0" => return false,
            "1'b1" => return true,
            "x" => return x & 1 == 1,
            _ => {}
        }
        let inner = e
            .strip_prefix('(')
            .and_then(|e| e.strip_suffix(')'))
            .unwrap();
        let (lhs, rest) = inner.split_once(' ').unwrap();
        let (op, rhs) = rest.split_once(' ').unwrap();
        let bit = match lhs.strip_prefix("x[") {
            Some(i) => x >> i.trim_end_matches(']').parse::<u32>().unwrap() & 1 == 1,
            None => x & 1 == 1,
        };
        match op {
            "&" => bit & eval(rhs, x),
            "|" => bit | eval(rhs, x),
            _ => panic!("unexpected operator {op} in {e}"),
        }
    }

    /// The Verilog that synthesis and Verilator see, evaluated for every input.
    #[test]
    fn the_emitted_verilog_is_the_comparison() {
        fn check<const N: usize>(c: u64) {
            for (b, ge) in [(CmpConst::<N>::gt(c), false), (CmpConst::<N>::ge(c), true)] {
                let Verilog::Custom(text) = b.hdl() else {
                    panic!("custom Verilog expected")
                };
                for x in 0..1u64 << N {
                    let want = if ge { x >= c } else { x > c };
                    let got = match text.split_once("y = ") {
                        Some((_, e)) if !text.contains("unused_x") => {
                            eval(e.trim_end_matches(';'), x)
                        }
                        _ => false,
                    };
                    assert_eq!(got, want, "N={N} x={x} c={c} ge={ge}: {text}");
                }
            }
        }
        for c in [0u64, 1, 2, 5, 6, 7, 8, 15, 16, 40, 255, 256] {
            check::<1>(c);
            check::<5>(c);
            check::<8>(c);
        }
    }
}
