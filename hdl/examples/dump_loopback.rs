fn main() {
    print!(
        "{}",
        neurofab_hdl::generate_loopback_verilog(12_000_000, 115_200)
    );
}
