//! Prints the Verilog of a core: `cargo run -p neurofab-hdl --example dump_core -- N M P CLOCK_HZ BAUD`
//! (defaults: the default core). For synthesis experiments without building the CLI.
fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers: N M P CLOCK_HZ BAUD"))
        .collect();
    let mut cfg = neurofab_proto::CoreConfig::DEFAULT;
    let get = |k: usize| args.get(k).copied();
    if let Some(n) = get(0) {
        cfg.shape.neurons = n as u16;
    }
    if let Some(m) = get(1) {
        cfg.shape.inputs = m as u16;
    }
    if let Some(p) = get(2) {
        cfg.lanes = p as u8;
    }
    if let Some(hz) = get(3) {
        cfg.clock_hz = hz as u32;
    }
    if let Some(baud) = get(4) {
        cfg.baud = baud as u32;
    }
    let core = neurofab_hdl::generate_core(&cfg).expect("valid core configuration");
    print!("{}", core.verilog);
}
