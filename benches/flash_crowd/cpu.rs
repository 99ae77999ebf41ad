//! CPU accounting from /proc: this process, PostgreSQL and the RabbitMQ node.

use super::*;

/// utime + stime, in clock ticks (100 per second here: `getconf CLK_TCK`).
fn proc_ticks(pid: &str) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // The command name is in parentheses and may hold spaces: count fields after the last ')'.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is field 3 (state); utime is field 14, stime 15.
    let utime: u64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0);
    let stime: u64 = fields.get(12).and_then(|f| f.parse().ok()).unwrap_or(0);
    utime + stime
}

#[derive(Debug, Clone, Default)]
pub(crate) struct CpuSnapshot {
    /// Per pid: ticks.
    bench: u64,
    postgres: HashMap<String, u64>,
    rabbitmq: HashMap<String, u64>,
}

/// This process, every PostgreSQL process that is not a backend of another database, and the
/// RabbitMQ node (beam.smp; it also serves other users of the broker).
pub(crate) fn cpu_snapshot(database: &str) -> CpuSnapshot {
    let mut snap = CpuSnapshot {
        bench: proc_ticks("self"),
        ..CpuSnapshot::default()
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return snap;
    };
    for entry in entries.flatten() {
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
                // A backend's title is "postgres: 15/main: <user> <database> <client> <state>".
                let is_backend = cmdline.contains("127.0.0.1(") || cmdline.contains("[local]");
                if !is_backend || cmdline.contains(database) {
                    snap.postgres
                        .insert(pid, proc_ticks(&entry.file_name().to_string_lossy()));
                }
            }
            "beam.smp" => {
                snap.rabbitmq.insert(pid.clone(), proc_ticks(&pid));
            }
            _ => {}
        }
    }
    snap
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CpuSeconds {
    pub(crate) bench: f64,
    pub(crate) postgres: f64,
    pub(crate) rabbitmq: f64,
}

impl CpuSeconds {
    pub(crate) fn total(self) -> f64 {
        self.bench + self.postgres + self.rabbitmq
    }
}

pub(crate) fn cpu_between(before: &CpuSnapshot, after: &CpuSnapshot) -> CpuSeconds {
    let diff = |b: &HashMap<String, u64>, a: &HashMap<String, u64>| -> f64 {
        a.iter()
            .map(|(pid, t)| t.saturating_sub(*b.get(pid).unwrap_or(&0)))
            .sum::<u64>() as f64
            / 100.0
    };
    CpuSeconds {
        bench: after.bench.saturating_sub(before.bench) as f64 / 100.0,
        postgres: diff(&before.postgres, &after.postgres),
        rabbitmq: diff(&before.rabbitmq, &after.rabbitmq),
    }
}
