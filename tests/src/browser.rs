//! A headless Chromium driven through chromedriver (WebDriver), for the
//! citizen portal's end-to-end tests: start it, click, read text, sign in
//! at the sandbox eID, and take screenshots for review.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

/// Where the screenshots go, for review.
fn shots_dir() -> PathBuf {
    let d = crate::workspace().join("target/portal-screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// chromedriver on a free port, and a headless Chromium session through it.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    _driver: tokio::process::Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session through it.
    pub async fn start() -> Browser {
        for bin in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            assert!(
                std::path::Path::new(bin).exists(),
                "{bin} is missing: run the tests with scripts/test, which installs chromium and chromium-driver"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = tokio::process::Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let profile = tempfile::tempdir().unwrap();
        let caps = serde_json::json!({
            "acceptInsecureCerts": true,
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--ignore-certificate-errors", "--disable-dev-shm-usage",
                    "--window-size=1280,800",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let serde_json::Value::Object(caps) = caps else {
            panic!("capabilities are an object");
        };
        let url = format!("http://127.0.0.1:{port}");
        let mut last = String::new();
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        _driver: driver,
                        _profile: profile,
                    }
                }
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("chromedriver did not start a session: {last}");
    }

    /// A screenshot of the current page at phone and desktop width.
    pub async fn shoot(&self, name: &str) {
        for (w, h, label) in [(390, 844, "phone"), (1280, 800, "desktop")] {
            self.client.set_window_size(w, h).await.unwrap();
            let png = self.client.screenshot().await.unwrap();
            std::fs::write(shots_dir().join(format!("{name}-{label}.png")), png).unwrap();
        }
    }

    /// Clicks an element once it is there.
    pub async fn click(&self, css: &str) {
        self.client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Waits until an element's text is `want` (after a click, the old page
    /// may still be showing for a moment); the last text seen otherwise.
    pub async fn text_becomes(&self, css: &str, want: &str) -> String {
        let mut seen = String::new();
        for _ in 0..100 {
            seen = self.text_of(css).await;
            if seen == want {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        seen
    }

    /// The text of an element, waiting for it; a page still loading may
    /// replace the element found (stale), so that is tried again.
    pub async fn text_of(&self, css: &str) -> String {
        let mut last = String::new();
        for _ in 0..150 {
            match self.client.find(Locator::Css(css)).await {
                Ok(e) => match e.text().await {
                    Ok(t) => return t,
                    Err(err) => last = err.to_string(),
                },
                Err(err) => last = err.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no {css}: {last}");
    }

    /// Waits until an element's text contains `want`; the last text seen.
    pub async fn text_with(&self, css: &str, want: &str) -> String {
        let mut seen = String::new();
        for _ in 0..100 {
            seen = self.text_of(css).await;
            if seen.contains(want) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        seen
    }

    /// Signs in at the sandbox eID's picker by typing a PESEL.
    pub async fn sign_in(&self, pesel: &str) {
        self.click("#sign-in").await;
        self.client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css("#subject"))
            .await
            .unwrap()
            .send_keys(pesel)
            .await
            .unwrap();
        self.click("button[value=sign_in]").await;
    }
}
