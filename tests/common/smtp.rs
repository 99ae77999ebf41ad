//! A real SMTP server on loopback for the email tests: aiosmtpd from PyPI, which
//! `scripts/aiosmtpd.sh` installs and names in `MAITRED_AIOSMTPD`. What it receives is read
//! back from its maildir with Python's own email parser.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use uuid::Uuid;

use super::browser::free_port;

const WAIT: Duration = Duration::from_secs(30);

/// An aiosmtpd server on a free loopback port, writing what it receives to a maildir of its
/// own. Stopped, and its maildir removed, when dropped.
pub struct SmtpSink {
    server: Option<Child>,
    maildir: PathBuf,
    port: u16,
}

fn python() -> String {
    std::env::var("MAITRED_AIOSMTPD").expect(
        "MAITRED_AIOSMTPD names the python of aiosmtpd's venv: run `source scripts/aiosmtpd.sh`",
    )
}

impl SmtpSink {
    /// A port nobody listens on yet: an SMTP server that is down, until [`SmtpSink::start`].
    pub fn down() -> Self {
        let maildir = std::env::temp_dir().join(format!("maitred-mail-{}", Uuid::new_v4()));
        Self {
            server: None,
            maildir,
            port: free_port(),
        }
    }

    pub async fn up() -> Self {
        let mut sink = Self::down();
        sink.start().await;
        sink
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    pub async fn start(&mut self) {
        let server = Command::new(python())
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&self.maildir)
            .stdout(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        self.server = Some(server);
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "aiosmtpd did not listen"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every message received, parsed by Python's email package: subject, to, message id,
    /// the plain and HTML bodies, and the attachments (filename, type, text).
    pub fn messages(&self) -> Vec<Value> {
        if !self.maildir.exists() {
            return Vec::new();
        }
        let output = Command::new(python())
            .args(["-c", READ_MAILDIR])
            .arg(&self.maildir)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    /// Waits until at least `count` messages arrived, then returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} messages, not {count}, after {WAIT:?}: {messages:#?}",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(server) = self.server.as_mut() {
            let _ = server.kill();
            let _ = server.wait();
        }
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

const READ_MAILDIR: &str = r#"
import email, email.policy, json, pathlib, sys
found = []
for folder in ("new", "cur"):
    for path in sorted((pathlib.Path(sys.argv[1]) / folder).glob("*")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found.append({
            "subject": message["subject"],
            "to": message["to"],
            "messageId": message["message-id"],
            "text": message.get_body(("plain",)).get_content(),
            "html": message.get_body(("html",)).get_content(),
            "attachments": [
                {"filename": part.get_filename(), "type": part.get_content_type(),
                 "text": part.get_payload(decode=True).decode("utf-8")}
                for part in message.iter_attachments()
            ],
        })
print(json.dumps(found))
"#;
