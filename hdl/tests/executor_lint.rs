//! The executor, its data register and whole generated cores lint clean under
//! `verilator --lint-only -Wall` (zero warnings, no waivers).

use neurofab_hdl::core::{verilog_of, Executor};
use neurofab_hdl::lint_with_verilator;
use neurofab_hdl::widgets::ByteGather;
use neurofab_proto::{CoreConfig, CoreShape};

fn lint(verilog: &str) {
    if let Err(e) = lint_with_verilator(verilog, "top") {
        panic!("{e}");
    }
}

#[test]
fn byte_gather_lints_clean() {
    lint(&verilog_of(ByteGather::<64>::default()));
    lint(&verilog_of(ByteGather::<112>::default()));
}

#[test]
fn executor_lints_clean() {
    for (n, m, w) in [(256, 64, 8), (5, 3, 12), (40, 0, 2)] {
        let cfg = CoreConfig::with_shape(CoreShape {
            neurons: n,
            inputs: m,
            weight_bits: w,
        });
        lint(&verilog_of(Executor::new(&cfg)));
    }
}

#[test]
fn neurocore_lints_clean() {
    let cfg = CoreConfig {
        lanes: 2,
        ..CoreConfig::with_shape(CoreShape {
            neurons: 5,
            inputs: 3,
            weight_bits: 6,
        })
    };
    let core = neurofab_hdl::generate_core(&cfg).unwrap();
    lint(&core.verilog);
}

/// The default core (N = 256, M = 64, W = 8, P = 4) and a P = 8, 16-bit-weight core: zero
/// warnings with each module in its own file (docs/rtl.md §7).
#[test]
fn default_and_wide_cores_lint_clean() {
    lint(
        &neurofab_hdl::generate_core(&CoreConfig::DEFAULT)
            .unwrap()
            .verilog,
    );
    let wide = CoreConfig {
        lanes: 8,
        ..CoreConfig::with_shape(CoreShape {
            neurons: 20,
            inputs: 9,
            weight_bits: 16,
        })
    };
    lint(&neurofab_hdl::generate_core(&wide).unwrap().verilog);
}
