//! neurofab host library: the network format, the compiler, input schedules,
//! devices and the run loop behind the `neurofab` CLI.
//!
//! ```no_run
//! use neurofab::{compile::compile, config::Config, device::ModelDevice, run::run};
//! let cfg = Config::load("examples/balanced.toml".as_ref())?;
//! let net = compile(&cfg)?;
//! let mut dev = ModelDevice::new(&net)?;
//! let result = run(&mut dev, &net.input_train(net.steps), net.steps, |_| {})?;
//! println!("{}", result.summary_line(&net, "model"));
//! # Ok::<(), neurofab::error::Error>(())
//! ```

pub mod boards;
pub mod cli;
pub mod compile;
pub mod config;
pub mod device;
pub mod digits;
pub mod error;
pub mod generate;
pub mod inputs;
pub mod link;
pub mod npy;
pub mod plot;
pub mod run;

pub use compile::{compile, CompiledNetwork, QuantReport};
pub use config::Config;
pub use device::{Device, ModelDevice};
pub use error::Error;
