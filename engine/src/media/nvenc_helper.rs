//! Where the NVENC helper binary (`motionrender-nvenc`) is: beside the
//! running program (an installed `motionrender`), one folder up (a test
//! binary in cargo's `deps/`), or on `PATH`.

use std::path::PathBuf;

/// The helper's file name.
pub const HELPER: &str = "motionrender-nvenc";

/// The helper's path, or why there is none.
pub fn helper_path() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot tell where this program is: {e}"))?;
    let beside = exe.parent().map(|dir| dir.join(HELPER));
    let above = exe.parent().and_then(|dir| dir.parent()).map(|dir| dir.join(HELPER));
    let on_path = std::env::var_os("PATH").into_iter().flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>()).map(|dir| dir.join(HELPER));
    beside
        .into_iter()
        .chain(above)
        .chain(on_path)
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| format!("the NVENC helper {HELPER} is neither beside {} nor on PATH (build it with `cargo build --release -p motionrender-nvenc --features nvenc`)", exe.display()))
}
