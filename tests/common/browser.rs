//! A real browser for the website's tests: Debian's headless Chromium driven through
//! chromedriver (WebDriver, with fantoccini), one of each per test. `scripts/browser.sh`
//! installs both and axe-core, and tells the tests where they are:
//! `MAITRED_CHROMEDRIVER` (default: `chromedriver` on the PATH) and `MAITRED_AXE_JS`.
//!
//! Helpers act as a person does: by label, by link, by key; and fail with what the page did
//! show, and a screenshot of it.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// A phone's viewport (an iPhone 14's CSS pixels): the pages must work there first.
pub const PHONE: (u32, u32) = (390, 844);

/// How long a control may take to appear before a helper gives up.
const APPEAR: Duration = Duration::from_secs(20);

pub struct Browser {
    client: Client,
    driver: Child,
    width: u32,
    height: u32,
    _profile: TempDir,
}

impl Browser {
    /// A browser the size of a phone.
    pub async fn start() -> Self {
        Self::start_sized(PHONE.0, PHONE.1).await
    }

    pub async fn start_sized(width: u32, height: u32) -> Self {
        let driver_path =
            std::env::var("MAITRED_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = free_port();
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("starting {driver_path} ({error}): run `source scripts/browser.sh` first")
            });
        let profile = TempDir::new();
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": chromium_binary(),
                // Without the background-networking flags Chromium keeps calling Google's
                // hosts, which this machine's closed network refuses.
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                    "--lang=en-GB",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.0.display()),
                ],
            }
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(_) if started.elapsed() < Duration::from_secs(30) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("chromedriver on port {port} did not answer: {error}"),
            }
        };
        let browser = Self {
            client,
            driver,
            width,
            height,
            _profile: profile,
        };
        browser.resize(width, height).await;
        browser
    }

    /// The WebDriver client, for what the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    pub async fn current_url(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }

    /// Waits until an element matching `css` shows `text`; fails with what they did show.
    pub async fn wait_for_text(&self, css: &str, text: &str, timeout: Duration) {
        let started = Instant::now();
        let mut seen = Vec::new();
        while started.elapsed() < timeout {
            seen.clear();
            for element in self
                .client
                .find_all(Locator::Css(css))
                .await
                .unwrap_or_default()
            {
                // The element may be replaced between the find and the read (a live region).
                if let Ok(shown) = element.text().await {
                    if shown.contains(text) {
                        return;
                    }
                    seen.push(shown);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.screenshot("failed").await;
        panic!(
            "{css} never showed {text:?} within {timeout:?} on {}; it showed {seen:?}",
            self.current_url().await
        );
    }

    /// The element matching `css`, once it is there.
    pub async fn find(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(APPEAR)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(error) => {
                self.screenshot("failed").await;
                panic!("no {css} on {} ({error})", self.current_url().await)
            }
        }
    }

    /// The form control labelled `label` (the label's whole text), as a person finds it.
    pub async fn control(&self, label: &str) -> Element {
        let started = Instant::now();
        loop {
            let id = self
                .client
                .execute(
                    "const label = [...document.querySelectorAll('label')]
                       .find(l => l.textContent.trim().replace(/\\s+/g, ' ') === arguments[0]);
                     return label && label.control ? label.control.id : null;",
                    vec![json!(label)],
                )
                .await
                .unwrap();
            if let Value::String(id) = id {
                return self.find(&format!("[id='{id}']")).await;
            }
            if started.elapsed() > APPEAR {
                self.screenshot("failed").await;
                panic!(
                    "no control labelled {label:?} on {}",
                    self.current_url().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `value` into the control labelled `label`, replacing what it held.
    pub async fn fill(&self, label: &str, value: &str) {
        let control = self.control(label).await;
        control.clear().await.unwrap();
        control.send_keys(value).await.unwrap();
    }

    /// Sets the date field labelled `label`. Through the field's value, as its date picker
    /// does: what a person types into one depends on the browser's locale (DDMMYYYY or
    /// MMDDYYYY).
    pub async fn set_date(&self, label: &str, date: chrono::NaiveDate) {
        let control = self.control(label).await;
        self.client
            .execute(
                "arguments[0].value = arguments[1];
                 arguments[0].dispatchEvent(new Event('change', { bubbles: true }));",
                vec![
                    serde_json::to_value(&control).unwrap(),
                    json!(date.to_string()),
                ],
            )
            .await
            .unwrap();
    }

    /// Picks the option whose value is `value` in the select labelled `label`.
    pub async fn select_by_value(&self, label: &str, value: &str) {
        self.control(label)
            .await
            .select_by_value(value)
            .await
            .unwrap();
    }

    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        // Scrolled into the middle, so a sticky header never covers it.
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center'})",
                vec![serde_json::to_value(&element).unwrap()],
            )
            .await
            .unwrap();
        element.click().await.unwrap();
    }

    /// Types `keys` (text, or a `fantoccini::key::Key` as a string) where the focus is.
    pub async fn press(&self, keys: &str) {
        self.client
            .active_element()
            .await
            .unwrap()
            .send_keys(keys)
            .await
            .unwrap();
    }

    /// The attribute `name` of the element `css` (waited for).
    pub async fn attr(&self, css: &str, name: &str) -> String {
        self.find(css)
            .await
            .attr(name)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{css} has no {name}"))
    }

    /// `fetch` from the page: a POST of the urlencoded `form` to `path` with the browser's
    /// cookies, not following a redirect; the status and the page's text.
    pub async fn post_form(&self, path: &str, form: &str) -> (u64, String) {
        let answer: Value = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 fetch(arguments[0], { method: 'POST', redirect: 'manual',
                                       headers: { 'content-type': 'application/x-www-form-urlencoded' },
                                       body: arguments[1] })
                   .then(r => r.text().then(t => done([r.status, t])));",
                vec![json!(path), json!(form)],
            )
            .await
            .unwrap();
        (
            answer[0].as_u64().unwrap(),
            answer[1].as_str().unwrap().to_owned(),
        )
    }

    /// Saves the whole page as `target/screenshots/NAME.png`, to be looked at.
    pub async fn screenshot(&self, name: &str) {
        let height = self
            .client
            .execute("return document.documentElement.scrollHeight", vec![])
            .await
            .ok()
            .and_then(|height| height.as_u64())
            .map_or(self.height, |height| height.clamp(1, 6000) as u32);
        self.resize(self.width, height.max(self.height)).await;
        let png = self.client.screenshot().await.unwrap();
        self.resize(self.width, self.height).await;
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// The axe-core (WCAG 2 A and AA) violations of the page, one line each.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let path = std::env::var("MAITRED_AXE_JS")
            .expect("MAITRED_AXE_JS: run `source scripts/browser.sh` first");
        let axe = std::fs::read_to_string(&path).unwrap();
        self.client.execute(&axe, vec![]).await.unwrap();
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] })
                   .then(result => done(result.violations.map(v =>
                       `${v.id}: ${v.help} at ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)))
                   .catch(error => done([`axe failed: ${error}`]));",
                vec![],
            )
            .await
            .unwrap();
        serde_json::from_value(found).unwrap()
    }

    /// Fails, with a screenshot named after `page`, when axe finds a violation.
    pub async fn assert_accessible(&self, page: &str) {
        let violations = self.accessibility_violations().await;
        if !violations.is_empty() {
            self.screenshot(&format!("inaccessible {page}")).await;
            panic!("the {page} has accessibility violations: {violations:#?}");
        }
    }

    /// Signs in to the admin panel at `base` as a person does, and waits for its first page.
    pub async fn sign_in(&self, base: &str, email: &str, password: &str) {
        self.goto(&format!("{base}/admin/login")).await;
        self.fill("Email", email).await;
        self.fill("Password", password).await;
        self.click("form[action='/admin/login'] button[type=submit]")
            .await;
        self.wait_for_text("header.site", "Sign out", APPEAR).await;
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }

    async fn resize(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A failed test never reaches close(): still no chromedriver left running.
        let _ = self.driver.kill();
    }
}

fn chromium_binary() -> String {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|path| std::path::Path::new(path).exists())
        .unwrap_or("/usr/bin/chromium")
        .to_string()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Chromium's profile, deleted with the browser.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("maitred-chromium-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
