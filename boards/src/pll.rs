//! PLL parameter calculation for the three families, in exact integer arithmetic.
//!
//! The searches follow the vendor rules and the open tools (`icepll` for iCE40,
//! `ecppll` for ECP5), so the divisors agree with what those tools print (checked by the
//! tests when the tools are installed). Board files record the chosen settings; the
//! loader recomputes the output frequency from the recorded divisors and refuses a file
//! whose `out_hz` does not match.

use serde::{Deserialize, Serialize};

/// PLL settings of one board, tagged by the primitive the wrapper instantiates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "primitive")]
pub enum Pll {
    /// iCE40 `SB_PLL40_PAD` (input straight from a PLL-capable pad) or `SB_PLL40_CORE`
    /// (input from the fabric/global network); SIMPLE feedback:
    /// `f_out = f_in · (DIVF+1) / ((DIVR+1) · 2^DIVQ)`.
    #[serde(rename = "SB_PLL40_PAD", alias = "SB_PLL40_CORE")]
    Ice40 {
        /// `true` for `SB_PLL40_PAD`, `false` for `SB_PLL40_CORE`.
        #[serde(default)]
        pad: bool,
        divr: u8,
        divf: u8,
        divq: u8,
        filter_range: u8,
        out_hz: u32,
    },
    /// ECP5 `EHXPLLL`, feedback from CLKOP: `f_out = f_in · CLKFB_DIV / CLKI_DIV`,
    /// `f_vco = f_out · CLKOP_DIV`.
    #[serde(rename = "EHXPLLL")]
    Ecp5 {
        clki_div: u8,
        clkfb_div: u8,
        clkop_div: u8,
        clkop_cphase: u8,
        out_hz: u32,
    },
    /// 7-series `MMCME2_BASE`: `f_vco = f_in · MULT / DIVCLK`, `f_out = f_vco / CLKOUT0_DIVIDE`.
    #[serde(rename = "MMCME2_BASE")]
    Mmcm {
        mult: u8,
        divclk: u8,
        clkout0_divide: u8,
        out_hz: u32,
    },
}

impl Pll {
    /// The output frequency the divisors produce from `in_hz` (exact, rounded to Hz).
    pub fn output_hz(&self, in_hz: u32) -> f64 {
        let f = in_hz as f64;
        match *self {
            Pll::Ice40 {
                divr, divf, divq, ..
            } => f * (divf as f64 + 1.0) / ((divr as f64 + 1.0) * (1u32 << divq) as f64),
            Pll::Ecp5 {
                clki_div,
                clkfb_div,
                ..
            } => f * clkfb_div as f64 / clki_div as f64,
            Pll::Mmcm {
                mult,
                divclk,
                clkout0_divide,
                ..
            } => f * mult as f64 / (divclk as f64 * clkout0_divide as f64),
        }
    }

    /// The recorded output frequency (`out_hz`).
    pub fn recorded_hz(&self) -> u32 {
        match *self {
            Pll::Ice40 { out_hz, .. } | Pll::Ecp5 { out_hz, .. } | Pll::Mmcm { out_hz, .. } => {
                out_hz
            }
        }
    }

    /// VCO frequency in Hz.
    pub fn vco_hz(&self, in_hz: u32) -> f64 {
        let f = in_hz as f64;
        match *self {
            Pll::Ice40 { divr, divf, .. } => f * (divf as f64 + 1.0) / (divr as f64 + 1.0),
            Pll::Ecp5 { clkop_div, .. } => self.output_hz(in_hz) * clkop_div as f64,
            Pll::Mmcm { mult, divclk, .. } => f * mult as f64 / divclk as f64,
        }
    }

    /// Checks the divisors against the family's ranges; `Err` names the violated limit.
    pub fn check(&self, in_hz: u32) -> Result<(), String> {
        let pfd;
        let vco = self.vco_hz(in_hz) / 1e6;
        match *self {
            Pll::Ice40 {
                divr, divf, divq, ..
            } => {
                if divr > 15 || divf > 127 || !(1..=6).contains(&divq) {
                    return Err(format!(
                        "DIVR {divr} (0..=15), DIVF {divf} (0..=127), DIVQ {divq} (1..=6)"
                    ));
                }
                pfd = in_hz as f64 / 1e6 / (divr as f64 + 1.0);
                if !(10.0..=133.0).contains(&pfd) {
                    return Err(format!("PFD {pfd} MHz outside 10..133 MHz"));
                }
                if !(533.0..=1066.0).contains(&vco) {
                    return Err(format!("VCO {vco} MHz outside 533..1066 MHz"));
                }
            }
            Pll::Ecp5 {
                clki_div,
                clkfb_div,
                clkop_div,
                ..
            } => {
                if !(1..=128).contains(&clki_div)
                    || !(1..=80).contains(&clkfb_div)
                    || !(1..=128).contains(&clkop_div)
                {
                    return Err(format!(
                        "CLKI_DIV {clki_div} (1..=128), CLKFB_DIV {clkfb_div} (1..=80), CLKOP_DIV {clkop_div} (1..=128)"
                    ));
                }
                pfd = in_hz as f64 / 1e6 / clki_div as f64;
                if !(3.125..=400.0).contains(&pfd) {
                    return Err(format!("PFD {pfd} MHz outside 3.125..400 MHz"));
                }
                if !(400.0..=800.0).contains(&vco) {
                    return Err(format!("VCO {vco} MHz outside 400..800 MHz"));
                }
            }
            Pll::Mmcm {
                mult,
                divclk,
                clkout0_divide,
                ..
            } => {
                if !(2..=64).contains(&mult)
                    || !(1..=106).contains(&divclk)
                    || !(1..=128).contains(&clkout0_divide)
                {
                    return Err(format!(
                        "CLKFBOUT_MULT {mult} (2..=64), DIVCLK_DIVIDE {divclk} (1..=106), CLKOUT0_DIVIDE {clkout0_divide} (1..=128)"
                    ));
                }
                pfd = in_hz as f64 / 1e6 / divclk as f64;
                if !(10.0..=450.0).contains(&pfd) {
                    return Err(format!("PFD {pfd} MHz outside 10..450 MHz"));
                }
                if !(600.0..=1200.0).contains(&vco) {
                    return Err(format!(
                        "VCO {vco} MHz outside 600..1200 MHz (speed grade -1)"
                    ));
                }
            }
        }
        Ok(())
    }
}

fn rounded(hz: f64) -> u32 {
    hz.round() as u32
}

/// iCE40 SIMPLE-feedback search as `icepll` does it: DIVR, DIVF, DIVQ in order, first
/// strictly best output wins. `pad` selects `SB_PLL40_PAD`.
pub fn ice40(in_hz: u32, target_hz: u32, pad: bool) -> Option<Pll> {
    let fin = in_hz as f64 / 1e6;
    let target = target_hz as f64 / 1e6;
    let mut best: Option<(f64, Pll)> = None;
    for divr in 0u8..=15 {
        let fpfd = fin / (divr as f64 + 1.0);
        if !(10.0..=133.0).contains(&fpfd) {
            continue;
        }
        for divf in 0u8..=127 {
            let fvco = fpfd * (divf as f64 + 1.0);
            if !(533.0..=1066.0).contains(&fvco) {
                continue;
            }
            for divq in 1u8..=6 {
                let fout = fvco / (1u32 << divq) as f64;
                let err = (fout - target).abs();
                if best.as_ref().is_none_or(|(e, _)| err < *e) {
                    let filter_range = match fpfd {
                        f if f < 17.0 => 1,
                        f if f < 26.0 => 2,
                        f if f < 44.0 => 3,
                        f if f < 66.0 => 4,
                        f if f < 101.0 => 5,
                        _ => 6,
                    };
                    best = Some((
                        err,
                        Pll::Ice40 {
                            pad,
                            divr,
                            divf,
                            divq,
                            filter_range,
                            out_hz: rounded(fout * 1e6),
                        },
                    ));
                }
            }
        }
    }
    best.map(|(_, p)| p)
}

/// ECP5 `EHXPLLL` search as `ecppll` does it (CLKI_DIV, CLKFB_DIV, CLKOP_DIV in order;
/// smallest error, ties go to the VCO nearest 600 MHz). CLKOP_CPHASE is
/// `floor(CLKOP_DIV / 2) - 1` (ecppll prints the same up to its float rounding; with
/// CLKOP feedback the phase does not change the frequency).
pub fn ecp5(in_hz: u32, target_hz: u32) -> Option<Pll> {
    let fin = in_hz as f64 / 1e6;
    let target = target_hz as f64 / 1e6;
    let mut best: Option<(f64, f64, Pll)> = None;
    for clki_div in 1u8..=128 {
        let fpfd = fin / clki_div as f64;
        if !(3.125..=400.0).contains(&fpfd) {
            continue;
        }
        for clkfb_div in 1u8..=80 {
            for clkop_div in 1u8..=128 {
                let fvco = fpfd * clkfb_div as f64 * clkop_div as f64;
                if !(400.0..=800.0).contains(&fvco) {
                    continue;
                }
                let fout = fvco / clkop_div as f64;
                let err = (fout - target).abs();
                let better = match &best {
                    None => true,
                    Some((e, v, _)) => {
                        err < *e - 1e-9
                            || ((err - *e).abs() <= 1e-9
                                && (fvco - 600.0).abs() < (v - 600.0).abs())
                    }
                };
                if better {
                    best = Some((
                        err,
                        fvco,
                        Pll::Ecp5 {
                            clki_div,
                            clkfb_div,
                            clkop_div,
                            clkop_cphase: (clkop_div / 2).saturating_sub(1),
                            out_hz: rounded(fout * 1e6),
                        },
                    ));
                }
            }
        }
    }
    best.map(|(_, _, p)| p)
}

/// 7-series MMCM (integer multiply): smallest error, then the highest VCO (less jitter).
pub fn mmcm(in_hz: u32, target_hz: u32) -> Option<Pll> {
    let fin = in_hz as f64 / 1e6;
    let target = target_hz as f64 / 1e6;
    let mut best: Option<(f64, f64, Pll)> = None;
    for divclk in 1u8..=106 {
        let fpfd = fin / divclk as f64;
        if !(10.0..=450.0).contains(&fpfd) {
            continue;
        }
        for mult in 2u8..=64 {
            let fvco = fpfd * mult as f64;
            if !(600.0..=1200.0).contains(&fvco) {
                continue;
            }
            for clkout0_divide in 1u8..=128 {
                let fout = fvco / clkout0_divide as f64;
                let err = (fout - target).abs();
                let better = match &best {
                    None => true,
                    Some((e, v, _)) => err < *e - 1e-9 || ((err - *e).abs() <= 1e-9 && fvco > *v),
                };
                if better {
                    best = Some((
                        err,
                        fvco,
                        Pll::Mmcm {
                            mult,
                            divclk,
                            clkout0_divide,
                            out_hz: rounded(fout * 1e6),
                        },
                    ));
                }
            }
        }
    }
    best.map(|(_, _, p)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ice40_matches_icepll_reference_values() {
        // `icepll -i 12 -o 24`: DIVR 0, DIVF 63, DIVQ 5, FILTER_RANGE 1.
        let p = ice40(12_000_000, 24_000_000, true).unwrap();
        assert_eq!(
            p,
            Pll::Ice40 {
                pad: true,
                divr: 0,
                divf: 63,
                divq: 5,
                filter_range: 1,
                out_hz: 24_000_000
            }
        );
        p.check(12_000_000).unwrap();
    }

    #[test]
    fn ecp5_matches_ecppll_reference_values() {
        // `ecppll -i 25 -o 50`: CLKI_DIV 1, CLKFB_DIV 2, CLKOP_DIV 12 (VCO 600).
        let p = ecp5(25_000_000, 50_000_000).unwrap();
        assert_eq!(
            p,
            Pll::Ecp5 {
                clki_div: 1,
                clkfb_div: 2,
                clkop_div: 12,
                clkop_cphase: 5,
                out_hz: 50_000_000
            }
        );
        // `ecppll -i 25 -o 48` cannot hit 48: 46.875 MHz (CLKI_DIV 8, CLKFB_DIV 15, CLKOP_DIV 13).
        match ecp5(25_000_000, 48_000_000).unwrap() {
            Pll::Ecp5 {
                clki_div: 8,
                clkfb_div: 15,
                clkop_div: 13,
                out_hz: 46_875_000,
                ..
            } => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn mmcm_makes_100_mhz_from_12() {
        let p = mmcm(12_000_000, 100_000_000).unwrap();
        assert_eq!(p.output_hz(12_000_000), 100e6);
        p.check(12_000_000).unwrap();
    }
}
