//! Real-browser tests: Debian's Chromium driven through chromedriver (WebDriver) against a
//! Coffer on a random port. Screenshots of the main pages are written to
//! `target/screenshots/`. Without chromium and chromedriver these tests fail (they never
//! skip): install them with `apt-get install chromium chromium-driver`. Built with
//! `--features browser-tests`.
#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

#[path = "api/helpers.rs"]
#[allow(dead_code, reason = "only some helpers are used here")]
mod helpers;
#[path = "support/ports.rs"]
mod ports;

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// chromedriver on a free port, stopped on drop.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // chromedriver and the browsers it started share a process group: end them all, also
        // when a test failed before closing its session.
        let _ = Command::new("kill")
            .arg("--")
            .arg(format!("-{}", self.child.id()))
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_driver() -> Driver {
    let binary = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    assert!(
        std::path::Path::new(&binary).exists(),
        "{binary} is missing: install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
    );
    let port = ports::free_port();
    let child = Command::new(&binary)
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver { child, port }
}

async fn browser(driver: &Driver) -> Client {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--window-size=1280,1000", "--lang=en-GB"]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session with Chromium")
}

fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
}

async fn log_in(c: &Client, app: &helpers::TestApp, username: &str) {
    c.goto(&app.url("/login")).await.unwrap();
    c.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(username)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(helpers::PASSWORD)
        .await
        .unwrap();
    click(c, Locator::Css("main form button[type=submit]")).await;
    c.wait()
        .for_element(Locator::Css("form.logout"))
        .await
        .unwrap();
}

/// Fetches `path` from inside the page (with the browser's cookies): (status, body).
async fn fetch(c: &Client, path: &str) -> (u64, String) {
    let v = c
        .execute_async(
            "const [url, done] = arguments; fetch(url, {credentials: 'same-origin'}).then(async r => done([r.status, await r.text()])).catch(e => done([0, String(e)]));",
            vec![json!(path)],
        )
        .await
        .unwrap();
    (v[0].as_u64().unwrap(), v[1].as_str().unwrap().to_owned())
}

async fn wait_until(c: &Client, what: &str, script: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if c.execute(script, vec![]).await.unwrap() == json!(true) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clicks the element `what` finds.
async fn click(c: &Client, what: Locator<'_>) {
    c.find(what).await.unwrap().click().await.unwrap();
}

/// Clicks the submit button matched by `css` and waits for the next page to show a
/// success message (the old page is marked, so its own message does not count).
async fn submit_and_wait(c: &Client, css: &str) {
    c.execute("window.__coffer_old_page = true;", vec![])
        .await
        .unwrap();
    click(c, Locator::Css(css)).await;
    wait_until(
        c,
        "the next page with a success message",
        "return !window.__coffer_old_page && document.readyState === 'complete' && document.querySelector('.flash.ok') !== null;",
    )
    .await;
}

#[actix_web::test]
async fn admin_workflow_in_a_real_browser() {
    let driver = start_driver();
    let app = helpers::spawn_app().await;
    let (reader_id, _) = app.user("reader").await;
    app.user("stranger").await;
    let c = browser(&driver).await;

    // Log in.
    c.goto(&app.url("/login")).await.unwrap();
    screenshot(&c, "login").await;
    log_in(&c, &app, "admin").await;

    // Create a folder.
    c.goto(&app.url("/admin/folders/")).await.unwrap();
    c.find(Locator::LinkText("New folder"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Id("name"))
        .await
        .unwrap()
        .send_keys("Quarterly reports")
        .await
        .unwrap();
    click(&c, Locator::Css("main form button[type=submit]")).await;
    c.wait().for_element(Locator::Css("#upload")).await.unwrap();
    let folder_url = c.current_url().await.unwrap();
    let folder_id: i64 = folder_url
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(c.source().await.unwrap().contains("Quarterly reports"));

    // Upload two files through the file input; both progress bars reach 100 %.
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("report one.txt");
    let two = dir.path().join("été-2026.csv");
    std::fs::write(&one, "first report\n").unwrap();
    std::fs::write(&two, "a,b\n1,2\n").unwrap();
    let input = c
        .find(Locator::Css("#upload input[type=file]"))
        .await
        .unwrap();
    input
        .send_keys(&format!("{}\n{}", one.display(), two.display()))
        .await
        .unwrap();
    wait_until(
        &c,
        "two finished uploads",
        "const bars = [...document.querySelectorAll('.progress-list progress')];
         return bars.length === 2 && bars.every(b => b.value === 100)
             && document.querySelectorAll('.progress-list li.done').length === 2;",
    )
    .await;
    // The new rows appear in the listing without a reload.
    wait_until(
        &c,
        "the uploaded files in the listing",
        "const rows = document.querySelector('form.bulk').textContent;
         return rows.includes('report one.txt') && rows.includes('été-2026.csv')
             && !document.querySelector('form.bulk .empty');",
    )
    .await;
    assert_eq!(
        c.current_url().await.unwrap().as_str(),
        folder_url.as_str(),
        "no navigation"
    );
    // The "all" box above the list ticks every item, and the bar counts them.
    click(&c, Locator::Css("input[data-select-all]")).await;
    wait_until(
        &c,
        "every item ticked",
        "const boxes = [...document.querySelectorAll('form.bulk input[name=item]')];
         return boxes.length === 2 && boxes.every(b => b.checked)
             && document.querySelector('.selected-count').textContent === '2 selected';",
    )
    .await;
    click(&c, Locator::Css("input[data-select-all]")).await;
    wait_until(
        &c,
        "no item ticked",
        "return [...document.querySelectorAll('form.bulk input[name=item]')].every(b => !b.checked)
             && document.querySelector('.selected-count').textContent === '';",
    )
    .await;
    screenshot(&c, "upload-progress").await;
    c.goto(folder_url.as_str()).await.unwrap();
    let source = c.source().await.unwrap();
    assert!(source.contains("report one.txt") && source.contains("été-2026.csv"));
    screenshot(&c, "folder").await;

    // Open the first file; tick "Permissions disabled": the public URL serves it.
    c.find(Locator::XPath("//a[contains(., 'report one.txt')]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("permissions_disabled"))
        .await
        .unwrap();
    let file_id: i64 = c
        .current_url()
        .await
        .unwrap()
        .path()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    screenshot(&c, "file-private").await;
    // Every link the page shows has a copy button, which copies the full URL. (The
    // clipboard itself is the browser's: the page's call to it is recorded here.)
    let copied = c
        .execute(
            "window.copiedText = [];
             navigator.clipboard.writeText = async (t) => { window.copiedText.push(t); };
             for (const b of document.querySelectorAll('button.copy')) b.click();
             return document.querySelectorAll('a[data-copy]').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        copied.as_u64(),
        Some(2),
        "the checked link and the stable link"
    );
    wait_until(
        &c,
        "the links copied",
        "return window.copiedText.length === 2 && [...document.querySelectorAll('button.copy')].every(b => b.textContent === 'Copied');",
    )
    .await;
    let texts = c
        .execute("return window.copiedText;", vec![])
        .await
        .unwrap();
    let stable = app.url(&format!("/files/{file_id}/report%20one.txt"));
    assert!(
        texts
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t.as_str() == Some(stable.as_str())),
        "{texts} has {stable}"
    );
    click(&c, Locator::Id("permissions_disabled")).await;
    submit_and_wait(&c, ".main-col form button[type=submit]").await;
    let public_url = c
        .find(Locator::Css("#where a"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(public_url.starts_with("/media/public/"), "{public_url}");
    let (status, _, body) = app.get(None, &public_url).await;
    assert_eq!(
        (status.as_u16(), body.as_slice()),
        (200, &b"first report\n"[..])
    );
    screenshot(&c, "file-public").await;

    // Untick it: the public URL answers 404 and the checked URL serves the file.
    click(&c, Locator::Id("permissions_disabled")).await;
    submit_and_wait(&c, ".main-col form button[type=submit]").await;
    assert_eq!(app.get(None, &public_url).await.0.as_u16(), 404);
    let checked_url = c
        .find(Locator::Css("#where a"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(checked_url.starts_with("/private/files/"));
    assert_eq!(
        fetch(&c, &checked_url).await,
        (200, "first report\n".to_owned())
    );
    assert_eq!(app.get(None, &checked_url).await.0.as_u16(), 404);

    // A folder rule for the reader, through the folder's permission page.
    c.goto(&app.url(&format!("/admin/folders/{folder_id}/permissions")))
        .await
        .unwrap();
    let form = c.find(Locator::Css("#add-rule form")).await.unwrap();
    for choice in [
        "input[name=place][value=folder]",
        "input[name=scope][value=children]",
        "input[name=who][value=user]",
        "input[name=can_read][value=allow]",
        "input[name=can_edit][value=inherit]",
        "input[name=can_add_children][value=inherit]",
    ] {
        form.find(Locator::Css(choice))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    form.find(Locator::Css(&format!(
        "select[name=user_id] option[value='{reader_id}']"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    submit_and_wait(&c, "#add-rule form button[type=submit]").await;
    let own_rules = c
        .find(Locator::Css("#own-rules"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(own_rules.contains("reader"), "{own_rules}");
    screenshot(&c, "folder-permissions").await;

    // The effective-permissions panel explains the reader's rights.
    click(
        &c,
        Locator::Css(&format!("#effective-user option[value='{reader_id}']")),
    )
    .await;
    click(&c, Locator::Css("#effective form button[type=submit]")).await;
    let read_row = c
        .wait()
        .for_element(Locator::Css("table.effective tr[data-right=read]"))
        .await
        .unwrap();
    assert_eq!(
        read_row.attr("data-allowed").await.unwrap().as_deref(),
        Some("true")
    );
    let why = read_row
        .find(Locator::Css("td.why"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(why.contains("reader") && why.contains("allow"), "{why}");
    let edit_row = c
        .find(Locator::Css("table.effective tr[data-right=edit]"))
        .await
        .unwrap();
    assert_eq!(
        edit_row.attr("data-allowed").await.unwrap().as_deref(),
        Some("false")
    );
    screenshot(&c, "effective-permissions").await;

    // Users and groups: a group made through the form, with the reader in it.
    c.goto(&app.url("/admin/groups/new")).await.unwrap();
    c.find(Locator::Id("name"))
        .await
        .unwrap()
        .send_keys("Readers")
        .await
        .unwrap();
    click(
        &c,
        Locator::Css(&format!("input[name=member][value='{reader_id}']")),
    )
    .await;
    submit_and_wait(&c, "main form button[type=submit]").await;
    screenshot(&c, "group").await;
    c.goto(&app.url("/admin/users/")).await.unwrap();
    let row = c
        .find(Locator::Css(&format!("tr[data-user='{reader_id}']")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(row.contains("Readers"), "{row}");
    screenshot(&c, "users").await;
    c.goto(&app.url(&format!("/admin/users/{reader_id}")))
        .await
        .unwrap();
    screenshot(&c, "user").await;

    // The reader downloads; a stranger gets 404.
    c.delete_all_cookies().await.unwrap();
    log_in(&c, &app, "reader").await;
    screenshot(&c, "end-user-browser").await;
    // A click on a file opens its page (not the bare bytes): its text and a download button.
    c.goto(&app.url(&format!("/folders/{folder_id}")))
        .await
        .unwrap();
    click(&c, Locator::XPath("//a[contains(., 'report one.txt')]")).await;
    c.wait()
        .for_element(Locator::Css("section.viewer pre.text"))
        .await
        .unwrap();
    assert_eq!(
        c.find(Locator::Css("section.viewer pre.text"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "first report"
    );
    screenshot(&c, "end-user-file").await;
    c.goto(&app.url("/account/password")).await.unwrap();
    screenshot(&c, "account-password").await;
    assert_eq!(
        fetch(&c, &format!("/files/{file_id}/report%20one.txt")).await,
        (200, "first report\n".to_owned())
    );
    c.delete_all_cookies().await.unwrap();
    log_in(&c, &app, "stranger").await;
    assert_eq!(
        fetch(&c, &format!("/files/{file_id}/report%20one.txt"))
            .await
            .0,
        404
    );
    assert_eq!(fetch(&c, &checked_url).await.0, 404);

    c.close().await.unwrap();
}

/// The focal point widget: the text field becomes a click on the preview (or arrow keys on
/// the focused preview), with a marker and a "Clear" button, and is saved with the form.
#[actix_web::test]
async fn the_focal_point_is_set_by_clicking_the_preview() {
    use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};

    let driver = start_driver();
    let app = helpers::spawn_app().await;
    // 400 × 200, green but for a red square around (250, 100).
    let img = image::RgbImage::from_fn(400, 200, |x, y| {
        if (220..280).contains(&x) && (70..130).contains(&y) {
            image::Rgb([230, 20, 20])
        } else {
            image::Rgb([20, 200, 20])
        }
    });
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut png, image::ImageFormat::Png)
        .unwrap();
    let up = app
        .upload(&app.admin_token, "focus.png", png.get_ref(), None, false)
        .await;
    let id = up["id"].as_i64().unwrap();
    let c = browser(&driver).await;
    log_in(&c, &app, "admin").await;
    c.goto(&app.url(&format!("/admin/files/{id}")))
        .await
        .unwrap();
    wait_until(
        &c,
        "the preview",
        "const i = document.querySelector('#preview img'); return !!i && i.complete && i.naturalWidth > 0;",
    )
    .await;
    // Scripts turned the text field into the widget.
    assert_eq!(
        c.execute(
            "return [document.getElementById('subject_location').type, document.getElementById('focal-field').hidden, document.getElementById('focal-widget').hidden];",
            vec![],
        )
        .await
        .unwrap(),
        json!(["hidden", true, false])
    );
    // Click on the red square: 250 of 400 pixels across, in the middle height.
    let preview = c.find(Locator::Css("#preview img")).await.unwrap();
    let width = c
        .execute(
            "return document.querySelector('#preview img').getBoundingClientRect().width;",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    let click_at_point = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: preview,
            duration: None,
            x: (width * (250.5 / 400.0 - 0.5)).round(),
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    c.perform_actions(click_at_point).await.unwrap();
    let value = c
        .execute(
            "return document.getElementById('subject_location').value;",
            vec![],
        )
        .await
        .unwrap();
    let (x, y) = value.as_str().unwrap().split_once(',').unwrap();
    let (x, y): (i64, i64) = (x.parse().unwrap(), y.parse().unwrap());
    assert!((x - 250).abs() <= 3 && (y - 100).abs() <= 3, "{value}");
    assert_eq!(
        c.execute(
            "return !document.querySelector('.focal-marker').hidden;",
            vec![]
        )
        .await
        .unwrap(),
        json!(true)
    );
    screenshot(&c, "file-image-focal-point").await;
    submit_and_wait(&c, ".main-col form button[type=submit]").await;
    let (_, body) = app.file_json(id).await;
    assert_eq!(body["image"]["subject_location"], json!({"x": x, "y": y}));

    // "Clear", then save: the point is gone.
    click(&c, Locator::Id("focal-clear")).await;
    assert_eq!(
        c.execute(
            "return [document.getElementById('subject_location').value, document.querySelector('.focal-marker').hidden];",
            vec![],
        )
        .await
        .unwrap(),
        json!(["", true])
    );
    submit_and_wait(&c, ".main-col form button[type=submit]").await;
    let (_, body) = app.file_json(id).await;
    assert_eq!(body["image"]["subject_location"], serde_json::Value::Null);

    // From the keyboard: the focused preview's arrow keys move the point from the centre
    // (200, 100) by 1 % of the image, 10 % with Shift; Delete clears it.
    let (right, down, shift, delete) = ("\u{E014}", "\u{E015}", "\u{E008}", "\u{E017}");
    let preview = c.find(Locator::Css("#preview img")).await.unwrap();
    preview
        .send_keys(&format!("{right}{down}{shift}{right}"))
        .await
        .unwrap();
    let point = "return [document.getElementById('subject_location').value, document.querySelector('.focal-marker').hidden];";
    assert_eq!(
        c.execute(point, vec![]).await.unwrap(),
        json!(["244,102", false])
    );
    preview.send_keys(delete).await.unwrap();
    assert_eq!(c.execute(point, vec![]).await.unwrap(), json!(["", true]));
    preview.send_keys(&format!("{down}{down}")).await.unwrap();
    submit_and_wait(&c, ".main-col form button[type=submit]").await;
    let (_, body) = app.file_json(id).await;
    assert_eq!(
        body["image"]["subject_location"],
        json!({"x": 200, "y": 104})
    );

    // "Enlarge": the preview grows, drawn from the image itself, and a click still picks the
    // pixel under the pointer — here (100, 50).
    let small = c
        .execute(
            "return document.querySelector('#preview img').getBoundingClientRect().width;",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    click(&c, Locator::Id("focal-enlarge")).await;
    wait_until(
        &c,
        "the enlarged preview",
        &format!(
            "const i = document.querySelector('#preview img');
             return i.complete && i.naturalWidth === 400 && i.getAttribute('src') === '/files/{id}/focus.png'
                 && i.getBoundingClientRect().width > {small} + 50;"
        ),
    )
    .await;
    screenshot(&c, "file-image-enlarged").await;
    let (large_w, large_h) = {
        let v = c
            .execute(
                "const r = document.querySelector('#preview img').getBoundingClientRect(); return [r.width, r.height];",
                vec![],
            )
            .await
            .unwrap();
        (v[0].as_f64().unwrap(), v[1].as_f64().unwrap())
    };
    let preview = c.find(Locator::Css("#preview img")).await.unwrap();
    let click_enlarged = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: preview,
            duration: None,
            x: (large_w * (100.5 / 400.0 - 0.5)).round(),
            y: (large_h * (50.5 / 200.0 - 0.5)).round(),
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    c.perform_actions(click_enlarged).await.unwrap();
    let value = c.execute(point, vec![]).await.unwrap();
    let (x, y) = value[0].as_str().unwrap().split_once(',').unwrap();
    let (x, y): (i64, i64) = (x.parse().unwrap(), y.parse().unwrap());
    assert!((x - 100).abs() <= 2 && (y - 50).abs() <= 2, "{value}");
    click(&c, Locator::Id("focal-enlarge")).await;
    assert_eq!(
        c.execute(
            "return [document.querySelector('.file-page').classList.contains('enlarged'), document.getElementById('focal-enlarge').textContent];",
            vec![],
        )
        .await
        .unwrap(),
        json!([false, "Enlarge"])
    );

    // The listing shows the thumbnail (loaded, not broken) in both views.
    app.upload(&app.admin_token, "notes.txt", b"words", None, false)
        .await;
    for (view, shot) in [("table", "folder-images"), ("thumbs", "folder-images-grid")] {
        c.goto(&app.url(&format!("/admin/folders/unsorted?view={view}")))
            .await
            .unwrap();
        wait_until(
            &c,
            "the thumbnail",
            "const i = document.querySelector('img.thumb'); return !!i && i.complete && i.naturalWidth > 0;",
        )
        .await;
        screenshot(&c, shot).await;
    }
    // So does the reader's own browser (the unsorted uploads are on its top level).
    c.goto(&app.url("/")).await.unwrap();
    wait_until(
        &c,
        "the thumbnail on the reader's page",
        "const i = document.querySelector('li.file img.thumb'); return !!i && i.complete && i.naturalWidth > 0;",
    )
    .await;
    screenshot(&c, "end-user-browser-images").await;

    c.close().await.unwrap();
}

/// The admin and the reader's browser at 390 × 844 (a phone): no page is wider than the
/// screen, and names are not wrapped a letter per line. Screenshots: `phone-*.png`.
#[actix_web::test]
async fn the_pages_work_on_a_phone() {
    let driver = start_driver();
    let app = helpers::spawn_app().await;
    let folder = app
        .folder(&app.admin_token, "Quarterly reports and long names", None)
        .await;
    app.folder(&app.admin_token, "Archive 2025", Some(folder))
        .await;
    let file = app
        .upload(
            &app.admin_token,
            "a rather long file name for a phone screen.txt",
            b"bytes",
            Some(folder),
            false,
        )
        .await;
    let file_id = file["id"].as_i64().unwrap();
    let (reader, _) = app.user("reader").await;
    app.rule(
        json!({"folder_id": folder, "type": "children", "user_id": reader,
        "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"}),
    )
    .await;
    let c = browser(&driver).await;
    c.set_window_size(390, 844).await.unwrap();
    log_in(&c, &app, "admin").await;
    let pages = [
        ("phone-folders", "/admin/folders/".to_owned()),
        ("phone-folder", format!("/admin/folders/{folder}")),
        ("phone-file", format!("/admin/files/{file_id}")),
        ("phone-users", "/admin/users/".to_owned()),
        ("phone-user", format!("/admin/users/{reader}")),
        (
            "phone-folder-permissions",
            format!("/admin/folders/{folder}/permissions"),
        ),
        ("phone-all-rules", "/admin/permissions/".to_owned()),
        ("phone-new-folder", "/admin/folders/new".to_owned()),
    ];
    for (name, path) in pages {
        c.goto(&app.url(&path)).await.unwrap();
        fits_the_screen(&c, &path).await;
        screenshot(&c, name).await;
    }
    c.delete_all_cookies().await.unwrap();
    log_in(&c, &app, "reader").await;
    for (name, path) in [
        ("phone-reader", "/".to_owned()),
        ("phone-reader-folder", format!("/folders/{folder}")),
        ("phone-reader-file", format!("/files/{file_id}")),
    ] {
        c.goto(&app.url(&path)).await.unwrap();
        fits_the_screen(&c, &path).await;
        screenshot(&c, name).await;
    }
    c.close().await.unwrap();
}

/// Nothing is lost by a click, in the browser: a taken name is asked about before sending
/// (replace makes a version, keep both a numbered copy, skip sends nothing), the file page
/// lists versions and restores one, deleting goes to the trash and restoring brings it back;
/// the pages fit a phone.
#[actix_web::test]
async fn duplicates_versions_and_the_trash_in_a_real_browser() {
    let driver = start_driver();
    let app = helpers::spawn_app().await;
    let folder = app.folder(&app.admin_token, "Minutes", None).await;
    let first = app
        .upload(
            &app.admin_token,
            "notes.txt",
            b"first notes\n",
            Some(folder),
            false,
        )
        .await;
    let id = first["id"].as_i64().unwrap();
    let c = browser(&driver).await;
    log_in(&c, &app, "admin").await;
    c.goto(&app.url(&format!("/admin/folders/{folder}")))
        .await
        .unwrap();
    // Without scripts the form asks with a choice; with them, the question comes when needed.
    assert_eq!(
        c.execute(
            "return document.querySelector('.on-conflict').hidden;",
            vec![]
        )
        .await
        .unwrap(),
        json!(true)
    );
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    let send = |content: &'static str| {
        let (c, notes) = (c.clone(), notes.clone());
        async move {
            std::fs::write(&notes, content).unwrap();
            c.find(Locator::Css("#upload input[type=file]"))
                .await
                .unwrap()
                .send_keys(&notes.display().to_string())
                .await
                .unwrap();
            c.wait()
                .for_element(Locator::Css("dialog.conflict[open]"))
                .await
                .unwrap();
        }
    };
    // Replace: the old content becomes a version.
    send("second notes\n").await;
    let question = c
        .find(Locator::Css("dialog.conflict h2"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(question, "“notes.txt” is already here");
    screenshot(&c, "upload-name-taken").await;
    click(&c, Locator::Css("dialog.conflict button[value=version]")).await;
    wait_until(
        &c,
        "the replacement",
        "return [...document.querySelectorAll('.progress-list li.done')].some(li => li.textContent.includes('replaced'));",
    )
    .await;
    let (_, versions) = fetch(&c, &format!("/api/v1/files/{id}/versions")).await;
    let versions: serde_json::Value = serde_json::from_str(&versions).unwrap();
    assert_eq!(versions.as_array().unwrap().len(), 1, "{versions}");
    // Keep both: a numbered copy appears in the listing.
    send("third notes\n").await;
    click(&c, Locator::Css("dialog.conflict button[value=rename]")).await;
    wait_until(
        &c,
        "the numbered copy in the listing",
        "return document.querySelector('form.bulk').textContent.includes('notes (2).txt');",
    )
    .await;
    // Skip: nothing is sent.
    send("fourth notes\n").await;
    click(&c, Locator::Css("dialog.conflict button[value=skip]")).await;
    wait_until(
        &c,
        "the skipped file",
        "return document.querySelectorAll('.progress-list li.skipped').length === 1;",
    )
    .await;
    assert_eq!(
        app.db(|conn| {
            use diesel::prelude::*;
            coffer::db::schema::files::table
                .count()
                .get_result::<i64>(conn)
                .unwrap()
        })
        .await,
        2
    );
    // The file page lists the version; restoring it brings the first notes back.
    c.goto(&app.url(&format!("/admin/files/{id}")))
        .await
        .unwrap();
    screenshot(&c, "file-versions").await;
    submit_and_wait(&c, "#versions tr[data-version] button[type=submit]").await;
    let (status, body) = fetch(&c, &format!("/files/{id}/notes.txt")).await;
    assert_eq!((status, body.as_str()), (200, "first notes\n"));
    // Deleting goes to the trash; restoring brings it back.
    c.goto(&app.url(&format!("/admin/files/{id}/delete")))
        .await
        .unwrap();
    screenshot(&c, "delete-to-trash").await;
    submit_and_wait(&c, "main form button.danger").await;
    assert_eq!(fetch(&c, &format!("/files/{id}/notes.txt")).await.0, 404);
    click(&c, Locator::Css("nav.sections a[href='/admin/trash/']")).await;
    c.wait().for_element(Locator::Css("#trash")).await.unwrap();
    screenshot(&c, "trash").await;
    submit_and_wait(&c, "#trash tr[data-entry] form[action$='/restore'] button").await;
    assert!(c.source().await.unwrap().contains("The trash is empty."));
    assert_eq!(fetch(&c, &format!("/files/{id}/notes.txt")).await.0, 200);
    // On a phone.
    let victim = app
        .upload(
            &app.admin_token,
            "a long name that goes to the trash.txt",
            b"x",
            Some(folder),
            false,
        )
        .await;
    let (status, _) = app
        .request(
            reqwest::Method::DELETE,
            Some(&app.admin_token),
            &format!("/api/v1/files/{}", victim["id"]),
            None,
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::NO_CONTENT);
    c.set_window_size(390, 844).await.unwrap();
    for (name, path) in [
        ("phone-trash", "/admin/trash/".to_owned()),
        ("phone-file-versions", format!("/admin/files/{id}")),
        ("phone-reader-file-versions", format!("/files/{id}")),
        (
            "phone-folder-usage",
            format!("/admin/folders/{folder}/edit"),
        ),
    ] {
        c.goto(&app.url(&path)).await.unwrap();
        fits_the_screen(&c, &path).await;
        screenshot(&c, name).await;
    }
    c.close().await.unwrap();
}

/// A reader with add-children uploads from the reader's browser (the rows appear as the
/// uploads finish) and creates a subfolder; one without it sees no upload control.
#[actix_web::test]
async fn readers_upload_where_they_may_add() {
    let driver = start_driver();
    let app = helpers::spawn_app().await;
    let inbox = app.folder(&app.admin_token, "Shared inbox", None).await;
    let (rita, _) = app.user("rita").await;
    let (sam, _) = app.user("sam").await;
    app.rule(
        json!({"folder_id": inbox, "type": "children", "user_id": rita,
        "can_read": "allow", "can_edit": "inherit", "can_add_children": "allow"}),
    )
    .await;
    app.rule(
        json!({"folder_id": inbox, "type": "children", "user_id": sam,
        "can_read": "allow", "can_edit": "inherit", "can_add_children": "inherit"}),
    )
    .await;
    let c = browser(&driver).await;
    log_in(&c, &app, "rita").await;
    c.goto(&app.url(&format!("/folders/{inbox}")))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (dir.path().join("scan 1.txt"), dir.path().join("scan 2.txt"));
    std::fs::write(&one, "one\n").unwrap();
    std::fs::write(&two, "two\n").unwrap();
    c.find(Locator::Css("#upload input[type=file]"))
        .await
        .unwrap()
        .send_keys(&format!("{}\n{}", one.display(), two.display()))
        .await
        .unwrap();
    wait_until(
        &c,
        "both uploads done and listed",
        "return document.querySelectorAll('.progress-list li.done').length === 2
             && document.querySelector('#listing').textContent.includes('scan 2.txt')
             && !document.querySelector('#listing .empty');",
    )
    .await;
    screenshot(&c, "reader-upload").await;
    c.find(Locator::Id("new-folder-name"))
        .await
        .unwrap()
        .send_keys("Receipts")
        .await
        .unwrap();
    submit_and_wait(&c, "form.new-folder button[type=submit]").await;
    assert!(
        c.source()
            .await
            .unwrap()
            .contains("Folder “Receipts” created.")
    );
    let rows = app
        .db(|conn| {
            use diesel::prelude::*;
            coffer::db::schema::files::table
                .select(coffer::db::schema::files::owner_id)
                .load::<Option<i64>>(conn)
                .unwrap()
        })
        .await;
    assert_eq!(rows, vec![Some(rita), Some(rita)]);
    c.set_window_size(390, 844).await.unwrap();
    let path = format!("/folders/{inbox}");
    c.goto(&app.url(&path)).await.unwrap();
    fits_the_screen(&c, &path).await;
    screenshot(&c, "phone-reader-upload").await;
    c.delete_all_cookies().await.unwrap();
    log_in(&c, &app, "sam").await;
    c.goto(&app.url(&path)).await.unwrap();
    assert!(
        c.find(Locator::Id("upload")).await.is_err(),
        "no upload control for sam"
    );
    c.close().await.unwrap();
}

/// A share link as its visitor sees it, in a browser without any session: a password, a
/// file, a folder's tree and a drop with per-file progress; at phone size too.
#[actix_web::test]
async fn share_links_for_visitors_in_a_real_browser() {
    let driver = start_driver();
    let app = helpers::spawn_app().await;
    let admin = app.admin_token.clone();
    let photos = app.folder(&admin, "Holiday photos", None).await;
    let day = app.folder(&admin, "Day 1", Some(photos)).await;
    app.upload(&admin, "beach.txt", b"sand", Some(day), false)
        .await;
    let contract = app
        .upload(&admin, "contract.txt", b"the contract", None, false)
        .await;
    let inbox = app.folder(&admin, "Inbox", None).await;
    let link = |body: serde_json::Value| {
        let app = &app;
        async move {
            let (status, made) = app
                .request(
                    reqwest::Method::POST,
                    Some(&app.admin_token),
                    "/api/v1/shares",
                    Some(body),
                )
                .await;
            assert_eq!(status, reqwest::StatusCode::CREATED, "{made}");
            made["url"].as_str().unwrap().to_owned()
        }
    };
    let file_url = link(json!({"file_id": contract["id"], "password": "open sesame please"})).await;
    let folder_url = link(json!({"folder_id": photos, "label": "Photos from the trip"})).await;
    let drop_url = link(json!({"folder_id": inbox, "kind": "upload"})).await;
    let c = browser(&driver).await;
    c.goto(&app.url(&file_url)).await.unwrap();
    screenshot(&c, "share-password").await;
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys("open sesame please")
        .await
        .unwrap();
    click(&c, Locator::Css("main form button[type=submit]")).await;
    c.wait()
        .for_element(Locator::Css(".shared-file a.button"))
        .await
        .unwrap();
    screenshot(&c, "share-file").await;
    let (status, body) = fetch(&c, &format!("{file_url}/download")).await;
    assert_eq!((status, body.as_str()), (200, "the contract"));
    c.goto(&app.url(&folder_url)).await.unwrap();
    click(&c, Locator::LinkText("Day 1")).await;
    c.wait()
        .for_element(Locator::Css(".listing a[href*='/files/']"))
        .await
        .unwrap();
    assert!(c.source().await.unwrap().contains("beach.txt"));
    screenshot(&c, "share-folder").await;
    c.goto(&app.url(&drop_url)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scan = dir.path().join("signed form.txt");
    std::fs::write(&scan, "signed\n").unwrap();
    c.find(Locator::Css("#upload input[type=file]"))
        .await
        .unwrap()
        .send_keys(&scan.display().to_string())
        .await
        .unwrap();
    wait_until(
        &c,
        "the dropped file sent",
        "return document.querySelectorAll('.progress-list li.done').length === 1;",
    )
    .await;
    screenshot(&c, "share-drop").await;
    let (_, children) = app
        .request(
            reqwest::Method::GET,
            Some(&admin),
            &format!("/api/v1/folders/{inbox}/children"),
            None,
        )
        .await;
    assert_eq!(children["files"][0]["original_filename"], "signed form.txt");
    c.set_window_size(390, 844).await.unwrap();
    for (name, path) in [
        ("phone-share-folder", format!("{folder_url}/folders/{day}")),
        ("phone-share-drop", drop_url.clone()),
        ("phone-share-file", file_url.clone()),
    ] {
        c.goto(&app.url(&path)).await.unwrap();
        fits_the_screen(&c, &path).await;
        screenshot(&c, name).await;
    }
    c.close().await.unwrap();
}

/// The page scrolls only vertically, and no link in a listing is squeezed: at least 5 px
/// per character up to 120 px (a name wrapped a letter per line is a few pixels wide).
async fn fits_the_screen(c: &Client, path: &str) {
    let v = c
        .execute(
            "const wide = document.documentElement.scrollWidth;
             const narrow = [...document.querySelectorAll('.listing a, table a')]
                 .filter(a => a.offsetParent !== null && a.textContent.trim().length > 3)
                 .map(a => [a.textContent.trim(), a.getBoundingClientRect().width])
                 .filter(([t, w]) => w < Math.min(120, 5 * t.length));
             const over = [...document.querySelectorAll('body *')]
                 .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                 .slice(-3)
                 .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));
             return [wide, window.innerWidth, narrow, over];",
            vec![],
        )
        .await
        .unwrap();
    let (wide, screen) = (v[0].as_f64().unwrap(), v[1].as_f64().unwrap());
    assert!(
        wide <= screen,
        "{path}: {wide} px wide on a {screen} px screen, past its edge: {}",
        v[3]
    );
    assert_eq!(v[2], json!([]), "{path}: names squeezed");
}
