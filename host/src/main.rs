//! `neurofab`: see `neurofab --help`.

use clap::Parser;
use neurofab::cli::{execute, exit_code, format_error, Cli};

fn main() {
    // Never show a Rust backtrace to a user: report internal errors plainly.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error (please report): {info}");
    }));
    let cli = Cli::parse();
    let code = match execute(cli) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{}", format_error(&e));
            exit_code(&e)
        }
    };
    std::process::exit(code);
}
