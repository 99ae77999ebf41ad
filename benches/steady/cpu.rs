//! CPU from /proc, as in flash_crowd's `cpu` module.

use super::*;

fn proc_ticks(pid: &str) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0);
    let stime: u64 = fields.get(12).and_then(|f| f.parse().ok()).unwrap_or(0);
    utime + stime
}

/// (this process and any `maitred` process, PostgreSQL except other databases' backends,
/// RabbitMQ), per pid.
pub(crate) fn cpu_snapshot(database: &str) -> HashMap<String, (usize, u64)> {
    let mut snap = HashMap::new();
    snap.insert("self".to_string(), (0, proc_ticks("self")));
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = entry.file_name().to_string_lossy().to_string();
        if !pid.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        match comm.trim() {
            "postgres" => {
                let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
                    .unwrap_or_default()
                    .replace('\0', " ");
                let backend = cmdline.contains("127.0.0.1(") || cmdline.contains("[local]");
                if !backend || cmdline.contains(database) {
                    let ticks = proc_ticks(&pid);
                    snap.insert(pid, (1, ticks));
                }
            }
            // maitred's own processes (the processes contender) count with this one.
            "maitred" => {
                let ticks = proc_ticks(&pid);
                snap.insert(pid, (0, ticks));
            }
            "beam.smp" => {
                let ticks = proc_ticks(&pid);
                snap.insert(pid, (2, ticks));
            }
            _ => {}
        }
    }
    snap
}

pub(crate) fn cpu_between(
    before: &HashMap<String, (usize, u64)>,
    after: &HashMap<String, (usize, u64)>,
) -> [f64; 3] {
    let mut out = [0.0; 3];
    for (pid, (kind, ticks)) in after {
        let was = before.get(pid).map_or(0, |(_, t)| *t);
        out[*kind] += ticks.saturating_sub(was) as f64 / 100.0;
    }
    out
}
