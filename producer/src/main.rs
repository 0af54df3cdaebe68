//! `stockstream-producer`: wiring only. Parses flags once, installs the signal flag, runs the
//! command, and maps the outcome to the documented exit status (all in the library's
//! [`stockstream_producer::run_cli`]).

fn main() -> std::process::ExitCode {
    no_fast_bins();
    stockstream_producer::run_cli(std::env::args_os())
}

/// Turns off glibc's fast bins (`M_MXFAST = 0`) before the producer starts.
///
/// librdkafka allocates blocks per row (the message; with headers, as every row had before
/// message format v2, also the header list, its array and two headers) and frees them in
/// bulk when the broker acknowledges a batch. The small ones pile up in the fast bins, and
/// glibc consolidates those whenever a freed run of messages coalesces past 64 KiB or a
/// large block is requested, which on a million rows showed as `malloc_consolidate` and
/// `unlink_chunk` in the sender's profile. Without fast bins the blocks go through the
/// per-thread cache and the regular bins: in alternating runs of a million rows the producer
/// used 6 to 10% less CPU (BENCHMARKS.md, producer; measured with headers). Only this binary
/// does it: the library, run in other processes, leaves their allocator alone.
fn no_fast_bins() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        const M_MXFAST: std::ffi::c_int = 1;
        // SAFETY: mallopt only changes glibc's allocator settings (it first consolidates
        // what the fast bins hold); it is called before any other thread exists.
        unsafe {
            mallopt(M_MXFAST, 0);
        }
    }
}
