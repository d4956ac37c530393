//! `motionrender-nvenc`: the NVENC encoder helper. The engine starts one per
//! segment, writes raw yuv420p frames to its stdin and takes H.264 (Annex B)
//! from its stdout; `--probe` opens a real session and encodes one picture.
//!
//! Every failure stays in this process and leaves it as one line on stderr
//! and an exit status: 2 a bad command line, 3 NVENC unusable here (no
//! driver, no device, a GPU without NVENC, an old driver — the crates panic on
//! some of these, and the panic is reported the same way), 1 an encode that
//! failed part way. A missing driver library stops the process before `main`
//! (the dynamic loader names the library, status 127).

mod session;

use std::io::{self, BufReader, BufWriter};
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

use motionrender_nvenc::params::{self, Command, SessionParams};
use motionrender_nvenc::stream;

use session::{Device, DriverSession};

const USAGE: u8 = 2;
const UNAVAILABLE: u8 = 3;
const FAILED: u8 = 1;

fn main() -> ExitCode {
    let command = match params::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(e) => return report(USAGE, &format!("usage: {e}")),
    };
    // Panics (cudarc without libcuda, the crate's version check) become a reason.
    panic::set_hook(Box::new(|_| {}));
    match panic::catch_unwind(AssertUnwindSafe(|| run(command))) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err((status, reason))) => report(status, &reason),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("no message");
            report(UNAVAILABLE, &format!("unavailable: the NVIDIA libraries refused to start: {message}"))
        }
    }
}

fn report(status: u8, line: &str) -> ExitCode {
    eprintln!("motionrender-nvenc: {line}");
    ExitCode::from(status)
}

fn run(command: Command) -> Result<(), (u8, String)> {
    let device = Device::open().map_err(|e| (UNAVAILABLE, format!("unavailable: {e}")))?;
    match command {
        Command::Probe => probe(device),
        Command::Encode(params) => encode(device, &params, io::stdin().lock(), io::stdout().lock()),
    }
}

/// A real session: one grey 256×256 picture encoded and checked.
fn probe(device: Device) -> Result<(), (u8, String)> {
    let name = device.name.clone();
    let params = SessionParams { width: 256, height: 256, fps_num: 30, fps_den: 1, preset: 4, cq: 23, gop: 60 };
    let frame = vec![128u8; 256 * 256 * 3 / 2];
    let mut out = Vec::new();
    encode(device, &params, frame.as_slice(), &mut out)?;
    println!("ok: {name} encoded a 256x256 H.264 picture with parameter sets");
    Ok(())
}

fn encode(device: Device, params: &SessionParams, input: impl io::Read, output: impl io::Write) -> Result<(), (u8, String)> {
    let (session, stream) = device.start(params).map_err(|e| (UNAVAILABLE, format!("unavailable: {e}")))?;
    let mut ring = DriverSession::new(&session, stream, params).map_err(|e| (UNAVAILABLE, format!("unavailable: {e}")))?;
    let report = stream::encode(&mut ring, params.gop, BufReader::with_capacity(1 << 20, input), BufWriter::with_capacity(1 << 20, output))
        .map_err(|e| (FAILED, e.to_string()))?;
    if report.frames == 0 {
        return Err((FAILED, "no frames on stdin".to_owned()));
    }
    Ok(())
}
