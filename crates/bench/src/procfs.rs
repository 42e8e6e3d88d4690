//! What the harness reads about processes and the machine from `/proc` (Linux). Everything degrades
//! to "unknown" elsewhere rather than failing: the numbers are a report, not a gate.

use std::path::Path;
use std::process::Command;

/// CPU time a process has used (user + system, all threads), in clock ticks.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    user_and_system_ticks(pid).map(|(user, system)| user + system)
}

/// CPU time a process has used in user space and in the kernel (all threads), in clock ticks.
pub fn user_and_system_ticks(pid: u32) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat_user_system_ticks(&stat)
}

/// `utime + stime` from a `/proc/<pid>/stat` line.
pub fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    parse_stat_user_system_ticks(stat).map(|(user, system)| user + system)
}

/// `(utime, stime)` from a `/proc/<pid>/stat` line. The command name (field 2) is in parentheses and
/// may hold spaces or parentheses itself, so fields are counted from the last `)`.
pub fn parse_stat_user_system_ticks(stat: &str) -> Option<(u64, u64)> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime, stime))
}

/// Clock ticks per second (`getconf CLK_TCK`), 100 when it cannot be asked.
pub fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in bytes.
pub fn status_bytes(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_status_kb(&status, field).map(|kb| kb * 1024)
}

/// The value in kB of `field` in a `/proc/<pid>/status` text.
pub fn parse_status_kb(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let (name, rest) = line.split_once(':')?;
        if name != field {
            return None;
        }
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Resets the process's peak RSS (`VmHWM`) to its current RSS, so that each scenario reports its own
/// peak. Linux 4.0+, for processes of the same user; false when it did not work.
pub fn reset_peak_rss(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// CPU ticks used by every process whose command name is `comm` (the database server's backends).
pub fn cpu_ticks_of_all(comm: &str) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut total = 0;
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let process_comm = stat
            .split_once('(')
            .and_then(|(_, rest)| rest.rsplit_once(')'))
            .map(|(c, _)| c);
        if process_comm == Some(comm) {
            total += parse_stat_cpu_ticks(&stat).unwrap_or(0);
        }
    }
    total
}

/// The CPUs of a list such as `0-3,8,10-11` (as in `Cpus_allowed_list`), in order.
pub fn parse_cpu_list(list: &str) -> Vec<usize> {
    let mut cpus = Vec::new();
    for part in list.trim().split(',').filter(|p| !p.is_empty()) {
        let (from, to) = part.split_once('-').unwrap_or((part, part));
        if let (Ok(from), Ok(to)) = (from.trim().parse::<usize>(), to.trim().parse::<usize>()) {
            cpus.extend(from..=to);
        }
    }
    cpus
}

/// Busy CPU time of the whole machine (all CPUs, everything but idle and iowait), in clock ticks.
pub fn machine_busy_ticks() -> Option<u64> {
    parse_machine_busy(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// The busy ticks of the `cpu` line of a `/proc/stat` text.
pub fn parse_machine_busy(stat: &str) -> Option<u64> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal [guest guest_nice, already in user and nice]
    let idle = values.get(3)? + values.get(4).unwrap_or(&0);
    let total: u64 = values.iter().take(8).sum();
    Some(total - idle)
}

/// The machine, as the header of a report.
pub struct Machine {
    pub cpu_model: String,
    pub cpus: usize,
    pub usable_cpus: usize,
    pub memory: String,
    pub kernel: String,
    pub rustc: String,
    pub commit: String,
}

impl Machine {
    pub fn describe() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == "model name").then(|| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let cpus = cpuinfo.lines().filter(|l| l.starts_with("processor")).count();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = parse_status_kb(&meminfo, "MemTotal")
            .map(|kb| format!("{:.1} GiB", kb as f64 / 1024.0 / 1024.0))
            .unwrap_or_else(|| "unknown".into());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "unknown".into());
        let commit = match output("git", &["rev-parse", "--short=12", "HEAD"]) {
            Some(c) => {
                let dirty = output("git", &["status", "--porcelain", "--untracked-files=no"])
                    .is_some_and(|s| !s.is_empty());
                if dirty {
                    format!("{c} (with uncommitted changes)")
                } else {
                    c
                }
            }
            None => "unknown".into(),
        };
        Machine {
            cpu_model,
            cpus,
            usable_cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory,
            kernel,
            rustc: output("rustc", &["--version"]).unwrap_or_else(|| "unknown".into()),
            commit,
        }
    }
}

/// A command's trimmed standard output, if it ran and succeeded.
pub fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Whether `program` is on the `PATH`.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| Path::new(&dir).join(program).is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_from_stat_with_an_awkward_name() {
        let stat = "4242 (key gate) (x)) S 1 4242 4242 0 -1 4194560 1234 0 0 0 \
                    731 269 0 0 20 0 3 0 100 12345678 2048 18446744073709551615";
        assert_eq!(parse_stat_cpu_ticks(stat), Some(1000));
        let (user, system) = parse_stat_user_system_ticks(stat).unwrap();
        assert_eq!(user + system, 1000);
        assert_eq!(parse_stat_cpu_ticks("1 (x) S 1"), None);
    }

    #[test]
    fn status_fields_in_kb() {
        let status = "Name:\tkeygate\nVmPeak:\t  200000 kB\nVmHWM:\t   23456 kB\nVmRSS:\t   20000 kB\n";
        assert_eq!(parse_status_kb(status, "VmHWM"), Some(23456));
        assert_eq!(parse_status_kb(status, "VmRSS"), Some(20000));
        assert_eq!(parse_status_kb(status, "VmSwap"), None);
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("\t0-1\n"), vec![0, 1]);
        assert_eq!(parse_cpu_list("4,6-7"), vec![4, 6, 7]);
        assert_eq!(parse_cpu_list("3"), vec![3]);
        assert!(parse_cpu_list("").is_empty());
    }

    #[test]
    fn machine_busy_time() {
        let stat = "cpu  100 5 50 1000 20 3 2 10 7 0\ncpu0 50 2 25 500 10 1 1 5 3 0\nintr 1\n";
        assert_eq!(parse_machine_busy(stat), Some(170));
        assert_eq!(parse_machine_busy("intr 1\n"), None);
    }

    #[test]
    fn reads_its_own_process() {
        let pid = std::process::id();
        assert!(cpu_ticks(pid).is_some());
        assert!(status_bytes(pid, "VmRSS").is_some_and(|b| b > 0));
    }
}
