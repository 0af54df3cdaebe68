//! `stockstream-producer`: wiring only. Parses flags once, installs the signal flag, runs the
//! command, and maps the outcome to the documented exit status (all in the library's
//! [`stockstream_producer::run_cli`]).

fn main() -> std::process::ExitCode {
    stockstream_producer::run_cli(std::env::args_os())
}
