//! The board top `neurofab_board` around the generated core (module `top`), and the
//! pin constraints (PCF for iCE40, LPF for ECP5, XDC for Artix-7).
//!
//! Wrapper, per family:
//! * clock: the board oscillator into the PLL (`SB_PLL40_PAD`/`SB_PLL40_CORE`, `EHXPLLL`,
//!   `MMCME2_BASE`); the PLL output is the core clock, so `CoreConfig::clock_hz` must equal
//!   the PLL output (the UART divisor is computed from it).
//! * power-on: the core has no reset port; it starts from its register init values and
//!   clears its memories itself. The wrapper therefore keeps the core's clock stopped
//!   until the PLL has been locked for 2^16 cycles: an enable flop on the falling edge
//!   gates the clock (iCE40: AND + `SB_GB`, ECP5: AND, promoted to a global by nextpnr;
//!   Artix-7: `BUFGCE`), so the core never sees a short or unlocked clock pulse.
//! * UART pins straight to `rxd`/`txd` (the core synchronises `rxd` itself).
//! * LEDs: activity/busy/error pulses stretched to 40..80 ms by one shared prescaler
//!   (`neurofab_led_stretch`); `dropped` is sticky.

use crate::board::{Board, Family, LedRole};
use crate::pll::Pll;

/// Which design sits inside the wrapper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inner {
    /// The neurofab core: ports clock, rxd, txd, active, busy, dropped, uart_error.
    Core,
    /// The UART loopback bring-up top: ports clock, rxd, txd, overflow, framing_error.
    Loopback,
}

/// Bits of the LED stretcher's prescaler: a pulse shows for 2^bits..2^(bits+1) cycles,
/// about 40..80 ms at `clock_hz`.
pub fn stretch_bits(clock_hz: u32) -> u32 {
    let cycles = (clock_hz as u64 / 24).max(2);
    64 - (cycles - 1).leading_zeros()
}

fn pll_instance(board: &Board) -> String {
    let mhz = |hz: u32| format!("{}", hz as f64 / 1e6);
    match board.pll {
        Pll::Ice40 {
            pad,
            divr,
            divf,
            divq,
            filter_range,
            ..
        } => {
            let (prim, input) = if pad {
                ("SB_PLL40_PAD", ".PACKAGEPIN(clk_in)")
            } else {
                ("SB_PLL40_CORE", ".REFERENCECLK(clk_in)")
            };
            format!(
                "    wire pll_clk, pll_lock;\n\
                 \x20   {prim} #(\n\
                 \x20       .FEEDBACK_PATH(\"SIMPLE\"),\n\
                 \x20       .DIVR(4'd{divr}),\n\
                 \x20       .DIVF(7'd{divf}),\n\
                 \x20       .DIVQ(3'd{divq}),\n\
                 \x20       .FILTER_RANGE(3'd{filter_range})\n\
                 \x20   ) pll (\n\
                 \x20       {input},\n\
                 \x20       .PLLOUTGLOBAL(pll_clk),\n\
                 \x20       .LOCK(pll_lock),\n\
                 \x20       .RESETB(1'b1),\n\
                 \x20       .BYPASS(1'b0)\n\
                 \x20   );\n"
            )
        }
        Pll::Ecp5 {
            clki_div,
            clkfb_div,
            clkop_div,
            clkop_cphase,
            out_hz,
        } => format!(
            "    wire pll_clk, pll_lock;\n\
             \x20   (* FREQUENCY_PIN_CLKI=\"{fin}\" *)\n\
             \x20   (* FREQUENCY_PIN_CLKOP=\"{fout}\" *)\n\
             \x20   (* ICP_CURRENT=\"12\" *) (* LPF_RESISTOR=\"8\" *) (* MFG_ENABLE_FILTEROPAMP=\"1\" *) (* MFG_GMCREF_SEL=\"2\" *)\n\
             \x20   EHXPLLL #(\n\
             \x20       .PLLRST_ENA(\"DISABLED\"),\n\
             \x20       .INTFB_WAKE(\"DISABLED\"),\n\
             \x20       .STDBY_ENABLE(\"DISABLED\"),\n\
             \x20       .DPHASE_SOURCE(\"DISABLED\"),\n\
             \x20       .OUTDIVIDER_MUXA(\"DIVA\"),\n\
             \x20       .OUTDIVIDER_MUXB(\"DIVB\"),\n\
             \x20       .OUTDIVIDER_MUXC(\"DIVC\"),\n\
             \x20       .OUTDIVIDER_MUXD(\"DIVD\"),\n\
             \x20       .CLKI_DIV({clki_div}),\n\
             \x20       .CLKOP_ENABLE(\"ENABLED\"),\n\
             \x20       .CLKOP_DIV({clkop_div}),\n\
             \x20       .CLKOP_CPHASE({clkop_cphase}),\n\
             \x20       .CLKOP_FPHASE(0),\n\
             \x20       .FEEDBK_PATH(\"CLKOP\"),\n\
             \x20       .CLKFB_DIV({clkfb_div})\n\
             \x20   ) pll (\n\
             \x20       .RST(1'b0), .STDBY(1'b0), .CLKI(clk_in), .CLKOP(pll_clk), .CLKFB(pll_clk),\n\
             \x20       .CLKINTFB(), .PHASESEL0(1'b0), .PHASESEL1(1'b0), .PHASEDIR(1'b1),\n\
             \x20       .PHASESTEP(1'b1), .PHASELOADREG(1'b1), .PLLWAKESYNC(1'b0), .ENCLKOP(1'b0),\n\
             \x20       .LOCK(pll_lock)\n\
             \x20   );\n",
            fin = mhz(board.clock.hz),
            fout = mhz(out_hz),
        ),
        Pll::Mmcm {
            mult,
            divclk,
            clkout0_divide,
            ..
        } => {
            let period = 1e9 / board.clock.hz as f64;
            format!(
                "    wire pll_clk_raw, pll_clk, pll_lock, fb_out, fb_in;\n\
                 \x20   MMCME2_BASE #(\n\
                 \x20       .CLKIN1_PERIOD({period:.3}),\n\
                 \x20       .CLKFBOUT_MULT_F({mult}.0),\n\
                 \x20       .DIVCLK_DIVIDE({divclk}),\n\
                 \x20       .CLKOUT0_DIVIDE_F({clkout0_divide}.0)\n\
                 \x20   ) pll (\n\
                 \x20       .CLKIN1(clk_in), .CLKFBIN(fb_in), .CLKFBOUT(fb_out), .CLKOUT0(pll_clk_raw),\n\
                 \x20       .LOCKED(pll_lock), .PWRDWN(1'b0), .RST(1'b0),\n\
                 \x20       .CLKFBOUTB(), .CLKOUT0B(), .CLKOUT1(), .CLKOUT1B(), .CLKOUT2(), .CLKOUT2B(),\n\
                 \x20       .CLKOUT3(), .CLKOUT3B(), .CLKOUT4(), .CLKOUT5(), .CLKOUT6()\n\
                 \x20   );\n\
                 \x20   BUFG fb_buf (.I(fb_out), .O(fb_in));\n\
                 \x20   BUFG free_buf (.I(pll_clk_raw), .O(pll_clk));\n"
            )
        }
    }
}

fn clock_gate(family: Family) -> String {
    let common =
        "    // Power-on: run the core clock once the PLL has been locked for 2^16 cycles.\n\
    reg [1:0] lock_sync = 2'b00;\n\
    reg [16:0] settle = 17'd0;\n\
    reg run = 1'b0;\n\
    always @(posedge pll_clk) begin\n\
        lock_sync <= {lock_sync[0], pll_lock};\n\
        if (!lock_sync[1]) settle <= 17'd0;\n\
        else if (!settle[16]) settle <= settle + 17'd1;\n\
        run <= settle[16];\n\
    end\n";
    match family {
        Family::Ice40 => format!(
                "{common}    reg run_n = 1'b0;\n\
                 \x20   always @(negedge pll_clk) run_n <= run;\n\
                 \x20   wire core_clk;\n\
                 \x20   SB_GB core_gb (.USER_SIGNAL_TO_GLOBAL_BUFFER(pll_clk & run_n), .GLOBAL_BUFFER_OUTPUT(core_clk));\n"
            ),
        Family::Ecp5 => format!(
                "{common}    reg run_n = 1'b0;\n\
                 \x20   always @(negedge pll_clk) run_n <= run;\n\
                 \x20   wire core_clk = pll_clk & run_n;\n"
            ),
        Family::Artix7 => format!(
                "{common}    wire core_clk;\n\
                 \x20   BUFGCE core_buf (.I(pll_clk_raw), .CE(run), .O(core_clk));\n"
            ),
    }
}

/// The wrapper module `neurofab_board` for `board` around `inner`.
pub fn wrapper_verilog(board: &Board, inner: Inner) -> String {
    let mut ports = vec![
        "    input wire clk_in".to_string(),
        "    input wire uart_rx".to_string(),
        "    output wire uart_tx".to_string(),
    ];
    for led in &board.leds {
        ports.push(format!("    output wire {}", led_port(led.role)));
    }
    for tie in &board.ties {
        ports.push(format!("    output wire {}", tie.name));
    }
    let bits = stretch_bits(board.core_clock_hz());
    let (instance, activity, busy, error_pulse, sticky) = match inner {
        Inner::Core => (
            "    wire core_txd, core_active, core_busy, core_dropped, core_uart_error;\n\
             \x20   top core (\n\
             \x20       .clock(core_clk), .rxd(uart_rx), .txd(core_txd),\n\
             \x20       .active(core_active), .busy(core_busy), .dropped(core_dropped),\n\
             \x20       .uart_error(core_uart_error)\n\
             \x20   );\n",
            "core_active",
            "core_busy",
            "core_uart_error",
            "core_dropped",
        ),
        Inner::Loopback => (
            "    wire core_txd, core_overflow, core_framing_error;\n\
             \x20   top core (\n\
             \x20       .clock(core_clk), .rxd(uart_rx), .txd(core_txd),\n\
             \x20       .overflow(core_overflow), .framing_error(core_framing_error)\n\
             \x20   );\n",
            "~uart_rx",
            "~core_txd",
            "core_framing_error",
            "core_overflow",
        ),
    };
    let mut v = String::new();
    v.push_str(&format!(
        "// neurofab board top for {} ({}), generated by neurofab-boards.\n\
         // Core clock {} Hz from the {} Hz oscillator on pin {}.\n\
         module neurofab_board (\n{}\n);\n",
        board.name,
        board.description,
        board.core_clock_hz(),
        board.clock.hz,
        board.clock.pin,
        ports.join(",\n")
    ));
    v.push_str(&pll_instance(board));
    v.push_str(&clock_gate(board.family));
    v.push_str(instance);
    v.push_str("    assign uart_tx = core_txd;\n");
    v.push_str(&format!(
        "    // LEDs: activity, busy and error pulses shown for 2^{bits}..2^{bits1} cycles.\n\
         \x20   wire [2:0] led_show;\n\
         \x20   neurofab_led_stretch #(.BITS({bits})) led_stretch (\n\
         \x20       .clock(core_clk), .pulse({{{error_pulse}, {busy}, {activity}}}), .show(led_show)\n\
         \x20   );\n\
         \x20   wire show_activity = led_show[0];\n\
         \x20   wire show_busy = led_show[1];\n\
         \x20   wire show_error = {sticky} | led_show[2];\n\
         \x20   wire show_running = run;\n",
        bits1 = bits + 1
    ));
    for led in &board.leds {
        let sig = match led.role {
            LedRole::Activity => "show_activity",
            LedRole::Busy => "show_busy",
            LedRole::Error => "show_error",
            LedRole::Running => "show_running",
        };
        let inv = if led.active_low { "~" } else { "" };
        v.push_str(&format!(
            "    assign {} = {inv}{sig};\n",
            led_port(led.role)
        ));
    }
    for tie in &board.ties {
        v.push_str(&format!(
            "    assign {} = 1'b{};\n",
            tie.name,
            u8::from(tie.value)
        ));
    }
    v.push_str("endmodule\n\n");
    v.push_str(LED_STRETCH);
    v
}

/// The LED pulse stretcher: a pulse on `pulse[k]` shows on `show[k]` from the next cycle
/// for at least 2^BITS and at most 2^(BITS+1) cycles. One free-running prescaler serves
/// every LED (a down-counter per LED cost about 40 iCE40 logic cells each): `seen`
/// collects pulses until the prescaler wraps, `hold` keeps them for one more period.
pub const LED_STRETCH: &str = "\
module neurofab_led_stretch #(parameter BITS = 20, parameter K = 3) (
    input wire clock,
    input wire [K-1:0] pulse,
    output wire [K-1:0] show
);
    reg [BITS-1:0] tick = {BITS{1'b0}};
    reg [K-1:0] seen = {K{1'b0}};
    reg [K-1:0] hold = {K{1'b0}};
    wire wrap = &tick;
    always @(posedge clock) begin
        tick <= tick + {{(BITS-1){1'b0}}, 1'b1};
        seen <= wrap ? pulse : (seen | pulse);
        if (wrap) hold <= seen | pulse;
    end
    assign show = seen | hold;
endmodule
";

/// Top-level port name of an LED.
pub fn led_port(role: LedRole) -> &'static str {
    match role {
        LedRole::Activity => "led_activity",
        LedRole::Busy => "led_busy",
        LedRole::Error => "led_error",
        LedRole::Running => "led_running",
    }
}

/// Every top-level port with its pin: (port, pin, is_output).
pub fn pin_map(board: &Board) -> Vec<(String, String, bool)> {
    let mut pins = vec![
        ("clk_in".to_string(), board.clock.pin.clone(), false),
        ("uart_rx".to_string(), board.uart.rx.clone(), false),
        ("uart_tx".to_string(), board.uart.tx.clone(), true),
    ];
    for led in &board.leds {
        pins.push((led_port(led.role).to_string(), led.pin.clone(), true));
    }
    for tie in &board.ties {
        pins.push((tie.name.clone(), tie.pin.clone(), true));
    }
    pins
}

/// Constraint file name and text for the board's family.
pub fn constraints(board: &Board) -> (&'static str, String) {
    let pins = pin_map(board);
    match board.family {
        Family::Ice40 => {
            let mut s = format!("# {} pins (nextpnr-ice40 PCF)\n", board.name);
            for (port, pin, _) in &pins {
                s.push_str(&format!("set_io {port} {pin}\n"));
            }
            ("neurofab_board.pcf", s)
        }
        Family::Ecp5 => {
            let io = board.io_standard.as_deref().unwrap_or("LVCMOS33");
            let mut s = format!("# {} pins (nextpnr-ecp5 LPF)\n", board.name);
            for (port, pin, _) in &pins {
                s.push_str(&format!(
                    "LOCATE COMP \"{port}\" SITE \"{pin}\";\nIOBUF PORT \"{port}\" IO_TYPE={io};\n"
                ));
            }
            s.push_str(&format!(
                "FREQUENCY PORT \"clk_in\" {} MHZ;\n",
                board.clock.hz as f64 / 1e6
            ));
            ("neurofab_board.lpf", s)
        }
        Family::Artix7 => {
            let io = board.io_standard.as_deref().unwrap_or("LVCMOS33");
            let mut s = format!("# {} pins and clocks (Vivado XDC)\n", board.name);
            for (port, pin, _) in &pins {
                s.push_str(&format!(
                    "set_property -dict {{ PACKAGE_PIN {pin} IOSTANDARD {io} }} [get_ports {{ {port} }}]\n"
                ));
            }
            s.push_str(&format!(
                "create_clock -name clk_in -period {:.3} [get_ports clk_in]\n",
                1e9 / board.clock.hz as f64
            ));
            s.push_str("# The UART input is synchronised in the core; LEDs and txd are slow.\n");
            s.push_str("set_false_path -from [get_ports uart_rx]\n");
            let outs: Vec<&str> = pins.iter().filter(|p| p.2).map(|p| p.0.as_str()).collect();
            s.push_str(&format!(
                "set_false_path -to [get_ports {{ {} }}]\n",
                outs.join(" ")
            ));
            s.push_str("set_property CONFIG_VOLTAGE 3.3 [current_design]\nset_property CFGBVS VCCO [current_design]\n");
            ("neurofab_board.xdc", s)
        }
    }
}

/// Vivado batch script (Artix-7): `vivado -mode batch -source build.tcl` in the output dir.
pub fn vivado_tcl(board: &Board, core_file: &str, wrapper_file: &str, xdc_file: &str) -> String {
    format!(
        "# Vivado batch build for {name}: vivado -mode batch -source build.tcl\n\
         set part {part}\n\
         create_project -in_memory -part $part\n\
         read_verilog {{ {core_file} {wrapper_file} }}\n\
         read_xdc {xdc_file}\n\
         synth_design -top neurofab_board -part $part\n\
         opt_design\n\
         place_design\n\
         route_design\n\
         report_utilization -file utilization.rpt\n\
         report_timing_summary -file timing.rpt\n\
         if {{[get_property SLACK [get_timing_paths -max_paths 1 -nworst 1 -setup]] < 0}} {{\n\
         \x20   puts \"ERROR: timing not met at {mhz} MHz (see timing.rpt)\"\n\
         \x20   exit 1\n\
         }}\n\
         write_bitstream -force neurofab_board.bit\n",
        name = board.name,
        part = board.device,
        mhz = board.core_clock_hz() as f64 / 1e6,
    )
}
