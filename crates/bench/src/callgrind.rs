//! `--callgrind`: the server under Valgrind's callgrind, and the instructions it executes per request.
//!
//! On a shared or virtual machine, CPU time per request moves by 10–15% from one run to the next, more
//! than most single changes gain; the instructions a request executes move by well under 1%. So two
//! builds are compared by instructions, measured here, and their times by the ordinary harness. Under
//! Valgrind the server runs 20–50 times slower: its times, rates and RSS mean nothing then, and the
//! count leaves out the kernel (system calls, the network) and what the CPU's caches do.
//!
//! The server starts with instrumentation off (start-up and seeding at near native speed). Each
//! scenario turns it on before its warm-up, zeroes the counters when the window opens, dumps them when
//! it closes and turns it off again: the instructions of the window, divided by its answers.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use tokio::process::Command;

use crate::procfs;

const OUT_FILE: &str = "callgrind.out";
/// Where each window's dump is kept, relative to where the harness runs (the workspace, by `bench/run`).
pub const KEPT: &str = "target/callgrind";

/// What the server's command line starts with under callgrind (Valgrind and its options, before the
/// binary), its dumps written in `dir`.
pub fn launcher(dir: &Path) -> anyhow::Result<Vec<OsString>> {
    if !procfs::on_path("valgrind") || !procfs::on_path("callgrind_control") {
        bail!("--callgrind needs Valgrind (`valgrind` and `callgrind_control` on the PATH)");
    }
    let mut out_file = OsString::from("--callgrind-out-file=");
    out_file.push(dir.join(OUT_FILE));
    Ok(vec![
        "valgrind".into(),
        "--tool=callgrind".into(),
        "--instr-atstart=no".into(),
        out_file,
    ])
}

/// The running server's callgrind.
#[derive(Clone)]
pub struct Callgrind {
    pid: u32,
    dir: PathBuf,
}

impl Callgrind {
    pub fn new(pid: u32, dir: &Path) -> Callgrind {
        Callgrind {
            pid,
            dir: dir.to_path_buf(),
        }
    }

    pub async fn instrument(&self, on: bool) -> anyhow::Result<()> {
        self.control(&["-i", if on { "on" } else { "off" }]).await
    }

    pub async fn zero(&self) -> anyhow::Result<()> {
        self.control(&["-z"]).await
    }

    /// Dumps the counters and returns the instructions executed since they were zeroed; the dump is
    /// kept as `target/callgrind/<name>.out`, for `callgrind_annotate`.
    pub async fn dump_instructions(&self, name: &str) -> anyhow::Result<u64> {
        let before = self.latest_dump()?.map(|(n, _)| n);
        self.control(&["-d"]).await?;
        let Some((n, path)) = self.latest_dump()? else {
            bail!("callgrind wrote no dump in {}", self.dir.display());
        };
        if Some(n) == before {
            bail!("callgrind wrote no new dump in {}", self.dir.display());
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let n = instructions(&text).with_context(|| format!("no instruction total in {}", path.display()))?;
        std::fs::create_dir_all(KEPT)?;
        let kept = Path::new(KEPT).join(format!("{name}.out"));
        std::fs::write(&kept, text).with_context(|| format!("writing {}", kept.display()))?;
        Ok(n)
    }

    async fn control(&self, args: &[&str]) -> anyhow::Result<()> {
        // Asynchronous: the load generator runs on this thread, and callgrind answers only between the
        // server's basic blocks.
        let out = Command::new("callgrind_control")
            .args(args)
            .arg(self.pid.to_string())
            .output()
            .await
            .context("running callgrind_control")?;
        if !out.status.success() {
            bail!(
                "callgrind_control {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }

    /// The dump with the highest number: `callgrind.out.<n>`.
    fn latest_dump(&self) -> anyhow::Result<Option<(u64, PathBuf)>> {
        let prefix = format!("{OUT_FILE}.");
        let mut latest = None;
        for entry in
            std::fs::read_dir(&self.dir).with_context(|| format!("listing {}", self.dir.display()))?
        {
            let entry = entry?;
            let name = entry.file_name();
            let Some(n) = name
                .to_str()
                .and_then(|s| s.strip_prefix(&prefix))
                .and_then(|s| s.parse::<u64>().ok())
            else {
                continue;
            };
            if latest.as_ref().is_none_or(|(m, _)| n > *m) {
                latest = Some((n, entry.path()));
            }
        }
        Ok(latest)
    }
}

/// The `Ir` total of a callgrind dump: its `totals:` line (or `summary:` in older formats), whose
/// first number is the first event of the `events:` line, instructions unless told otherwise.
fn instructions(dump: &str) -> Option<u64> {
    let first_event = dump.lines().find_map(|l| l.strip_prefix("events:"))?;
    if first_event.split_whitespace().next()? != "Ir" {
        return None;
    }
    let total = dump
        .lines()
        .find_map(|l| l.strip_prefix("totals:"))
        .or_else(|| dump.lines().find_map(|l| l.strip_prefix("summary:")))?;
    total.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instruction_total_of_a_dump() {
        let dump = "version: 1\ncreator: callgrind-3.19.0\npid: 42\ncmd: keygate serve\npart: 3\n\n\
                    positions: line\nevents: Ir\nsummary: 1234567\n\nfn=(1) main\n16 20\n\ntotals: 1234567\n";
        assert_eq!(instructions(dump), Some(1_234_567));
        let old = "events: Ir\nsummary: 99\n";
        assert_eq!(instructions(old), Some(99));
    }

    #[test]
    fn a_dump_without_instructions_has_no_total() {
        assert_eq!(instructions("events: Dr Dw\ntotals: 5 6\n"), None);
        assert_eq!(instructions("events: Ir\n"), None);
        assert_eq!(instructions(""), None);
    }
}
